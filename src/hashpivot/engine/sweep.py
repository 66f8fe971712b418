"""Sensitivity sweeps: one plan run under many sets of overrides, each a validated plan.

A sweep's variants come from a grid (``--vary KEY=v1,v2,…`` or ``KEY=lo:hi:n``, crossed) and/or
a Latin hypercube (``--lhs N`` over ``--range KEY=lo:hi``, :class:`scipy.stats.qmc.LatinHypercube`
[1]_ seeded by the plan's seed). Every variant is validated like ``hashpivot plan --set`` before
any task is submitted, so a key outside the schema or a value outside its range is one named
error, not a failed task an hour in.

Each variant runs as one task (:func:`run_variant`) on the executor: its own full plan run —
the decision too when the plan has alternatives — from its own seed, so its numbers are exactly
those of ``hashpivot plan`` with the same overrides, wherever it ran. By default every variant
uses the plan's seed (common random numbers: differences between variants are the parameters',
not sampling noise); ``seed_per_variant`` keys each variant's seed by its index instead. Variants
that share a ``market`` section share one calibrated market model, sent to the workers once.

The sweep's own reductions — one heat map per pair of varied keys and a tornado — are computed
from the variants' mean NPVs (:func:`heat_maps`, :func:`sweep_tornado`).

References
----------
.. [1] M. D. McKay, R. J. Beckman, W. J. Conover, "A comparison of three methods for selecting
   values of input variables in the analysis of output from a computer code",
   Technometrics 21(2), 239–245 (1979).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..config.io import key_path, load_yaml
from ..config.models import PlanConfig, load_plan_text
from ..errors import ConfigError, InputError
from ..executor import Executor
from ..fmt import usd_compact
from ..market import scenarios
from ..units import IntArray
from . import decision as deciding
from . import run as engine

#: Most variants one sweep may hold [-] (a typo in ``n`` should not submit a million tasks).
MAX_VARIANTS = 100_000


@dataclass(frozen=True)
class Axis:
    """One ``--vary``: a key and the values it takes on the grid.

    Parameters
    ----------
    key : str
        A plan field path (``sites[0].power_usd_per_mwh``).
    values : tuple
        Its values, in order.
    """

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Range:
    """One ``--range``: a key sampled uniformly on ``[low, high]`` by the Latin hypercube.

    Parameters
    ----------
    key : str
        A plan field path.
    low, high : float
        The interval's ends (``low < high``).
    """

    key: str
    low: float
    high: float


def _number(text: str, flag: str, item: str, form: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(flag, item, form) from None
    if not math.isfinite(value):
        raise InputError(flag, item, f"{form}, with finite numbers")
    return value


def _split(item: str, flag: str, form: str) -> tuple[str, str]:
    key, sep, rest = item.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise InputError(flag, item, form)
    key = key.strip()
    key_path(key, flag)  # a malformed path fails here, naming the flag
    return key, rest.strip()


def parse_vary(item: str) -> Axis:
    """``KEY=v1,v2,…`` (values read as YAML) or ``KEY=lo:hi:n`` (``n`` evenly spaced numbers).

    Parameters
    ----------
    item : str
        The text of one ``--vary``.

    Returns
    -------
    Axis
        The key and its values; whole numbers stay whole (``0:12:4`` → 0, 4, 8, 12).

    Raises
    ------
    InputError
        (``--vary``) Not of either form, fewer than one value, or ``n`` < 2.
    """
    form = "KEY=v1,v2,… or KEY=LOW:HIGH:N (e.g. market.mu_annual=0.0:0.3:4)"
    key, rest = _split(item, "--vary", form)
    parts = rest.split(":")
    if len(parts) == 3 and "," not in rest:
        low, high = (_number(p, "--vary", item, form) for p in parts[:2])
        try:
            n = int(parts[2])
        except ValueError:
            raise InputError("--vary", item, "KEY=LOW:HIGH:N with a whole count N ≥ 2") from None
        if n < 2 or low >= high:
            raise InputError("--vary", item, "KEY=LOW:HIGH:N with LOW < HIGH and N ≥ 2")
        grid = np.linspace(low, high, n)
        whole = all(float(p).is_integer() for p in parts[:2]) and np.all(grid == np.round(grid))
        return Axis(key, tuple(int(v) if whole else float(v) for v in grid))
    raw = [v.strip() for v in rest.split(",")]
    if any(not v for v in raw):
        raise InputError("--vary", item, form)
    values = []
    for v in raw:
        try:
            values.append(load_yaml(v, "--vary"))
        except ConfigError:
            raise InputError("--vary", item, f"{form}; {v!r} is not a YAML value") from None
    if len(set(map(repr, values))) != len(values):
        raise InputError("--vary", item, "distinct values")
    return Axis(key, tuple(values))


def parse_range(item: str) -> Range:
    """``KEY=lo:hi`` for the Latin hypercube.

    Parameters
    ----------
    item : str
        The text of one ``--range``.

    Returns
    -------
    Range
        The key and its interval.

    Raises
    ------
    InputError
        (``--range``) Not ``KEY=LOW:HIGH`` with ``LOW < HIGH``.
    """
    form = "KEY=LOW:HIGH with LOW < HIGH (e.g. market.mu_annual=0.0:0.3)"
    key, rest = _split(item, "--range", form)
    parts = rest.split(":")
    if len(parts) != 2:
        raise InputError("--range", item, form)
    low, high = (_number(p, "--range", item, form) for p in parts)
    if not low < high:
        raise InputError("--range", item, form)
    return Range(key, low, high)


def design(
    axes: Sequence[Axis], ranges: Sequence[Range] = (), lhs: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """The overrides of every variant: the grid of ``axes`` crossed with ``lhs`` hypercube points.

    Parameters
    ----------
    axes : sequence of Axis
        Grid keys (their values crossed, the first key slowest).
    ranges : sequence of Range
        Keys of the Latin hypercube.
    lhs : int or None
        Points of the hypercube [-]; needs ``ranges`` (and they need it).
    seed : int
        Seed of the hypercube [-] (the plan's: the same sweep draws the same points).

    Returns
    -------
    list of dict
        One ``{key: value}`` per variant, in variant order.

    Raises
    ------
    InputError
        A key given twice, ``lhs`` without ranges (or ranges without ``lhs``), no variants,
        or more than :data:`MAX_VARIANTS`.
    """
    keys = [a.key for a in axes] + [r.key for r in ranges]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise InputError("--vary", twice[0], "each key varied once (by --vary or --range)")
    if ranges and lhs is None:
        raise InputError("--range", ranges[0].key, "with --lhs N (the number of points)")
    if lhs is not None and not ranges:
        raise InputError("--lhs", lhs, "with at least one --range KEY=LOW:HIGH")
    if lhs is not None and not 1 <= lhs <= MAX_VARIANTS:
        raise InputError("--lhs", lhs, f"a number of points from 1 to {MAX_VARIANTS:,}")
    if not axes and not ranges:
        raise InputError("--vary", None, "at least one --vary KEY=… or --lhs N with --range")
    size = math.prod(len(a.values) for a in axes) * (lhs or 1)
    if size > MAX_VARIANTS:
        raise InputError("--vary", size, f"at most {MAX_VARIANTS:,} variants in one sweep")
    grid = [dict(zip([a.key for a in axes], p, strict=True)) for p in
            itertools.product(*(a.values for a in axes))]  # fmt: skip
    points: list[dict[str, Any]] = [{}]
    if ranges and lhs is not None:
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(ranges), seed=np.random.default_rng(seed)).random(lhs)
        low = np.array([r.low for r in ranges])
        high = np.array([r.high for r in ranges])
        x = qmc.scale(u, low, high)
        points = [{r.key: float(v) for r, v in zip(ranges, row, strict=True)} for row in x]
    return [g | p for g in grid for p in points]


def variant_seed(seed: int, index: int) -> int:
    """The seed of variant ``index`` of a sweep whose variants draw their own numbers.

    Parameters
    ----------
    seed : int
        The plan's seed [-].
    index : int
        The variant's index [-].

    Returns
    -------
    int
        ``SeedSequence([seed, index])``'s first 32-bit word (a valid plan seed).
    """
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


@dataclass(frozen=True)
class Variant:
    """One variant, validated: its index, its overrides and its plan.

    Parameters
    ----------
    index : int
        Its place in the sweep [-].
    overrides : dict
        ``{key: value}`` applied to the base plan (``seed`` among them when seeds are per
        variant): ``hashpivot plan --set`` of these gives the same numbers.
    plan : PlanConfig
        The validated plan.
    """

    index: int
    overrides: dict[str, Any]
    plan: PlanConfig


def variants(
    plan_yaml: str,
    source: str,
    points: Sequence[dict[str, Any]],
    *,
    sets: Sequence[str] = (),
    paths: int | None = None,
    seed_per_variant: bool = False,
) -> list[Variant]:
    """Validate every variant of a sweep before anything runs.

    Parameters
    ----------
    plan_yaml : str
        The base plan's YAML.
    source : str
        Its file name, for errors.
    points : sequence of dict
        From :func:`design`.
    sets : sequence of str
        ``--set KEY=VALUE`` applied to every variant first.
    paths : int or None
        Paths of every variant [-] (``None``: the plan's).
    seed_per_variant : bool
        Key each variant's seed by its index (:func:`variant_seed`) instead of sharing the
        plan's.

    Returns
    -------
    list of Variant
        In design order.

    Raises
    ------
    ConfigError
        (source ``--vary``) The first variant that does not validate: its overrides and the
        field's own message (unknown key, value out of range …).
    """
    base_seed = load_plan_text(plan_yaml, source, list(sets))[0].seed if seed_per_variant else 0
    out = []
    for i, point in enumerate(points):
        values = dict(point)
        if seed_per_variant:
            values["seed"] = variant_seed(base_seed, i)
        try:
            cfg, _ = load_plan_text(plan_yaml, source, list(sets), values=values, paths=paths)
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise ConfigError(
                f"--vary (variant {i}: {shown})", exc.messages, list(exc.locs)
            ) from None
        out.append(Variant(i, values, cfg))
    return out


@dataclass(frozen=True)
class VariantResult:
    """A variant's summary: what ``sweep_variants`` stores and ``--json`` prints.

    Parameters
    ----------
    index : int
        The variant's index [-].
    overrides : dict
        Its overrides.
    seed : int
        Its seed [-].
    npv_usd : dict of str to float
        ``mean``, ``p5``, ``p50``, ``p95`` of the company NPV [USD].
    p_default : dict of str to float or None
        P(default) by horizon (``12m``, ``24m``, ``horizon``) as configured [-]; ``None`` when
        the plan has no company finance.
    p_cash_negative : dict of str to float
        P(cumulative cash < 0) by horizon [-].
    decision : dict or None
        Each site's chosen action and start month, when the plan has alternatives.
    seconds : float
        Compute time of the task where it ran [s].
    """

    index: int
    overrides: dict[str, Any]
    seed: int
    npv_usd: dict[str, float]
    p_default: dict[str, float] | None
    p_cash_negative: dict[str, float]
    decision: dict[str, dict[str, Any]] | None = None
    seconds: float = field(default=0.0, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VariantResult:
        """Back from :meth:`to_dict` (a stored row).

        Parameters
        ----------
        d : dict
            :meth:`to_dict`'s keys.

        Returns
        -------
        VariantResult
            The same result.
        """
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``hashpivot sweep --json``'s ``variants[]``)."""
        return {
            "index": self.index,
            "overrides": self.overrides,
            "seed": self.seed,
            "npv_usd": self.npv_usd,
            "p_default": self.p_default,
            "p_cash_negative": self.p_cash_negative,
            "decision": self.decision,
            "seconds": self.seconds,
        }


def variant_result(variant: Variant, summary: dict[str, Any], seconds: float) -> VariantResult:
    """A variant's :class:`VariantResult` from its run's summary.

    Parameters
    ----------
    variant : Variant
        The variant.
    summary : dict
        Its run's :meth:`PlanResult.summary`.
    seconds : float
        Compute time [s].

    Returns
    -------
    VariantResult
        The stored and printed summary.
    """
    npv = summary["npv_usd"]
    d = summary.get("decision")
    chosen = (
        {s["site"]: {"action": s["action"], "start_month": s["start_month"]} for s in d["sites"]}
        if d
        else None
    )
    return VariantResult(
        index=variant.index,
        overrides=variant.overrides,
        seed=variant.plan.seed,
        npv_usd={k: float(npv[k]) for k in ("mean", "p5", "p50", "p95")},
        p_default=summary.get("p_default"),
        p_cash_negative=dict(summary["p_cash_negative_by_horizon"]),
        decision=chosen,
        seconds=seconds,
    )


def run_variant(market: scenarios.MarketModel, variant: Variant) -> VariantResult:
    """One task of a sweep: the variant's plan run (its decision first, when it has
    alternatives), in the process that runs the task.

    Parameters
    ----------
    market : MarketModel
        The calibrated market of the variant's ``market`` section (shared by the variants
        that have the same one).
    variant : Variant
        The variant.

    Returns
    -------
    VariantResult
        Its summary.
    """
    start = time.perf_counter()
    cfg = variant.plan
    decided = deciding.decide_plan(cfg) if cfg.has_alternatives else None
    result = engine.run(cfg, with_tornado=False, model=engine.build_model(cfg, market))
    summary = replace(result, decision=decided).summary()
    return variant_result(variant, summary, time.perf_counter() - start)


def run_sweep(items: Sequence[Variant], executor: Executor) -> Iterator[VariantResult]:
    """Run every variant on ``executor``; yield each result as it arrives (in any order).

    The distinct markets are calibrated here once and shared with the workers.

    Parameters
    ----------
    items : sequence of Variant
        From :func:`variants`.
    executor : Executor
        Where the tasks run.

    Yields
    ------
    VariantResult
        One per variant, in completion order.
    """
    markets: dict[str, Any] = {}
    tasks = []
    for v in items:
        key = v.plan.market.model_dump_json()
        if key not in markets:
            markets[key] = executor.share(engine.calibrate_market(v.plan.market))
        tasks.append((markets[key], v))
    for _, result in executor.completed(run_variant, tasks, name="variant"):
        yield result


def varied_keys(results: Sequence[VariantResult]) -> list[str]:
    """The keys the variants vary, in the order they were given.

    Parameters
    ----------
    results : sequence of VariantResult
        The sweep's variants.

    Returns
    -------
    list of str
        Every override key but ``seed``.
    """
    keys: list[str] = []
    for r in results:
        for k in r.overrides:
            if k != "seed" and k not in keys:
                keys.append(k)
    return keys


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


@dataclass(frozen=True)
class HeatMap:
    """Mean NPV over the variants at each pair of values of two varied keys.

    Parameters
    ----------
    x_key, y_key : str
        The keys (columns, rows).
    x_values, y_values : tuple
        Their distinct values, sorted (numbers) or in order given.
    npv_usd : tuple of tuple of float or None
        ``[row][column]`` mean of the variants' mean NPVs there [USD]; ``None`` where no variant
        has the pair (a hypercube puts points anywhere: its values are binned, see ``binned``).
    binned : bool
        Whether the values are bin centres (hypercube keys: 5 equal bins of the range).
    """

    x_key: str
    y_key: str
    x_values: tuple[Any, ...]
    y_values: tuple[Any, ...]
    npv_usd: tuple[tuple[float | None, ...], ...]
    binned: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "x_key": self.x_key,
            "y_key": self.y_key,
            "x_values": list(self.x_values),
            "y_values": list(self.y_values),
            "npv_usd": [list(r) for r in self.npv_usd],
            "binned": self.binned,
        }


#: Bins per key of a hypercube in heat maps [-].
LHS_BINS = 5


def _levels(values: list[Any], binned: bool) -> tuple[list[Any], IntArray]:
    """Distinct values of one key and each variant's level (bins of a hypercube key)."""
    if binned:
        x = np.asarray(values, dtype=float)
        edges = np.linspace(x.min(), x.max(), LHS_BINS + 1)
        level = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, LHS_BINS - 1)
        return [float(v) for v in (edges[:-1] + edges[1:]) / 2], level
    order = sorted(set(values)) if _numeric(values) else list(dict.fromkeys(values))
    position = {v: i for i, v in enumerate(order)}
    return order, np.array([position[v] for v in values], dtype=np.int64)


def heat_maps(results: Sequence[VariantResult], lhs_keys: Sequence[str] = ()) -> list[HeatMap]:
    """One heat map of mean NPV per pair of varied keys (each cell: the mean over the variants
    with that pair of values, i.e. averaged over the other keys).

    Parameters
    ----------
    results : sequence of VariantResult
        The sweep's variants.
    lhs_keys : sequence of str
        The keys drawn by the hypercube (binned into :data:`LHS_BINS` equal bins).

    Returns
    -------
    list of HeatMap
        For keys ``(a, b)`` with ``a`` before ``b``; empty with one key.
    """
    keys = varied_keys(results)
    npv = np.array([r.npv_usd["mean"] for r in results])
    out = []
    for a, b in itertools.combinations(keys, 2):
        xs, xl = _levels([r.overrides[a] for r in results], a in lhs_keys)
        ys, yl = _levels([r.overrides[b] for r in results], b in lhs_keys)
        total = np.zeros((len(ys), len(xs)))
        count = np.zeros((len(ys), len(xs)))
        np.add.at(total, (yl, xl), npv)
        np.add.at(count, (yl, xl), 1.0)
        mean = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
        cells = tuple(tuple(None if np.isnan(v) else float(v) for v in row) for row in mean)
        out.append(HeatMap(a, b, tuple(xs), tuple(ys), cells, a in lhs_keys or b in lhs_keys))
    return out


@dataclass(frozen=True)
class SweepTornadoRow:
    """One key's swing across the sweep.

    Parameters
    ----------
    key : str
        The varied key.
    low_value, high_value : Any
        Its first and last value (sorted numbers) or, for a hypercube, its range's ends.
    low_npv_usd, high_npv_usd : float
        Mean NPV at ``low_value`` and at ``high_value`` [USD]: on a grid the mean over the
        variants there (the other keys averaged out, a main effect); for a hypercube key the
        least-squares line of mean NPV on all the keys, at each end with the others at their
        means.
    """

    key: str
    low_value: Any
    high_value: Any
    low_npv_usd: float
    high_npv_usd: float

    @property
    def swing_usd(self) -> float:
        """``|high − low|`` [USD]."""
        return abs(self.high_npv_usd - self.low_npv_usd)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "key": self.key,
            "low_value": self.low_value,
            "high_value": self.high_value,
            "low_npv_usd": self.low_npv_usd,
            "high_npv_usd": self.high_npv_usd,
            "swing_usd": self.swing_usd,
        }


def sweep_tornado(
    results: Sequence[VariantResult], lhs_keys: Sequence[str] = ()
) -> list[SweepTornadoRow]:
    """Each varied key's effect on mean NPV, widest swing first.

    Parameters
    ----------
    results : sequence of VariantResult
        The sweep's variants.
    lhs_keys : sequence of str
        The keys drawn by the hypercube.

    Returns
    -------
    list of SweepTornadoRow
        One per key (see :class:`SweepTornadoRow` for how each swing is measured).
    """
    keys = varied_keys(results)
    npv = np.array([r.npv_usd["mean"] for r in results])
    rows = []
    continuous = [k for k in keys if k in lhs_keys]
    fit = None
    if continuous:
        x = np.array([[float(r.overrides[k]) for k in continuous] for r in results])
        design_matrix = np.column_stack([np.ones(len(results)), x])
        fit = np.linalg.lstsq(design_matrix, npv, rcond=None)[0]
        centre = x.mean(axis=0)
    for k in keys:
        values = [r.overrides[k] for r in results]
        if fit is not None and k in continuous:
            j = continuous.index(k)
            lo, hi = float(min(values)), float(max(values))
            base = fit[0] + float(np.dot(fit[1:], centre)) - fit[1 + j] * centre[j]
            rows.append(SweepTornadoRow(k, lo, hi, base + fit[1 + j] * lo, base + fit[1 + j] * hi))
            continue
        order, level = _levels(values, False)
        rows.append(
            SweepTornadoRow(
                k,
                order[0],
                order[-1],
                float(npv[level == 0].mean()),
                float(npv[level == len(order) - 1].mean()),
            )
        )
    rows.sort(key=lambda r: r.swing_usd, reverse=True)
    return rows


def value_label(value: Any) -> str:
    """A varied key's value as shown in tables and chart axes (floats to 4 significant digits).

    Parameters
    ----------
    value : Any
        An override's value.

    Returns
    -------
    str
        Its label.
    """
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def decision_counts(decision: dict[str, dict[str, Any]] | None) -> str:
    """How many sites take each action, the most common first, one a line (``–`` for none).

    Parameters
    ----------
    decision : dict or None
        A variant's :attr:`VariantResult.decision`.

    Returns
    -------
    str
        One line per action, e.g. ``17 sell_site`` then ``14 mine_flexibly``.
    """
    if not decision:
        return "–"
    counts = Counter(site["action"] for site in decision.values())
    return "\n".join(f"{n} {action}" for action, n in counts.most_common())


def variant_table(
    results: Sequence[VariantResult], keys: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    """The variants' table, formatted once for the report, the dashboard and the CLI.

    Parameters
    ----------
    results : sequence of VariantResult
        The sweep's variants, in order.
    keys : sequence of str
        The varied keys (:func:`varied_keys`).

    Returns
    -------
    tuple of (list of str, list of list of str)
        Columns — ``variant``, each key, ``NPV mean``, ``P5``, ``P50``, ``P95`` [USD], then
        ``P(default) 12m`` and ``P(default) horizon`` when the plan has company finance and
        ``decision`` (sites per action) when it has alternatives — and one row per variant.
    """
    has_default = any(r.p_default for r in results)
    decided = any(r.decision for r in results)
    columns = ["variant", *keys, "NPV mean", "P5", "P50", "P95"]
    columns += ["P(default) 12m", "P(default) horizon"] if has_default else []
    columns += ["decision"] if decided else []
    rows = []
    for r in results:
        row = [str(r.index), *(value_label(r.overrides.get(k)) for k in keys)]
        row += [usd_compact(r.npv_usd[k]) for k in ("mean", "p5", "p50", "p95")]
        if has_default:
            p = r.p_default or {}
            row += [f"{p[h]:.1%}" if h in p else "–" for h in ("12m", "horizon")]
        if decided:
            row.append(decision_counts(r.decision))
        rows.append(row)
    return columns, rows


def collect(
    results: Iterator[VariantResult],
    n: int,
    on_result: Callable[[VariantResult, int], None] | None = None,
) -> list[VariantResult]:
    """Gather a sweep's results in variant order, calling ``on_result(result, done)`` as each
    arrives (to store it and move a progress bar).

    Parameters
    ----------
    results : iterator of VariantResult
        From :func:`run_sweep`.
    n : int
        Variants expected [-].
    on_result : callable or None
        Called once per result, in arrival order, with the count done so far.

    Returns
    -------
    list of VariantResult
        Sorted by index.
    """
    got: list[VariantResult] = []
    for r in results:
        got.append(r)
        if on_result:
            on_result(r, len(got))
    if len(got) != n:  # pragma: no cover - the executor yields every task or raises
        raise RuntimeError(f"sweep returned {len(got)} of {n} variants")
    return sorted(got, key=lambda r: r.index)
