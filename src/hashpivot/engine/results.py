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
