"""What a plan run produces, typed: :class:`PlanResult` and its parts, frozen.

Every part is a frozen dataclass with units in its field names (or, for the NPV statistics, in
the class: all USD). :meth:`PlanResult.summary` is computed once per result and shared by the
report, the run store, the results hash and the ledger record; its keys are the public JSON of
``hashpivot plan --json``. The ``*_frame`` methods hand the same numbers to pandas, with units in
the column names, for notebooks and spreadsheets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..fmt import usd_compact
from ..units import FloatArray
from ..version import __version__

#: Horizons [months] of the cumulative P(cash < 0) in the summary.
REPORT_HORIZONS = (12, 24, 36, 60, 120)

#: What NPV means when the plan has company finance (stated in every summary).
NPV_DEFINITION = (
    "equity value after default: the PV of cash flows to equity up to the default month "
    "(limited liability: at most the opening cash is lost), plus, only on paths solvent at the "
    "horizon, BTC held less debt and contracted lease tails"
)

#: What NPV means without company finance.
NPV_DEFINITION_NO_FINANCE = (
    "NPV of the company's cash flows (no company finance: every path sells what it mines and is "
    "never stopped by a default)"
)


@dataclass(frozen=True)
class NpvSummary:
    """Statistics of the NPV over paths [USD]: mean, P5/P50/P95, the standard error of the mean
    and CVaR 5% (the mean of the worst 5%)."""

    mean: float
    p5: float
    p50: float
    p95: float
    stderr: float
    cvar5: float

    @classmethod
    def from_dict(cls, d: Mapping[str, float]) -> NpvSummary:
        """From :func:`hashpivot.finance.metrics.summary`'s map."""
        return cls(**{k: float(d[k]) for k in ("mean", "p5", "p50", "p95", "stderr", "cvar5")})

    def to_dict(self) -> dict[str, float]:
        """The six statistics as a map [USD]."""
        return asdict(self)


@dataclass(frozen=True)
class Fan:
    """Per-month quantiles and mean of one series over paths (in the series' own unit)."""

    p5: tuple[float, ...]
    p25: tuple[float, ...]
    p50: tuple[float, ...]
    p75: tuple[float, ...]
    p95: tuple[float, ...]
    mean: tuple[float, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Fan:
        """From :func:`hashpivot.finance.metrics.fan`'s map of bands."""
        return cls(**{k: tuple(d[k]) for k in FAN_BANDS})

    def to_dict(self) -> dict[str, list[float]]:
        """Band → values by month, as the report and the store read them."""
        return {k: list(getattr(self, k)) for k in FAN_BANDS}


#: The bands of a :class:`Fan`, in order.
FAN_BANDS = ("p5", "p25", "p50", "p75", "p95", "mean")


@dataclass(frozen=True)
class Fans:
    """The fan charts of a run, by series name (``btc_price_usd``, ``hashprice_usd_per_ph_day``,
    ``network_hashrate_eh_s``, ``company_cash_usd``): each a :class:`Fan`."""

    series: Mapping[str, Fan]

    def __getitem__(self, name: str) -> Fan:
        return self.series[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.series)

    def __len__(self) -> int:
        return len(self.series)

    def names(self) -> tuple[str, ...]:
        """The series, in the order the run produced them."""
        return tuple(self.series)


@dataclass(frozen=True)
class TornadoRow:
    """Mean NPV [USD] with one driver at its adverse (low) and favourable (high) setting."""

    driver: str
    low_npv_usd: float
    high_npv_usd: float
    base_npv_usd: float

    @property
    def swing_usd(self) -> float:
        """Distance between the low and high NPV [USD]: what the chart sorts by."""
        return abs(self.high_npv_usd - self.low_npv_usd)


@dataclass(frozen=True)
class Tornado:
    """The drivers of NPV, largest swing first (empty when the run skipped the tornado)."""

    rows: tuple[TornadoRow, ...] = ()

    def __iter__(self) -> Iterator[TornadoRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass(frozen=True)
class DefaultResults:
    """Company default over paths (present only when the plan has company finance).

    ``p_default_by_month[scenario][t]`` is the share of paths defaulted by the end of month
    ``t`` (``as_configured`` and the treasury and debt variants); ``time_to_default_counts[t]``
    the paths defaulting in month ``t``; shortfalls are what creditors lose at default [USD];
    the waterfall is the mean of each flow on the worst 5% of paths by NPV [USD]."""

    p_default_by_month: Mapping[str, tuple[float, ...]]
    time_to_default_counts: tuple[int, ...]
    expected_shortfall_usd: float
    mean_shortfall_given_default_usd: float
    worst_paths_waterfall_usd: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """As plain data (JSON-ready)."""
        return {
            "p_default_by_month": {k: list(v) for k, v in self.p_default_by_month.items()},
            "time_to_default_counts": list(self.time_to_default_counts),
            "expected_shortfall_usd": self.expected_shortfall_usd,
            "mean_shortfall_given_default_usd": self.mean_shortfall_given_default_usd,
            "worst_paths_waterfall_usd": [list(r) for r in self.worst_paths_waterfall_usd],
        }


@dataclass(frozen=True)
class ConversionResults:
    """When a site that can host AI converts, over paths.

    ``conversion_month_counts[t]`` counts paths converting in month ``t``; option sites add the
    mean NPV [USD] under each policy (``optimal``, ``never``, ``now``, ``fixed_date``, with
    ``fixed_date_month`` and ``value_of_flexibility``) and the exercise boundary: the hashprice
    [USD/PH/day] below which converting beats waiting, by month (``None`` where it never does)."""

    conversion_month_counts: tuple[int, ...]
    share_never_converted: float
    median_conversion_month: float | None
    npv_usd_by_policy: Mapping[str, float] | None = None
    exercise_boundary_hashprice_usd_per_ph_day: tuple[float | None, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """As plain data (JSON-ready); the option keys only for option sites."""
        out: dict[str, Any] = {
            "conversion_month_counts": list(self.conversion_month_counts),
            "share_never_converted": self.share_never_converted,
            "median_conversion_month": self.median_conversion_month,
        }
        if self.npv_usd_by_policy is not None:
            out["npv_usd_by_policy"] = dict(self.npv_usd_by_policy)
        if self.exercise_boundary_hashprice_usd_per_ph_day is not None:
            out["exercise_boundary_hashprice_usd_per_ph_day"] = list(
                self.exercise_boundary_hashprice_usd_per_ph_day
            )
        return out


@dataclass(frozen=True)
class SiteResult:
    """Per-site medians over paths (USD per BTC unless named otherwise)."""

    name: str
    power_capacity_mw: float
    hashrate_eh_s: float
    start_month: int
    cost_usd_per_btc: Mapping[str, float | None]
    stack_usd_per_btc: Mapping[str, float | None]  # cost lines of the median all-in path
    breakeven_btc_price_usd: float | None
    breakeven_power_usd_per_kwh: float | None
    btc_mined: float
    share_of_paths_mining: float
    kind: str = "mining"
    conversion: ConversionResults | None = None  # hosting, hybrid and option sites

    def to_dict(self) -> dict[str, Any]:
        """As plain data (JSON-ready): what the run store keeps per site."""
        out = {
            k: getattr(self, k)
            for k in (
                "name",
                "power_capacity_mw",
                "hashrate_eh_s",
                "start_month",
                "breakeven_btc_price_usd",
                "breakeven_power_usd_per_kwh",
                "btc_mined",
                "share_of_paths_mining",
                "kind",
            )
        }
        out["cost_usd_per_btc"] = dict(self.cost_usd_per_btc)
        out["stack_usd_per_btc"] = dict(self.stack_usd_per_btc)
        out["conversion"] = self.conversion.to_dict() if self.conversion else {}
        return out


def site_row(site: Mapping[str, Any]) -> dict[str, Any]:
    """One site as a flat table row, units in the column names.

    Built from :meth:`SiteResult.to_dict` (the form the run store keeps) and shared by
    :meth:`PlanResult.sites_frame` and the store's exports.

    Parameters
    ----------
    site : mapping
        One site's ``to_dict()``.

    Returns
    -------
    dict
        Column name (with its unit: ``power_capacity_mw``, ``cost_cash_usd_per_btc``,
        ``breakeven_power_usd_per_kwh``) to value.
    """
    row: dict[str, Any] = {
        "site": site["name"],
        "type": site["kind"],
        "power_capacity_mw": site["power_capacity_mw"],
        "hashrate_eh_s": site["hashrate_eh_s"],
        "start_month": site["start_month"],
    }
    row |= {f"cost_{k}_usd_per_btc": v for k, v in site["cost_usd_per_btc"].items()}
    row |= {f"stack_{k}_usd_per_btc": v for k, v in site["stack_usd_per_btc"].items()}
    row["breakeven_btc_price_usd"] = site["breakeven_btc_price_usd"]
    row["breakeven_power_usd_per_kwh"] = site["breakeven_power_usd_per_kwh"]
    row["mined_btc"] = site["btc_mined"]
    row["share_of_paths_mining"] = site["share_of_paths_mining"]
    conversion = site.get("conversion") or {}
    if conversion:
        row["share_never_converted"] = conversion["share_never_converted"]
        row["median_conversion_month"] = conversion["median_conversion_month"]
    return row


def _num(x: float | None) -> float | None:
    """A JSON number: ``None`` for a missing or non-finite value."""
    return None if x is None or not np.isfinite(x) else float(x)


@dataclass(frozen=True)
class OptionValue:
    """One alternative of one site, valued on the decision's scenarios. ``ruled_out`` holds the
    reason when the site's jurisdiction rules it out (then nothing is valued)."""

    name: str
    kind: str
    start_month: int | None  # conversions at a stated month; None: as the policy decides
    ruled_out: str | None
    npv_usd: NpvSummary | None  # of the site alone [USD]
    npv_vs_keep_usd: float | None  # mean over the same scenarios [USD]
    p_better_than_keep: float | None  # share of scenarios it beats keeping [-]
    capex_usd_by_year: tuple[float, ...]  # the company's cash (equity share) by plan year [USD]
    debt_usd: float  # project debt raised [USD]
    leased_mw: float  # critical IT leased to a tenant [MW]
    irr_annual: float | None  # of its expected cash flows [1/yr]
    payback_month: int | None  # first month its expected cumulative cash turns ≥ 0
    p_default: float | None  # company P(default) by the horizon with the site on it [-]
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON of one alternative."""
        n = self.npv_usd
        return {
            "name": self.name,
            "kind": self.kind,
            "start_month": self.start_month,
            "ruled_out": self.ruled_out,
            "npv_usd": None if n is None else n.mean,
            "npv_p5_usd": None if n is None else n.p5,
            "npv_p50_usd": None if n is None else n.p50,
            "npv_p95_usd": None if n is None else n.p95,
            "npv_vs_keep_usd": _num(self.npv_vs_keep_usd),
            "p_better_than_keep": _num(self.p_better_than_keep),
            "capex_usd": float(sum(self.capex_usd_by_year)),
            "capex_usd_by_year": [float(x) for x in self.capex_usd_by_year],
            "debt_usd": self.debt_usd,
            "leased_mw": self.leased_mw,
            "irr_annual": _num(self.irr_annual),
            "payback_month": self.payback_month,
            "p_default": _num(self.p_default),
            "source": self.source,
        }


@dataclass(frozen=True)
class SiteDecision:
    """What one site should do: the chosen alternative, the next best and what forcing it
    costs the portfolio, and every alternative's value."""

    site: str
    mw: float
    action: str
    start_month: int | None  # month the action starts (0: now)
    next_best: str | None
    cost_to_force_next_best_usd: float | None  # fall in the portfolio's expected NPV [USD]
    greedy_action: str  # the site's best alternative on its own
    options: tuple[OptionValue, ...]

    def option(self, name: str) -> OptionValue:
        """The alternative called ``name``."""
        return next(o for o in self.options if o.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of one site's decision."""
        chosen = self.option(self.action)
        npv = chosen.npv_usd.mean if chosen.npv_usd is not None else None
        return {
            "site": self.site,
            "mw": self.mw,
            "action": self.action,
            "kind": chosen.kind,
            "start_month": self.start_month,
            "npv_usd": npv,
            "npv_usd_per_mw": None if npv is None else npv / self.mw,
            "npv_vs_keep_usd": _num(chosen.npv_vs_keep_usd),
            "next_best": self.next_best,
            "cost_to_force_next_best_usd": _num(self.cost_to_force_next_best_usd),
            "greedy_action": self.greedy_action,
            "alternatives": [o.to_dict() for o in self.options],
        }


@dataclass(frozen=True)
class PortfolioPoint:
    """One portfolio: its expected NPV and CVaR over the decision's scenarios [USD], the
    company's P(default) by the horizon [-] and the action of each site."""

    expected_npv_usd: float
    cvar_usd: float
    p_default: float | None
    actions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of one portfolio."""
        return {
            "expected_npv_usd": self.expected_npv_usd,
            "cvar_usd": self.cvar_usd,
            "p_default": _num(self.p_default),
            "actions": list(self.actions),
        }


@dataclass(frozen=True)
class DecisionResult:
    """Where each megawatt goes: the portfolio decision over the sites' alternatives, made on
    the run's first ``scenarios`` paths (common random numbers for every alternative)."""

    scenarios: int
    cvar_level: float
    sites: tuple[SiteDecision, ...]
    portfolio: PortfolioPoint
    keep: PortfolioPoint  # every site as configured
    greedy: PortfolioPoint  # each site's best alternative on its own
    greedy_feasible: bool
    binding: Mapping[str, float]  # limit → gain in expected NPV from relaxing it by its step
    binding_step: Mapping[str, float]
    limits: Mapping[str, Any]
    frontier: tuple[PortfolioPoint, ...]
    notes: tuple[str, ...]
    seconds: float  # wall time of the decision (not in the JSON, which is hashed)

    def to_dict(self) -> dict[str, Any]:
        """The ``decision`` of ``hashpivot plan --json``."""
        return {
            "scenarios": self.scenarios,
            "basis": DECISION_BASIS,
            "sites": [s.to_dict() for s in self.sites],
            "portfolio": self.portfolio.to_dict()
            | {
                "cvar_level": self.cvar_level,
                "binding": dict(self.binding),
                "binding_step": dict(self.binding_step),
                "limits": dict(self.limits),
            },
            "keep": self.keep.to_dict(),
            "greedy": self.greedy.to_dict() | {"feasible": self.greedy_feasible},
            "frontier": [p.to_dict() for p in self.frontier],
            "notes": list(self.notes),
        }


DECISION_BASIS = (
    "Each site's alternatives are valued alone (100% of the site, before company-level "
    "sanctions haircuts, revenue taxes, expropriation, co-investor shares and debt), on the "
    "run's first paths; the portfolio maximises the sum of expected NPVs within the limits "
    "(sample-average MILP on HiGHS); P(default) is the company's, as configured, with the "
    "sites on the alternatives chosen, on the same paths."
)


@dataclass(frozen=True)
class PlanResult:
    """What a run produces. :meth:`summary` is the CLI's ``--json``, computed once."""

    plan_name: str
    seed: int
    n_paths: int
    n_months: int
    start_month: str
    npv_values: FloatArray = field(repr=False)  # [path] USD, in path order
    npv: NpvSummary
    p_cash_negative: tuple[float, ...]  # at month t
    p_cash_negative_ever: tuple[float, ...]  # at some month <= t
    fans: Fans
    sites: tuple[SiteResult, ...]
    tornado: Tornado
    calibration: Mapping[str, Any]
    assumptions: tuple[Mapping[str, str], ...]
    version: str = __version__
    default: DefaultResults | None = None
    market_assumptions: Mapping[str, Any] = field(default_factory=dict)
    decision: DecisionResult | None = None  # when the plan's sites declare alternatives

    def p_default(self) -> dict[str, float]:
        """P(default) within 12 and 24 months and by the horizon (as configured); without
        company finance, P(cumulative cash < 0) by then."""
        by = self.default.p_default_by_month["as_configured"] if self.default else None
        ever = by if by is not None else self.p_cash_negative_ever
        out = {f"{h}m": ever[h - 1] for h in (12, 24) if h <= self.n_months}
        out["horizon"] = ever[-1]
        return out

    def p_cash_negative_by_horizon(self) -> dict[str, float]:
        """P(cumulative cash < 0 at some month up to h) at the report horizons and the end."""
        out = {
            f"{h}m": self.p_cash_negative_ever[h - 1] for h in REPORT_HORIZONS if h <= self.n_months
        }
        out["horizon"] = self.p_cash_negative_ever[-1]
        return out

    def summary(self) -> dict[str, Any]:
        """The run's headline numbers (the public JSON of ``hashpivot plan --json``), computed
        once and shared: treat it as read-only."""
        return self._summary

    @cached_property
    def _summary(self) -> dict[str, Any]:
        d = self.default
        return {
            "plan": self.plan_name,
            "seed": self.seed,
            "paths": self.n_paths,
            "months": self.n_months,
            "start": self.start_month,
            "market_assumptions": dict(self.market_assumptions),
            "npv_definition": NPV_DEFINITION if d else NPV_DEFINITION_NO_FINANCE,
            "npv_usd": {k: getattr(self.npv, k) for k in ("mean", "p5", "p50", "p95")},
            "npv_usd_stderr": self.npv.stderr,
            "npv_usd_cvar5": self.npv.cvar5,
            "p_cash_negative_by_horizon": self.p_cash_negative_by_horizon(),
            "p_default": self.p_default(),
            **(
                {
                    "p_default_by_scenario": {
                        name: {f"{h}m": v[h - 1] for h in (12, 24) if h <= self.n_months}
                        | {"horizon": v[-1]}
                        for name, v in d.p_default_by_month.items()
                    },
                    "expected_shortfall_usd": d.expected_shortfall_usd,
                }
                if d
                else {}
            ),
            "sites": {
                s.name: {
                    "type": s.kind,
                    "cost_usd_per_btc": dict(s.cost_usd_per_btc),
                    "breakeven_btc_price_usd": s.breakeven_btc_price_usd,
                    "breakeven_power_usd_per_kwh": s.breakeven_power_usd_per_kwh,
                    "btc_mined": s.btc_mined,
                }
                for s in self.sites
            },
            "npv_usd_by_policy": {
                s.name: dict(s.conversion.npv_usd_by_policy)
                for s in self.sites
                if s.conversion is not None and s.conversion.npv_usd_by_policy is not None
            },
            **({"decision": self.decision.to_dict()} if self.decision is not None else {}),
        }

    # ------------------------------------------------------------------ frames for notebooks
    def to_frame(self) -> pd.DataFrame:
        """One row: the run's headline numbers, units in the column names (compare variants
        with ``pd.concat([a.to_frame(), b.to_frame()])``)."""
        row: dict[str, Any] = {
            "plan": self.plan_name,
            "seed": self.seed,
            "paths": self.n_paths,
            "months": self.n_months,
            "start": self.start_month,
        }
        row |= {f"npv_{k}_usd": v for k, v in self.npv.to_dict().items()}
        row |= {f"p_default_{k}": v for k, v in self.p_default().items()}
        row |= {f"p_cash_negative_{k}": v for k, v in self.p_cash_negative_by_horizon().items()}
        if self.default:
            row["expected_shortfall_usd"] = self.default.expected_shortfall_usd
        return pd.DataFrame([row]).set_index("plan")

    def fans_frame(self) -> pd.DataFrame:
        """Long table of the fan charts: one row per series and month, the bands as columns
        (``series`` names carry the unit: ``btc_price_usd``, ``hashprice_usd_per_ph_day`` …)."""
        months = pd.period_range(self.start_month, periods=self.n_months, freq="M")
        frames = []
        for name in self.fans:
            f = self.fans[name]
            frames.append(
                pd.DataFrame(
                    {
                        "series": name,
                        "month_index": np.arange(self.n_months),
                        "month": months.astype(str),
                    }
                    | {b: np.asarray(getattr(f, b)) for b in FAN_BANDS}
                )
            )
        return pd.concat(frames, ignore_index=True)

    def sites_frame(self) -> pd.DataFrame:
        """One row per site: capacity, hashrate, cost per BTC, breakevens and BTC mined (medians
        over paths), units in the column names."""
        return pd.DataFrame([site_row(s.to_dict()) for s in self.sites]).set_index("site")

    def npv_frame(self) -> pd.DataFrame:
        """The NPV of every path [USD], in path order."""
        return pd.DataFrame({"path": np.arange(self.npv_values.size), "npv_usd": self.npv_values})

    def tornado_frame(self) -> pd.DataFrame:
        """The tornado: one row per driver, largest swing first [USD]."""
        return pd.DataFrame(
            [asdict(r) | {"swing_usd": r.swing_usd} for r in self.tornado],
            columns=["driver", "low_npv_usd", "high_npv_usd", "base_npv_usd", "swing_usd"],
        )


def mw_by_action(decision: Mapping[str, Any]) -> dict[str, float]:
    """Megawatts of the sites going to each action, largest first, from a ``decision`` map (the
    JSON of :class:`DecisionResult`, as stored).

    Parameters
    ----------
    decision : mapping
        The ``decision`` of a run's summary.

    Returns
    -------
    dict of str to float
        Action → MW [MW].
    """
    out: dict[str, float] = {}
    for s in decision["sites"]:
        out[s["action"]] = out.get(s["action"], 0.0) + float(s["mw"])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def where_each_mw_goes(decision: Mapping[str, Any]) -> str:
    """One line: the MW going to each action, e.g. ``"250 MW mine_flexibly, 130 MW sell_site"``.

    Parameters
    ----------
    decision : mapping
        The ``decision`` of a run's summary.

    Returns
    -------
    str
        The actions with their MW, largest first.
    """
    return ", ".join(f"{mw:,.0f} MW {action}" for action, mw in mw_by_action(decision).items())


def month_label(start: str, months: int | None) -> str:
    """``"now"`` for month 0, else ``"m12 (2027-02)"`` from the plan's first month; ``"by
    policy"`` when the month depends on the path.

    Parameters
    ----------
    start : str
        The plan's first month, ``YYYY-MM``.
    months : int or None
        Months after it [month]; ``None``: set by the conversion policy, path by path.

    Returns
    -------
    str
        The label.
    """
    if months is None:
        return "by policy"
    if months == 0:
        return "now"
    y, m = (int(x) for x in start[:7].split("-"))
    y2, m2 = divmod(m - 1 + months, 12)
    return f"m{months} ({y + y2}-{m2 + 1:02d})"


def decision_site_rows(decision: Mapping[str, Any], start: str) -> list[list[str]]:
    """The decision table, one row per site: site, MW, action, when, NPV, value against
    keeping, next best and the cost of forcing it (the CLI's table and the report's).

    Parameters
    ----------
    decision : mapping
        The ``decision`` of a run's summary.
    start : str
        The plan's first month, ``YYYY-MM``.

    Returns
    -------
    list of list of str
        The formatted rows.
    """
    rows = []
    for site in decision["sites"]:
        nb, cost = site["next_best"], site["cost_to_force_next_best_usd"]
        rows.append(
            [
                site["site"],
                f"{site['mw']:,.0f}",
                site["action"],
                month_label(start, site["start_month"]),
                usd_compact(site["npv_usd"]),
                usd_compact(site["npv_vs_keep_usd"] or 0.0),
                "—" if nb is None else nb,
                "—" if cost is None else usd_compact(cost),
            ]
        )
    return rows


#: The columns of :func:`decision_site_rows`.
DECISION_COLUMNS = ("site", "MW", "action", "when", "NPV", "vs keep", "next best", "cost to force")


def step_text(limit: str, step: float | None) -> str:
    """How far a binding limit was relaxed to price it, in its own unit.

    Parameters
    ----------
    limit : str
        The limit's name in ``portfolio.binding`` (``capex_budget``, ``financing``,
        ``conversions_per_year``, ``leased_mw``, ``cvar_floor``, ``p_default_max``).
    step : float or None
        The step [USD, conversions a year or MW]; ``None`` where the limit has none.

    Returns
    -------
    str
        ``" by $100.0M a year"``, ``" by 1 a year"``, ``" by 50 MW"`` … or ``""``.
    """
    if step is None:
        return ""
    if limit == "conversions_per_year":
        return f" by {step:g} a year"
    if limit == "leased_mw":
        return f" by {step:,.4g} MW"
    return f" by {usd_compact(step)}" + (" a year" if limit == "capex_budget" else "")


def portfolio_rows(decision: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The portfolio against keeping everything and against the greedy choice, the binding
    limits with the value of relaxing each, the alternatives ruled out and the notes.

    Parameters
    ----------
    decision : mapping
        The ``decision`` of a run's summary.

    Returns
    -------
    list of (str, str)
        Label and text per row.
    """
    p, greedy = decision["portfolio"], decision["greedy"]
    alpha = f"CVaR{(1 - p['cvar_level']) * 100:g}%"

    def line(q: Mapping[str, Any]) -> str:
        odds = "n/a" if q["p_default"] is None else f"{q['p_default']:.1%}"
        return (
            f"E[NPV] {usd_compact(q['expected_npv_usd'])}, {alpha} "
            f"{usd_compact(q['cvar_usd'])}, P(default) {odds}"
        )

    fits = "fits the limits" if greedy["feasible"] else "breaks the limits"
    rows = [
        ("decided", line(p)),
        ("every site kept as is", line(decision["keep"])),
        ("each site's own best (greedy)", f"{line(greedy)} — {fits}"),
    ]
    for name, gain in p["binding"].items():
        by = step_text(name, p["binding_step"].get(name))
        rows.append((f"binding: {name}", f"relaxing it{by} is worth {usd_compact(gain)}"))
    ruled = {
        a["name"]: a["ruled_out"]
        for site in decision["sites"]
        for a in site["alternatives"]
        if a["ruled_out"]
    }
    rows += [(f"ruled out: {name}", why) for name, why in ruled.items()]
    rows += [("note", note) for note in decision["notes"]]
    return rows
