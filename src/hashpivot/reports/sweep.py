"""The HTML report of a sweep (``hashpivot sweep --out DIR``): a heat map of mean NPV per pair
of varied keys (one line chart with a single key), the sweep's tornado, and every variant's
summary in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
import plotly.graph_objects as go

from ..engine.sweep import HeatMap, SweepTornadoRow, VariantResult, value_label, variant_table
from ..fmt import usd_compact as fmt_usd
from .plan import PAGE_STYLE, PlotlyDivs

_PAGE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hashpivot sweep {{ sweep_id }}</title>
<style>{{ style }}
td { white-space: pre-line; }
</style></head><body>
<h1>Sweep of {{ plan }}</h1>
<p class="note">{{ n }} variants × {{ paths }} paths, {{ seeds }}; ran {{ where }} in
{{ seconds }}; hashpivot {{ version }}; id {{ sweep_id }}. Each variant is the plan with the
overrides in its row, run in full (the decision too, when the plan has alternatives): the same
numbers as <code>hashpivot plan --set</code> with them.</p>
<h2>Mean NPV by pairs of varied keys</h2>
<p class="note">Each cell: the mean over the variants with that pair of values (the other keys
averaged out).{% if binned %} Keys drawn by the Latin hypercube are binned into equal bins of
their range (cell labels: bin centres).{% endif %}</p>
{% for f in maps %}{{ f }}{% endfor %}
<h2>Tornado of the sweep</h2>
<p class="note">Mean NPV at each key's lowest and highest value: on a grid the mean over the
variants there (a main effect); for hypercube keys the least-squares line of mean NPV on all
the keys, at the range's ends with the others at their means.</p>
{{ tornado }}
<h2>Variants</h2>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
</body></html>
"""
)


#: Red (low NPV) → white → green (high); the dashboard's ``hp.NPV_SCALE`` too.
NPV_SCALE = [[0.0, "#b2182b"], [0.5, "#f7f7f7"], [1.0, "#1a9850"]]


def heat_map_figure(m: HeatMap) -> go.Figure:
    """A heat map of mean NPV [USD] over two varied keys.

    Parameters
    ----------
    m : HeatMap
        From :func:`hashpivot.engine.sweep.heat_maps`.

    Returns
    -------
    plotly.graph_objects.Figure
        Cells annotated in USD.
    """
    text = [[("" if v is None else fmt_usd(v)) for v in row] for row in m.npv_usd]
    fig = go.Figure(
        go.Heatmap(
            z=[[None if v is None else v / 1e6 for v in row] for row in m.npv_usd],
            x=[value_label(v) for v in m.x_values],
            y=[value_label(v) for v in m.y_values],
            text=text,
            texttemplate="%{text}",
            colorscale=NPV_SCALE,
            colorbar={"title": "mean NPV (USD M)"},
            hovertemplate=f"{m.x_key}=%{{x}}<br>{m.y_key}=%{{y}}<br>mean NPV %{{text}}"
            "<extra></extra>",
        )
    )
    fig.update_layout(
        height=430,
        margin={"t": 50, "l": 90, "r": 20, "b": 50},
        title=f"{m.y_key} × {m.x_key}",
        xaxis={"title": m.x_key, "type": "category"},
        yaxis={"title": m.y_key, "type": "category"},
    )
    return fig


def line_figure(results: Sequence[VariantResult], key: str) -> go.Figure:
    """Mean NPV with its P5–P95 range against the one varied key.

    Parameters
    ----------
    results : sequence of VariantResult
        The sweep's variants (in variant order).
    key : str
        The varied key.

    Returns
    -------
    plotly.graph_objects.Figure
        Mean (line) and P5/P95 (band) [USD M].
    """
    rs = sorted(results, key=lambda r: r.overrides[key])
    x = [value_label(r.overrides[key]) for r in rs]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=x, y=[r.npv_usd["p95"] / 1e6 for r in rs], name="P95", line={"width": 0})
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[r.npv_usd["p5"] / 1e6 for r in rs],
            name="P5",
            fill="tonexty",
            line={"width": 0},
            fillcolor="rgba(31,119,180,.2)",
        )
    )
    fig.add_trace(go.Scatter(x=x, y=[r.npv_usd["mean"] / 1e6 for r in rs], name="mean"))
    fig.update_layout(
        height=430,
        margin={"t": 50, "l": 90, "r": 20, "b": 50},
        title=f"NPV against {key}",
        xaxis={"title": key},
        yaxis={"title": "NPV (USD M)"},
    )
    return fig


def tornado_figure(rows: Sequence[SweepTornadoRow], centre_usd: float) -> go.Figure:
    """The sweep's tornado: bars from the sweep's mean NPV to each key's low and high end.

    Parameters
    ----------
    rows : sequence of SweepTornadoRow
        From :func:`hashpivot.engine.sweep.sweep_tornado` (widest first).
    centre_usd : float
        The sweep's mean NPV over every variant [USD].

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal bars [USD M], the widest on top.
    """
    ordered = list(reversed(rows))
    y = [r.key for r in ordered]
    c = centre_usd / 1e6
    fig = go.Figure()
    for attr, value, name in (("low_npv_usd", "low_value", "lowest value"),
                              ("high_npv_usd", "high_value", "highest value")):  # fmt: skip
        fig.add_trace(
            go.Bar(
                y=y,
                x=[getattr(r, attr) / 1e6 - c for r in ordered],
                base=c,
                orientation="h",
                name=name,
                text=[value_label(getattr(r, value)) for r in ordered],
            )
        )
    fig.update_layout(
        barmode="overlay",
        height=140 + 50 * len(rows),
        margin={"t": 30, "l": 200, "r": 20, "b": 50},
        xaxis={"title": "mean NPV (USD M), from the sweep's mean"},
    )
    return fig


def render(sweep: dict[str, Any], results: Sequence[VariantResult], maps: Sequence[HeatMap],
           tornado: Sequence[SweepTornadoRow], keys: Sequence[str]) -> str:  # fmt: skip
    """The sweep's page: self-contained (Plotly inlined once), viewable offline.

    Parameters
    ----------
    sweep : dict
        Its stored row (:func:`hashpivot.runs.store.get_sweep` keys).
    results : sequence of VariantResult
        Its variants in order.
    maps : sequence of HeatMap
        One per pair of varied keys.
    tornado : sequence of SweepTornadoRow
        Its tornado.
    keys : sequence of str
        The varied keys, in order.

    Returns
    -------
    str
        The HTML page.
    """
    div = PlotlyDivs()  # each figure sets its own size (the tornado's grows with its keys)
    figures = [div(heat_map_figure(m)) for m in maps]
    if not maps and keys:
        figures = [div(line_figure(results, keys[0]))]
    columns, rows = variant_table(results, keys)
    secs = sweep.get("seconds")
    return _PAGE.render(
        style=PAGE_STYLE,
        sweep_id=sweep["sweep_id"],
        plan=sweep["plan_name"],
        n=len(results),
        paths=f"{sweep['paths']:,}",
        seeds="each variant its own seed"
        if sweep["seed_per_variant"]
        else "common random numbers (the plan's seed)",
        where=sweep.get("where_run") or "",
        seconds="" if secs is None else f"{secs:.1f} s",
        version=sweep["version"],
        binned=any(m.binned for m in maps),
        maps=figures,
        tornado=div(
            tornado_figure(tornado, sum(r.npv_usd["mean"] for r in results) / len(results))
        ),
        columns=columns,
        rows=rows,
    )
