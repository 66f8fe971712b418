"""The HTML report of a build-out campaign: capex over time, funding by source and the gap,
sensitivity of the total to $/GW and GPU prices, each party's IRR and stresses, host sites."""

from __future__ import annotations

from typing import Any

import jinja2
import plotly.graph_objects as go

from ..buildout import Buildout
from .plan import PlotlyDivs

_PAGE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hashpivot buildout — {{ name }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.kpi { display: flex; gap: 1.5rem; flex-wrap: wrap; }
.kpi div { background: #f4f6f8; padding: .6rem 1rem; border-radius: 6px; }
.kpi b { display: block; font-size: 1.3rem; }
.note { color: #555; font-size: .9rem; }
</style></head><body>
<h1>Build-out: {{ name }}</h1>
<p class="note">{{ gw }} GW from {{ start }} over {{ horizon }} years; capex preset {{ preset }};
{{ scenarios }} scenarios of rent and utilisation, seed {{ seed }}.</p>
<div class="kpi">{% for k, v in kpis %}<div>{{ k }}<b>{{ v }}</b></div>{% endfor %}</div>
<h2>Capex over time</h2>{{ capex }}
<h2>Funding by source and the gap</h2>{{ funding }}
<table><tr><th>source</th><th>kind</th><th>total</th><th>share of uses</th></tr>
{% for r in sources %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Circular exposure</h2>
<p class="note">Share of each vendor's campaign revenue (compute, networking, refreshes) funded by
its own investment or warrants.</p>
<table><tr><th>vendor</th><th>revenue</th><th>self-funded</th><th>share</th></tr>
{% for r in circular %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Sensitivity of the total</h2>{{ sensitivity }}
<h2>Returns by party</h2>
<p class="note">Annual IRR over the scenarios (P5 / P50 / P95; "—" where the cash flows never
change sign, e.g. a vendor whose margin on sales exceeds what it invests), NPV at
{{ rate }}, and the share of scenarios in which the party loses money.</p>
<table><tr><th>party</th><th>IRR P5</th><th>IRR P50</th><th>IRR P95</th><th>NPV P50</th>
<th>P(loss)</th></tr>
{% for r in parties %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
{{ irr }}
<h2>When rents or utilisation fall</h2>{{ stress }}
{% if hosts %}<h2>Mining sites that could host part of the campaign</h2>
<p class="note">{{ hosts_note }}</p>
<table><tr><th>site</th><th>jurisdiction</th><th>IT MW</th><th>retrofit capex</th>
<th>greenfield capex</th></tr>
{% for r in hosts %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
{% endif %}
<h2>By year</h2>
<table><tr><th>year</th><th>GW deployed</th><th>GW energised</th><th>capex</th><th>refresh</th>
<th>electricity</th><th>opex</th><th>gap</th></tr>
{% for r in years %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
</body></html>
"""
)


def _b(x: float | None) -> str:
    """Money in billions: $800.0B."""
    if x is None:
        return "—"
    if abs(x) < 5e7:  # rounding noise of sums: shown as zero, never as "-$0.0B"
        x = 0.0
    return f"-${-x / 1e9:,.1f}B" if x < 0 else f"${x / 1e9:,.1f}B"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def render(cfg: Any, b: Buildout, sens: dict[str, list[float]]) -> str:
    """The build-out report: one self-contained page (Plotly inlined once).

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.
    b : Buildout
        Its results (from :func:`hashpivot.buildout.run`).
    sens : dict of str to list of float
        The capex and funding-gap sensitivities [USD].

    Returns
    -------
    str
        The HTML page.
    """
    s = b.summary()
    years = s["by_year"]
    x = [str(y["year"]) for y in years]
    div = PlotlyDivs(
        height=420, margin={"t": 40, "l": 70, "r": 20, "b": 40}, legend={"orientation": "h"}
    )

    years_idx = b.months.year.to_numpy()
    capex = go.Figure()
    for comp, series in b.capex_by_component.items():
        capex.add_bar(x=x, y=[float(series[years_idx == int(y)].sum()) for y in x], name=comp)
    capex.update_layout(barmode="stack", title="Capex by component and year (USD)")
    funding = go.Figure()
    for name in b.sources:
        funding.add_bar(x=x, y=[y["funding_by_source_usd"][name] for y in years], name=name)
    funding.add_bar(
        x=x, y=[y["funding_gap_usd"] for y in years], name="gap (unfunded)", marker_color="#c0392b"
    )
    funding.update_layout(barmode="stack", title="Sources of funds and the gap by year (USD)")
    sensitivity = go.Figure()
    pct = [f"{v:.0%}" for v in sens["scales"]]
    sensitivity.add_scatter(x=pct, y=sens["capex_total_usd_vs_capex_per_gw"], name="all of $/GW")
    sensitivity.add_scatter(x=pct, y=sens["capex_total_usd_vs_gpu_price"], name="GPU price only")
    sensitivity.add_scatter(
        x=pct,
        y=sens["funding_gap_usd_vs_capex_per_gw"],
        name="funding gap (all of $/GW)",
        line={"dash": "dot"},
    )
    sensitivity.update_layout(
        title="Build capex and gap against prices (share of the preset)",
        xaxis_title="price level",
        yaxis_title="USD",
    )
    names = [n for n, p in b.parties.items() if p["irr"]["p50"] is not None]
    med = [b.parties[n]["irr"]["p50"] for n in names]
    irr = go.Figure(
        go.Bar(
            x=names,
            y=[m if m is not None else 0.0 for m in med],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [
                    (b.parties[n]["irr"]["p95"] or 0.0) - (m or 0.0)
                    for n, m in zip(names, med, strict=True)
                ],
                "arrayminus": [
                    (m or 0.0) - (b.parties[n]["irr"]["p5"] or 0.0)
                    for n, m in zip(names, med, strict=True)
                ],
            },
        )
    )
    irr.update_layout(title="IRR by party: P50 with P5–P95", yaxis_tickformat=".0%")
    stress = go.Figure()
    for n, v in b.stress["npv_usd_by_rent"].items():
        stress.add_scatter(x=[f"{f:.0%}" for f in b.stress["rent_factor"]], y=v, name=n)
    stress.update_layout(
        title="NPV by party as rents fall (share of the base rent)", yaxis_title="USD"
    )
    uses = s["uses_total_usd"]
    kind = {src.name: src.kind for src in cfg.financing}
    sources = [(k, kind[k], _b(v), _pct(v / uses)) for k, v in s["funding_by_source_usd"].items()]
    sources.append(("gap", "unfunded", _b(s["funding_gap_usd"]), _pct(s["funding_gap_usd"] / uses)))
    hosts = s["host_sites"]
    return _PAGE.render(
        name=cfg.name,
        gw=f"{s['gw_total']:g}",
        start=cfg.start,
        horizon=cfg.horizon_years,
        preset=cfg.capex_preset,
        scenarios=cfg.scenarios,
        seed=cfg.seed,
        rate=f"{cfg.discount_rate_annual:.0%}",
        kpis=[
            ("GW", f"{s['gw_total']:g}"),
            ("build capex", _b(s["capex_total_usd"])),
            ("GPU refreshes", _b(s["refresh_capex_usd"])),
            ("uses", _b(uses)),
            ("funding gap", _b(s["funding_gap_usd"])),
        ],
        capex=div(capex),
        funding=div(funding),
        sensitivity=div(sensitivity),
        irr=div(irr),
        stress=div(stress),
        sources=sources,
        circular=[
            (
                v,
                _b(c["revenue_usd"]),
                _b(c["self_funded_usd"]),
                _pct(c["share_of_revenue_self_funded"]),
            )
            for v, c in b.circular.items()
        ],
        parties=[
            (
                n,
                _pct(p["irr"]["p5"]),
                _pct(p["irr"]["p50"]),
                _pct(p["irr"]["p95"]),
                _b(p["npv_usd"]["p50"]),
                _pct(p["p_loss"]),
            )
            for n, p in b.parties.items()
        ],
        hosts=[
            (
                h["site"],
                h["jurisdiction"],
                f"{h['it_mw']:,.0f}",
                _b(h["retrofit_capex_usd"]),
                _b(h["greenfield_capex_usd"]),
            )
            for h in hosts.get("sites", [])
        ],
        hosts_note=(
            f"{hosts['it_mw_total']:,.0f} MW of IT ({hosts['share_of_campaign']:.1%} of "
            f"the campaign) energised in {hosts['retrofit_lead_months']} months instead "
            f"of {hosts['greenfield_lead_months']}, for "
            f"{_b(hosts['retrofit_capex_usd'])} against "
            f"{_b(hosts['greenfield_capex_usd'])} greenfield."
        )
        if hosts
        else "",
        years=[
            (
                y["year"],
                f"{y['gw_deployed']:.2f}",
                f"{y['gw_energised_end']:.2f}",
                _b(y["capex_usd"]),
                _b(y["refresh_usd"]),
                _b(y["electricity_usd"]),
                _b(y["opex_usd"]),
                _b(y["funding_gap_usd"]),
            )
            for y in years
        ],
    )
