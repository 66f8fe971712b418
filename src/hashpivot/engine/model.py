"""The orchestrator's own types: the model of a plan built once per run (:class:`PlanModel`)
and one chunk evaluated (:class:`Evaluation`). A module of their own so that the orchestrator
(:mod:`hashpivot.engine.run`) and its helpers (company finance, site results) all import down to
it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..config.models import PlanConfig
from ..finance import company
from ..market import scenarios
from ..sites.kernel import SiteParams
from ..sites.site import Site
from ..units import FloatArray
from . import special_sites as converted


@dataclass(frozen=True)
class PlanModel:
    """Everything needed to evaluate paths; built once per run."""

    plan: PlanConfig
    market: scenarios.MarketModel
    mining_sites: tuple[Site | None, ...]  # every site's mining part (None: does not mine)
    params: SiteParams  # the plain mining sites, for the fused kernel
    plain: npt.NDArray[np.int64]  # their positions in the plan's site list
    special: tuple[converted.SpecialSite, ...]
    pool_fee: FloatArray  # [site]
    start_month: npt.NDArray[np.int64]  # [site]
    capex_usd: FloatArray  # [site, month]
    depreciation_usd: FloatArray  # [site, month]
    active_months: FloatArray  # [site]: active months weighted by days / DAYS_PER_MONTH
    corporate_share: FloatArray  # [site]: share of corporate costs (by capacity)
    variants: dict[str, company.CompanyModel] | None = None  # company finance, when engaged
    tax_factor: FloatArray | None = None  # [group, month]: BTC kept after revenue taxes
    hedge_notional_ph: FloatArray | None = None  # [month]: PH/s sold forward

    @property
    def n_months(self) -> int:
        """Months simulated [month]."""
        return self.plan.horizon_months

    @property
    def monthly_discount(self) -> float:
        """Discount factor of one month [-] from the plan's annual rate."""
        return (1.0 + self.plan.discount_rate_annual) ** (-1.0 / 12.0)

    @property
    def corporate_cash_usd_per_month(self) -> float:
        """Corporate SG&A and interest paid in cash [USD/month]."""
        c = self.plan.company
        return c.sga_cash_usd_per_month + c.interest_usd_per_month


@dataclass
class Evaluation:
    """One chunk evaluated: company cash ``[path, month]``, the horizon value of contracted cash
    after the horizon ``[path]``, mining totals of every site ``[site, path]`` and the special
    sites' outcomes."""

    company_usd: FloatArray
    tail_usd: FloatArray
    totals: dict[str, FloatArray]
    special: list[converted.SpecialOutcome]
    finance: dict[str, company.CompanyOutcome] | None = None  # by scenario variant
    cash_usd: FloatArray | None = None  # the company's cash by month (finance engaged)


class TrainingPaths:
    """The run's fixed training set: its first ``min(paths, TRAIN_PATHS)`` market paths,
    simulated once, on first use, and shared by everything fitted or averaged on them (the
    conversion policies, the hedge strikes, the exercise boundaries, the tornado). A fixed set,
    so nothing fitted on it depends on the chunk size; the block-keyed random numbers make its
    first ``n`` paths the run's own first ``n``."""

    def __init__(self, model: PlanModel, seeds: list[np.random.SeedSequence]) -> None:
        self.model = model
        self.seeds = seeds
        self.n_paths = min(model.plan.paths, converted.TRAIN_PATHS)
        self._paths: scenarios.MarketPaths | None = None

    def paths(self, n: int | None = None) -> scenarios.MarketPaths:
        """The first ``n`` training paths (all of them by default)."""
        if self._paths is None:
            blocks = -(-self.n_paths // scenarios.PATH_BLOCK)
            m = self.model
            self._paths = scenarios.simulate(
                m.market, m.n_months, self.seeds, 0, blocks, m.plan.paths
            )
        n = self.n_paths if n is None else min(n, self.n_paths)
        return self._paths.take(n)


class AccKeys:
    """The names under which a run's chunks fold per-path results into the
    :class:`~hashpivot.finance.metrics.PathAccumulator`: written by
    :func:`~hashpivot.engine.run.fold_chunk`, read by the reductions, spelled only here."""

    NPV = "npv"
    NEGATIVE_NOW = "negative_now"
    NEGATIVE_EVER = "negative_ever"
    SHORTFALL = "shortfall"

    @staticmethod
    def conversion_month(site: str) -> str:
        """The month each path converts ``site`` (horizon: never)."""
        return f"conversion_month:{site}"

    @staticmethod
    def policy(site: str, policy: str) -> str:
        """The value of ``site`` under conversion ``policy`` on each path [USD]."""
        return f"policy:{site}:{policy}"

    @staticmethod
    def default(scenario: str) -> str:
        """Defaults by month under company-finance ``scenario`` (a count)."""
        return f"default:{scenario}"

    @staticmethod
    def flow(name: str) -> str:
        """The company flow ``name`` summed over months on each path [USD]."""
        return f"flow:{name}"
