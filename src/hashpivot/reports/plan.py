"""Self-contained HTML report of a plan run (Plotly charts, one file, no network needed to view).

Charts: fan charts of BTC price, hashprice, network hashrate and company cash; NPV histogram;
P(cumulative cash < 0) by month; per-site cost stack per BTC; tornado of the main drivers; and a
table of assumptions with their sources next to the model's calibration.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ..data.power_prices import HourlyPrices
from ..dispatch.lp import DispatchResult
from ..engine.results import (
    DECISION_COLUMNS,
    PlanResult,
    decision_site_rows,
    portfolio_rows,
    where_each_mw_goes,
)
from ..fmt import usd_compact as _usd


def _template() -> jinja2.Template:
    text = (
        resources.files("hashpivot.reports").joinpath("templates", "report.html").read_text("utf-8")
    )
    return jinja2.Template(text, autoescape=True)


#: The style of the single-page reports (backtest, sweep): one column, plain tables.
PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1150px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
td, th { padding: 3px 9px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: .9rem; }
"""


class PlotlyDivs:
    """Renders figures as HTML divs for one page: Plotly's JavaScript is inlined with the first
    figure only. ``layout`` is applied to every figure first."""

    def __init__(self, **layout: Any) -> None:
        self.first = True
        self.layout = layout

    def __call__(self, fig: go.Figure) -> jinja2.utils.markupsafe.Markup:
        if self.layout:
            fig.update_layout(**self.layout)
        html = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=self.first,
            config={"displaylogo": False, "responsive": True},
        )
        self.first = False
        return jinja2.utils.markupsafe.Markup(html)


def _fan_figure(name: str, fan: dict[str, list[float]], x: list[str], log: bool) -> go.Figure:
    fig = go.Figure()
    for lo, hi, alpha in (("p5", "p95", 0.15), ("p25", "p75", 0.3)):
        fig.add_trace(
            go.Scatter(x=x, y=fan[hi], line={"width": 0}, showlegend=False, hoverinfo="skip")
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=fan[lo],
                fill="tonexty",
                line={"width": 0},
                fillcolor=f"rgba(31,119,180,{alpha})",
                name=f"{lo}–{hi}",
            )
        )
    fig.add_trace(go.Scatter(x=x, y=fan["p50"], line={"color": "rgb(31,119,180)"}, name="median"))
    fig.update_layout(
        title=name,
        margin={"t": 40, "l": 60, "r": 10, "b": 40},
        height=360,
        legend={"orientation": "h"},
    )
    if log:
        fig.update_yaxes(type="log")
    return fig


#: Tornado colours: red is unfavourable to the company, green favourable.
ADVERSE_COLOUR, FAVOURABLE_COLOUR = "#d62728", "#2ca02c"


def npv_histogram(values: npt.NDArray[np.float64], bins: int = 60) -> dict[str, Any]:
    """Histogram of per-path NPVs on the P1–P99 range.

    A few paths at $20B must not squash the rest into one bar: bins cover P1–P99, and how many
    paths lie below and above the range is counted. Bins only, never the raw values.

    Parameters
    ----------
    values : numpy.ndarray of float
        NPV per path [USD].
    bins : int
        Number of bins [-].

    Returns
    -------
    dict
        ``centres_usd`` and ``width_usd`` [USD], ``counts``, ``below`` and ``above`` (paths
        outside the range) and the range ``p1_usd``, ``p99_usd`` [USD].
    """
    v = np.asarray(values, dtype=np.float64)
    lo, hi = np.percentile(v, [1, 99])
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v[(v >= lo) & (v <= hi)], bins=bins, range=(lo, hi))
    return {
        "centres_usd": ((edges[:-1] + edges[1:]) / 2).tolist(),
        "width_usd": float(edges[1] - edges[0]),
        "counts": counts.tolist(),
        "below": int((v < lo).sum()),
        "above": int((v > hi).sum()),
        "p1_usd": float(lo),
        "p99_usd": float(hi),
    }


def build_figures(result: PlanResult) -> dict[str, Any]:
    """The report's Plotly figures (the dashboard draws its own from ``/api/runs/{id}/series``).

    Parameters
    ----------
    result : PlanResult
        A finished run.

    Returns
    -------
    dict
        Plotly figures by name: ``fans`` (a list), ``npv_hist``, ``p_negative``, ``cost_stack``,
        ``tornado`` and ``decisions``.
    """
    months = pd.date_range(result.start_month + "-01", periods=result.n_months, freq="MS")
    x = [m.strftime("%Y-%m") for m in months]
    titles = {
        "btc_price_usd": ("BTC price (USD, monthly average)", True),
        "hashprice_usd_per_ph_day": ("Hashprice (USD per PH/s per day)", True),
        "network_hashrate_eh_s": ("Network hashrate (EH/s)", True),
        "company_cash_usd": ("Company cumulative cash (USD)", False),
    }
    figs: dict[str, Any] = {
        "fans": [
            _fan_figure(t, result.fans[k].to_dict(), x, log)
            for k, (t, log) in titles.items()
            if k in result.fans
        ]
    }
    hist = npv_histogram(result.npv_values)
    npv = go.Figure(
        go.Bar(
            x=hist["centres_usd"],
            y=hist["counts"],
            width=hist["width_usd"],
            name="NPV",
            marker={"line": {"width": 0}},
        )
    )
    for key, dash in (("p5", "dot"), ("p50", "solid"), ("p95", "dot")):
        npv.add_vline(x=getattr(result.npv, key), line_dash=dash, annotation_text=key)
    outside = hist["below"] + hist["above"]
    npv.update_layout(
        title="NPV distribution (USD), P1–P99"
        + (
            f": {hist['below']:,} paths below and {hist['above']:,} above lie outside the axis"
            if outside
            else ""
        ),
        yaxis_title="paths",
        height=360,
        bargap=0.02,
        margin={"t": 40, "l": 60, "r": 10, "b": 40},
    )
    figs["npv_hist"] = npv
    pn = go.Figure()
    pn.add_trace(go.Scatter(x=x, y=result.p_cash_negative, name="at that month"))
    pn.add_trace(go.Scatter(x=x, y=result.p_cash_negative_ever, name="at any month so far"))
    pn.update_layout(
        title="P(cumulative cash < 0)",
        height=360,
        yaxis={"range": [0, 1]},
        margin={"t": 40, "l": 60, "r": 10, "b": 40},
        legend={"orientation": "h"},
    )
    figs["p_negative"] = pn
    names = [s.name for s in result.sites]
    stack = go.Figure()
    for key, label in (
        ("energy", "electricity"),
        ("site_opex", "site opex"),
        ("pool_fees", "pool fees"),
        ("sga_cash", "cash SG&A"),
        ("depreciation", "depreciation"),
        ("stock_comp", "stock comp"),
        ("interest", "interest"),
    ):
        stack.add_trace(
            go.Bar(x=names, y=[s.stack_usd_per_btc[key] for s in result.sites], name=label)
        )
    stack.update_layout(
        barmode="stack",
        height=420,
        yaxis_title="USD per BTC",
        margin={"t": 20, "l": 60, "r": 10, "b": 120},
    )
    figs["cost_stack"] = stack
    tor = go.Figure()
    if result.tornado:
        base = result.tornado.rows[0].base_npv_usd
        drivers = [r.driver for r in result.tornado][::-1]
        lows = [r.low_npv_usd - base for r in result.tornado][::-1]
        highs = [r.high_npv_usd - base for r in result.tornado][::-1]
        tor.add_trace(
            go.Bar(
                y=drivers,
                x=lows,
                base=base,
                orientation="h",
                name="adverse",
                marker_color=ADVERSE_COLOUR,
            )
        )
        tor.add_trace(
            go.Bar(
                y=drivers,
                x=highs,
                base=base,
                orientation="h",
                name="favourable",
                marker_color=FAVOURABLE_COLOUR,
            )
        )
        tor.add_vline(x=base, line_dash="dash", annotation_text="base mean NPV")
    tor.update_layout(
        barmode="overlay",
        height=360,
        xaxis_title="mean NPV (USD)",
        margin={"t": 20, "l": 220, "r": 10, "b": 40},
    )
    figs["tornado"] = tor
    figs["decisions"] = _decision_figures(result, x)
    figs["default"] = _default_figures(result, x)
    return figs


def _default_figures(result: PlanResult, x: list[str]) -> list[go.Figure]:
    """P(default) by month per scenario, time to default, and the worst paths' waterfall."""
    d = result.default
    if d is None:
        return []
    names = {
        "as_configured": "as configured",
        "no_sanctions": "without sanctions",
        "relocation_allowed": "relocation allowed",
    }
    by = go.Figure()
    for key, series in d.p_default_by_month.items():
        by.add_trace(go.Scatter(x=x, y=series, name=names.get(key, key)))
    by.update_layout(
        title="P(default) by month",
        height=360,
        yaxis={"range": [0, 1]},
        legend={"orientation": "h"},
        margin={"t": 40, "l": 60, "r": 10, "b": 40},
    )
    counts = np.asarray(d.time_to_default_counts, dtype=float)
    ttd = go.Figure(go.Bar(x=x, y=counts / max(result.n_paths, 1)))
    ttd.update_layout(
        title="Month of default (share of paths)",
        height=360,
        margin={"t": 40, "l": 60, "r": 10, "b": 40},
    )
    steps = d.worst_paths_waterfall_usd
    water = go.Figure(
        go.Waterfall(
            x=[label for label, _ in steps],
            y=[v for _, v in steps],
            measure=["absolute"] + ["relative"] * (len(steps) - 1),
            text=[_usd(v) for _, v in steps],
            textposition="outside",
        )
    )
    water.update_layout(
        title="What sank the company: mean flows on the worst 5% of paths",
        height=420,
        margin={"t": 40, "l": 60, "r": 10, "b": 80},
    )
    return [by, ttd, water]


def _decision_figures(result: PlanResult, x: list[str]) -> list[tuple[str, list[go.Figure]]]:
    """For each site with an option to convert: NPV by policy, the month it converts, and the
    exercise boundary."""
    out = []
    for site in result.sites:
        conv = site.conversion
        if conv is None or conv.npv_usd_by_policy is None:
            continue
        by = conv.npv_usd_by_policy
        names = ["never", "now", f"fixed (month {by['fixed_date_month']})", "optimal (LSM)"]
        values = [by["never"], by["now"], by["fixed_date"], by["optimal"]]
        policy = go.Figure(
            go.Bar(x=names, y=values, text=[_usd(v) for v in values], textposition="auto")
        )
        policy.update_layout(
            title="Site NPV by policy (USD)",
            height=360,
            margin={"t": 40, "l": 60, "r": 10, "b": 40},
        )
        counts = conv.conversion_month_counts
        total = (
            sum(counts) / (1 - conv.share_never_converted)
            if conv.share_never_converted < 1
            else max(sum(counts), 1)
        )
        when = go.Figure(go.Bar(x=x, y=[c / total for c in counts], name="converts that month"))
        when.update_layout(
            title=f"Month conversion starts (never: {conv.share_never_converted:.1%})",
            height=360,
            yaxis_title="share of paths",
            margin={"t": 40, "l": 60, "r": 10, "b": 40},
        )
        boundary = list(conv.exercise_boundary_hashprice_usd_per_ph_day or ())
        edge = go.Figure(
            go.Scatter(
                x=x, y=boundary, mode="lines+markers", connectgaps=False, name="convert below"
            )
        )
        edge.update_layout(
            title="Exercise boundary: convert below this hashprice",
            yaxis_title="USD per PH/s per day",
            height=360,
            margin={"t": 40, "l": 60, "r": 10, "b": 40},
        )
        out.append((site.name, [policy, when, edge]))
    return out


def decision_map(decision: dict[str, Any]) -> go.Figure:
    """Sites × alternatives, coloured by expected NPV per MW against keeping the site as it is
    [USD/MW]; the choice marked ★, ruled-out alternatives marked ✕.

    Parameters
    ----------
    decision : dict
        The ``decision`` of a run's summary.

    Returns
    -------
    plotly.graph_objects.Figure
        The heat map.
    """
    sites = [d["site"] for d in decision["sites"]]
    names: list[str] = []
    for d in decision["sites"]:
        for a in d["alternatives"]:
            if a["name"] not in names:
                names.append(a["name"])
    z = np.full((len(sites), len(names)), np.nan)
    text = [["" for _ in names] for _ in sites]
    for i, d in enumerate(decision["sites"]):
        for a in d["alternatives"]:
            j = names.index(a["name"])
            if a["ruled_out"]:
                text[i][j] = "✕"
                continue
            z[i, j] = (a["npv_vs_keep_usd"] or 0.0) / d["mw"]
            mark = "★ " if a["name"] == d["action"] else ""
            text[i][j] = mark + _usd(z[i, j])
    lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=sites,
            text=text,
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0.0,
            zmin=-lim,
            zmax=lim,
            colorbar={"title": "USD/MW vs keep"},
            hovertemplate="%{y} · %{x}: %{z:,.0f} USD/MW against keeping<extra></extra>",
        )
    )
    fig.update_layout(
        title="Expected NPV per MW against keeping the site (★ chosen, ✕ ruled out)",
        height=max(320, 24 * len(sites) + 140),
        yaxis={"autorange": "reversed"},
        margin={"t": 50, "l": 120, "r": 10, "b": 80},
    )
    return fig


def frontier_figure(decision: dict[str, Any]) -> go.Figure:
    """The efficient frontier: expected portfolio NPV against its CVaR, with the decided, the
    keep-everything and the greedy portfolios marked.

    Parameters
    ----------
    decision : dict
        The ``decision`` of a run's summary.

    Returns
    -------
    plotly.graph_objects.Figure
        The frontier.
    """
    front = decision["frontier"]
    alpha = f"CVaR{(1 - decision['portfolio']['cvar_level']) * 100:g}%"
    fig = go.Figure(
        go.Scatter(
            x=[p["cvar_usd"] for p in front],
            y=[p["expected_npv_usd"] for p in front],
            mode="lines+markers",
            name="efficient frontier",
            text=[
                "P(default) n/a" if p["p_default"] is None else f"P(default) {p['p_default']:.1%}"
                for p in front
            ],
        )
    )
    for key, label, symbol in (
        ("portfolio", "decided", "star"),
        ("keep", "every site kept", "x"),
        ("greedy", "each site's own best", "diamond"),
    ):
        q = decision[key]
        fig.add_trace(
            go.Scatter(
                x=[q["cvar_usd"]],
                y=[q["expected_npv_usd"]],
                mode="markers",
                marker={"symbol": symbol, "size": 14},
                name=label,
            )
        )
    fig.update_layout(
        title=f"Expected NPV against {alpha} of portfolio NPV (USD)",
        xaxis_title=f"{alpha} (mean of the worst {(1 - decision['portfolio']['cvar_level']):.0%})",
        yaxis_title="expected NPV",
        height=420,
        margin={"t": 50, "l": 70, "r": 10, "b": 60},
    )
    return fig


def render(result: PlanResult, run_id: str, description: str = "") -> str:
    """The report as one HTML string with Plotly's JavaScript inlined once.

    Parameters
    ----------
    result : PlanResult
        A finished run.
    run_id : str
        The run's id, shown in the report.
    description : str
        The plan's description, shown under the title.

    Returns
    -------
    str
        A self-contained HTML page.
    """
    figs = build_figures(result)
    div = PlotlyDivs()

    # the decision opens the report: its charts come first (the first carries Plotly's script)
    decision = result.summary().get("decision")
    decision_block = None
    if decision is not None:
        portfolio = [
            ("where each megawatt goes", where_each_mw_goes(decision)),
            *portfolio_rows(decision),
            ("basis", decision["basis"]),
        ]
        decision_block = {
            "columns": DECISION_COLUMNS,
            "rows": decision_site_rows(decision, result.start_month),
            "portfolio": portfolio,
            "map": div(decision_map(decision)),
            "frontier": div(frontier_figure(decision)) if decision["frontier"] else None,
            "scenarios": f"{decision['scenarios']:,}",
        }
    fans = [div(f) for f in figs["fans"]]
    cal = result.calibration
    hr = cal["hashrate_fit"]
    calibration = [
        (
            "simulation starts",
            f"{cal['start']} from BTC ${cal['price0_usd']:,.0f}, "
            f"{cal['hashrate0_eh_s']:,.0f} EH/s, height {cal['height0']:,}",
        ),
        (
            "BTC price model",
            f"{cal['btc_model']}: μ = {cal['mu_annual']:.3f}/yr, σ = {cal['sigma_annual']:.3f}/√yr",
        ),
        (
            "hashrate response",
            f"Δlog H = {hr['a']:.4f} + {hr['b']:.4f}·log hashprice(t−1) + "
            f"{hr['c']:.4f}·years; σ = {hr['sigma']:.4f}/month, R² = {hr['r2']:.3f}, n = {hr['n']}",
        ),
        (
            "fees",
            f"BTC per block, median {cal['fees_fit']['median_btc_per_block']:.4f} BTC (AR(1) in "
            "logs, independent of the subsidy), "
            f"sd(log) {cal['fees_fit']['sd_log']:.3f}, AR(1) φ {cal['fees_fit']['phi']:.3f}",
        ),
        ("shock correlation (btc, hashrate, fees)", str(cal["correlation_btc_hashrate_fees"])),
        ("antithetic variates", str(cal["antithetic"])),
    ]
    assumptions = result.assumptions or [
        {"what": "(none listed in the plan)", "value": "", "source": ""}
    ]
    summary = result.summary()
    m = summary["market_assumptions"]
    market = [
        (
            "market start",
            f"{m.get('start', m['start_month'])}, from data to {m['data_end']}: BTC "
            f"{_usd(m['start_btc_price_usd'])}, {m['start_hashrate_eh_s']:,.0f} EH/s",
        ),
        (
            "BTC drift and volatility",
            f"μ {m['mu_annual']:.1%}/yr, σ {m['sigma_annual']:.1%}/√yr — {m['drift_rule_text']}",
        ),
        ("backtest of this market model", m.get("backtest_text", "(not recorded)")),
        ("discount rate", f"{m['discount_rate_annual']:.1%}/yr (monthly compounding)"),
        ("NPV is", summary["npv_definition"]),
    ]
    kpis = [
        ("NPV mean", _usd(result.npv.mean)),
        (
            "NPV P5 / P50 / P95",
            " / ".join(_usd(getattr(result.npv, k)) for k in ("p5", "p50", "p95")),
        ),
        ("P(cash < 0) by horizon", f"{result.p_cash_negative_ever[-1]:.1%}"),
        ("sites", str(len(result.sites))),
    ]
    return _template().render(
        decision=decision_block,
        title=result.plan_name,
        description=description,
        run_id=run_id,
        paths=f"{result.n_paths:,}",
        months=result.n_months,
        start=result.start_month,
        seed=result.seed,
        version=result.version,
        kpis=kpis,
        market=market,
        flags=m["flags"],
        fans=fans,
        npv_hist=div(figs["npv_hist"]),
        p_negative=div(figs["p_negative"]),
        cost_stack=div(figs["cost_stack"]),
        tornado=div(figs["tornado"]),
        default_charts=[div(f) for f in figs["default"]],
        default_summary=_default_summary(result),
        decisions=[(name, [div(f) for f in group]) for name, group in figs["decisions"]],
        assumptions=assumptions,
        calibration=calibration,
    )


def _default_summary(result: PlanResult) -> list[tuple[str, str]]:
    if result.default is None:
        return []
    rows = []
    for name, p in result.summary().get("p_default_by_scenario", {}).items():
        rows.append((name.replace("_", " "), " / ".join(f"{k}: {v:.1%}" for k, v in p.items())))
    rows.append(("expected shortfall at default", _usd(result.default.expected_shortfall_usd)))
    return rows


def dispatch_figure(result: DispatchResult, prices: HourlyPrices) -> go.Figure:
    """Hourly price and mining value against mined load and reserve.

    Parameters
    ----------
    result : DispatchResult
        A solved dispatch.
    prices : HourlyPrices
        The prices it was solved on (their hours label the x axis).

    Returns
    -------
    plotly.graph_objects.Figure
        Load and reserve [MW] on the left axis, price and mining value [USD/MWh] on the right.
    """
    x = [t.strftime("%Y-%m-%d %H:%M") for t in prices.index_local]
    # Load on the base axis, prices on the overlaying one: Plotly draws an overlaying axis's
    # traces above the base axis's, so the filled load never hides the price line.
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=result.mined_mw,
            name="mining load (MW)",
            fill="tozeroy",
            fillcolor="rgba(44,160,44,0.25)",
            line={"width": 0.5, "color": "rgba(44,160,44,0.8)"},
        )
    )
    if result.reserve_mw.any():
        fig.add_trace(
            go.Scatter(
                x=x,
                y=result.reserve_mw,
                name="reserve offered (MW)",
                line={"width": 0.5, "color": "#9467bd"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=result.prices_usd_per_mwh,
            name="price (USD/MWh)",
            yaxis="y2",
            line={"width": 1, "color": "#1f77b4"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=result.value_usd_per_mwh,
            name="mining value (USD/MWh)",
            yaxis="y2",
            line={"width": 1, "dash": "dot", "color": "#d62728"},
        )
    )
    fig.update_layout(
        title="Hourly price against load",
        height=480,
        legend={"orientation": "h"},
        yaxis={"title": "MW", "rangemode": "tozero"},
        yaxis2={
            "title": "USD/MWh",
            "overlaying": "y",
            "side": "right",
            "type": "log" if result.prices_usd_per_mwh.min() > 0 else "linear",
        },
        margin={"t": 40, "l": 60, "r": 60, "b": 40},
    )
    return fig


def render_dispatch(
    result: DispatchResult, accounts: dict[str, Any], prices: HourlyPrices, title: str
) -> str:
    """A self-contained page: hourly price against mined load and reserve, and revenue by source.

    Parameters
    ----------
    result : DispatchResult
        A solved dispatch.
    accounts : dict
        The dispatch's revenue and cost lines [USD].
    prices : HourlyPrices
        The prices it was solved on.
    title : str
        The page title.

    Returns
    -------
    str
        A self-contained HTML page.
    """
    fig = dispatch_figure(result, prices)
    rev = go.Figure(
        go.Bar(
            x=["mining", "sell-back (power credits)", "demand response", "power cost"],
            y=[
                accounts["revenue_mining_usd"],
                accounts["revenue_sellback_usd"],
                accounts["revenue_demand_response_usd"],
                -accounts["power_cost_usd"],
            ],
            text=[
                _usd(v)
                for v in (
                    accounts["revenue_mining_usd"],
                    accounts["revenue_sellback_usd"],
                    accounts["revenue_demand_response_usd"],
                    -accounts["power_cost_usd"],
                )
            ],
            textposition="auto",
        )
    )
    rev.update_layout(
        title="Revenue by source (USD)", height=380, margin={"t": 40, "l": 60, "r": 10, "b": 40}
    )
    parts = [
        pio.to_html(fig, full_html=False, include_plotlyjs=True),
        pio.to_html(rev, full_html=False, include_plotlyjs=False),
    ]
    rows = "".join(
        f"<tr><td>{jinja2.utils.markupsafe.escape(k)}</td>"
        f"<td>{jinja2.utils.markupsafe.escape(_fmt(v))}</td></tr>"
        for k, v in accounts.items()
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>hashpivot dispatch — {jinja2.utils.markupsafe.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px}"
        "td{padding:.2rem .6rem;border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>Dispatch — {jinja2.utils.markupsafe.escape(title)}</h1>"
        f"{parts[0]}{parts[1]}<h2>Summary</h2><table>{rows}</table></body></html>"
    )


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)
