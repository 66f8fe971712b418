"""The HTML report of a backtest (``hashpivot backtest --out DIR``): coverage of the 90% and 50%
bands by horizon with their block-bootstrap intervals, PIT histograms, the realised path against
the fans of chosen origins, and the scores against the two naive baselines.
"""

from __future__ import annotations

from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..market import hindcast
from .plan import PAGE_STYLE, PlotlyDivs

_PAGE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hashpivot backtest {{ backtest_id }}</title>
<style>{{ style }}
.miss { color: #b03a2e; font-weight: 600; }
</style></head><body>
<h1>Backtest of the market model</h1>
<p class="note">{{ n_origins }} monthly origins {{ first }} .. {{ last }} (every {{ step }}
month{{ "s" if step > 1 else "" }}), {{ paths }} paths each, seed {{ seed }}, hashpivot
{{ version }}; id {{ backtest_id }}. At each origin the model is calibrated on the data up to
that day only and simulated forward; the fans are scored on what then happened, in logs.
Model: {{ calibration }}.</p>
<h2>Coverage by horizon</h2>
<p class="note">Share of realised values inside the central 90% and 50% bands (nominal: the
dashed lines), with a block-bootstrap 90% interval: overlapping origins are not independent, so
the interval is wider than the count of origins suggests.</p>
{{ coverage }}
<h2>Scores against the naive baselines</h2>
<p class="note">CRPS on logs (lower is better) of the model, a log random walk with trailing
volatility and a flat forecast at the origin's value with the history's dispersion of h-month
changes. Spread-skill: RMSE of the log median error over the mean predicted sd (1 is honest,
above 1 too confident). Cells outside the goals (90% band 85–95%, 50% band 40–60%, spread-skill
0.85–1.15) are marked.</p>
<table><tr><th>process</th><th>horizon</th><th>origins (independent)</th><th>90% band</th>
<th>below / above</th><th>50% band</th><th>spread-skill</th><th>mean PIT</th><th>CRPS</th>
<th>random walk</th><th>flat</th><th>skill vs better baseline</th></tr>
{% for r in table %}<tr>{% for c, miss in r %}<td{% if miss %} class="miss"{% endif %}>{{ c }}</td>
{% endfor %}</tr>{% endfor %}</table>
<h2>PIT histograms</h2>
<p class="note">Where each outcome fell in its fan (deciles). Flat is honest; a U shape means the
fans are too narrow, a slope that they are biased (to the right: outcomes above the fan).</p>
{{ pit }}
<h2>Realised against the fans</h2>
<p class="note">The realised monthly value (line) and, for origins a year apart, the fan's
5–95% range (bars) and median (marker) at each scored horizon.</p>
{% for f in fans %}{{ f }}{% endfor %}
</body></html>
"""
)

_TITLES = {
    "btc_price": "BTC price (USD)",
    "hashrate": "network hashrate (EH/s)",
    "hashprice": "hashprice (USD/PH/day)",
    "fees": "fees (BTC/block)",
}


def _coverage_figure(rec: dict[str, Any]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("90% band", "50% band"))
    colours = dict(
        zip(hindcast.PROCESSES, ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"), strict=True)
    )
    for col, (name, nominal) in enumerate((("coverage_90", 0.9), ("coverage_50", 0.5)), start=1):
        for p in hindcast.PROCESSES:
            by_h = rec[name][p]
            hs = list(by_h)
            rate = [by_h[h]["rate"] for h in hs]
            lo = [by_h[h]["rate"] - by_h[h]["interval_90"][0] for h in hs]
            hi = [by_h[h]["interval_90"][1] - by_h[h]["rate"] for h in hs]
            fig.add_scatter(
                x=[int(h) for h in hs],
                y=rate,
                error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
                mode="lines+markers",
                name=p,
                legendgroup=p,
                showlegend=col == 1,
                line={"color": colours[p]},
                row=1,
                col=col,
            )
        fig.add_hline(y=nominal, line_dash="dash", line_color="#444", row=1, col=col)
    fig.update_xaxes(title_text="horizon (months)", type="log", tickvals=[3, 6, 12, 24])
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig


def _pit_figure(rec: dict[str, Any]) -> go.Figure:
    fig = make_subplots(
        rows=1, cols=len(hindcast.PROCESSES), subplot_titles=list(hindcast.PROCESSES)
    )
    x = [f"{d / 10:.1f}" for d in range(10)]
    palette = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")
    for col, p in enumerate(hindcast.PROCESSES, start=1):
        for j, (h, deciles) in enumerate(rec["pit_deciles"][p].items()):
            fig.add_bar(
                x=x,
                y=deciles,
                name=f"{h} m",
                legendgroup=h,
                showlegend=col == 1,
                marker_color=palette[j % len(palette)],
                row=1,
                col=col,
            )
        fig.add_hline(y=0.1, line_dash="dash", line_color="#444", row=1, col=col)
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%")
    return fig


def _fan_figure(hc: hindcast.Hindcast, process: str, every: int = 12) -> go.Figure:
    real = hindcast.realised_monthly()[process]
    first, last = hc.origins[0], hc.origins[-1]
    shown = real.loc[first - pd.DateOffset(months=6) :]
    fig = go.Figure()
    fig.add_scatter(
        x=shown.index, y=shown.to_numpy(), name="realised", line={"color": "#222", "width": 1.5}
    )
    chosen = set(range(0, len(hc.origins), every))
    for h in hc.horizons:
        rows = [(j, k) for j, k in enumerate(hc.scored[h]) if k in chosen]
        if not rows:
            continue
        x, mid, lo, hi = [], [], [], []
        for j, k in rows:
            fan = hc.fans[process][h][j]
            q5, q50, q95 = np.exp(np.quantile(fan, (0.05, 0.5, 0.95)))
            x.append(hc.origins[k] + pd.Timedelta(days=1) + pd.DateOffset(months=h - 1))
            mid.append(q50)
            lo.append(q50 - q5)
            hi.append(q95 - q50)
        fig.add_scatter(
            x=x,
            y=mid,
            mode="markers",
            name=f"fan at {h} m",
            error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
        )
    fig.update_layout(title=f"{_TITLES[process]}: origins {first.date()} .. {last.date()}")
    fig.update_yaxes(type="log")
    return fig


def _rows(rec: dict[str, Any]) -> list[list[tuple[str, bool]]]:
    rows = []
    for p in hindcast.PROCESSES:
        for h, c90 in rec["coverage_90"][p].items():
            c50, ss = rec["coverage_50"][p][h], rec["spread_skill"][p][h]
            base = rec["baseline_crps"][p][h]
            crps = rec["crps"][p][h]
            best = min(base.values())
            lo, hi = c90["interval_90"]
            rows.append(
                [
                    (p, False),
                    (f"{h} m", False),
                    (f"{rec['origins'][p][h]} ({rec['independent_windows'][p][h]})", False),
                    (f"{c90['rate']:.0%} [{lo:.0%}–{hi:.0%}]", not 0.85 <= c90["rate"] <= 0.95),
                    (f"{c90['below']:.0%} / {c90['above']:.0%}", False),
                    (f"{c50['rate']:.0%}", not 0.40 <= c50["rate"] <= 0.60),
                    (f"{ss:.2f}", not 0.85 <= ss <= 1.15),
                    (f"{rec['pit_mean'][p][h]:.2f}", False),
                    (f"{crps:.3f}", False),
                    (f"{base['random_walk']:.3f}", False),
                    (f"{base['flat']:.3f}", False),
                    (f"{1 - crps / best:+.0%}", crps > best),
                ]
            )
    return rows


def render(rec: dict[str, Any], hc: hindcast.Hindcast, backtest_id: str) -> str:
    """The backtest's page: self-contained (Plotly inlined once), viewable offline.

    Parameters
    ----------
    rec : dict
        The record (:func:`hashpivot.market.hindcast.record`).
    hc : Hindcast
        Its fans and outcomes (for the realised-against-fan charts).
    backtest_id : str
        Its id in the store.

    Returns
    -------
    str
        The HTML page.
    """
    div = PlotlyDivs(height=400, margin={"t": 50, "l": 60, "r": 20, "b": 40})
    cal = ", ".join(f"{k}={v}" for k, v in rec["calibration"].items() if v is not None)
    return _PAGE.render(
        style=PAGE_STYLE,
        backtest_id=backtest_id,
        n_origins=len(rec["origin_days"]),
        first=rec["origin_days"][0],
        last=rec["origin_days"][-1],
        step=rec["step_months"],
        paths=f"{rec['paths']:,}",
        seed=rec["seed"],
        version=rec["version"],
        calibration=cal,
        coverage=div(_coverage_figure(rec)),
        table=_rows(rec),
        pit=div(_pit_figure(rec)),
        fans=[div(_fan_figure(hc, p)) for p in hindcast.PROCESSES],
    )
