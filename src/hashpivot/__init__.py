"""hashpivot: where should each megawatt go — mine bitcoin, host AI, or sell the power back?

The Python API for analysts, in a notebook or a script::

    import hashpivot as hp

    plan = hp.load_plan("examples/bitriver.yaml", paths=2048, seed=7)
    result = hp.run_plan(plan)
    result.to_frame()          # headline numbers, one row
    result.fans_frame()        # BTC price, hashprice, hashrate and cash fans by month
    result.sites_frame()       # cost per BTC and breakevens by site

Underneath are pure functions per concept (``hashpivot.bitcoin.network``,
``hashpivot.sites.mining`` …) over NumPy arrays, thin frozen domain objects, one orchestrator
(``hashpivot.engine``) and a command line (``hashpivot``) on top. This module is the package's
face: it imports the engine only when one of its functions is called, so ``import hashpivot``
stays light, configures no logging and touches no network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:  # the types of the face's answers, for readers and the type checker
    import datetime as dt

    from .bitcoin.history import NetworkState
    from .buildout import Buildout
    from .config.models import PlanConfig
    from .dispatch.lp import DispatchResult
    from .engine.results import PlanResult
    from .engine.sweep import VariantResult
    from .executor import Executor
    from .sites.mining import SiteEconomics

__all__ = [
    "__version__",
    "cost_stack",
    "dispatch_site",
    "load_plan",
    "network_state",
    "run_buildout",
    "run_plan",
    "run_sweep",
]


def load_plan(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    paths: int | None = None,
    horizon_months: int | None = None,
    seed: int | None = None,
) -> PlanConfig:
    """Read and validate a plan YAML, with typed overrides.

    Parameters
    ----------
    path : str or Path
        The plan file (see ``examples/`` and ``docs/plan-schema.md``).
    overrides : mapping, optional
        ``{key path: value}`` with Python values, e.g.
        ``{"company.treasury.policy": "hold_all", "sites[0].power_usd_per_kwh": 0.045}``.
        Each is validated like the plan's own field [unit of that field].
    paths : int, optional
        Monte Carlo paths [-].
    horizon_months : int, optional
        Months simulated [month].
    seed : int, optional
        Random seed [-]; the same seed gives the same numbers on any chunk size.

    Returns
    -------
    PlanConfig
        The validated plan (frozen pydantic model).

    Raises
    ------
    hashpivot.errors.ConfigError
        Naming every invalid field, its value and what is allowed.
    """
    from .config.models import load_plan as _load

    plan, _ = _load(path, values=overrides, paths=paths, horizon_months=horizon_months, seed=seed)
    return plan


def run_plan(
    plan: PlanConfig,
    progress: Callable[[int, int], None] | None = None,
    *,
    chunk_size: int = 2048,
    tornado: bool = True,
    executor: Executor | None = None,
) -> PlanResult:
    """Simulate a plan: every site, the company's finance and default, over all its paths.

    Parameters
    ----------
    plan : PlanConfig
        From :func:`load_plan`.
    progress : callable, optional
        Called as ``progress(paths_done, paths_total)`` after each chunk.
    chunk_size : int, default 2048
        Paths per chunk [-], a multiple of 64; memory is bounded by the chunk, and the results do
        not depend on it.
    tornado : bool, default True
        Also compute the NPV sensitivities (13 re-evaluations of the first 1,024 paths).
    executor : hashpivot.executor.Executor, optional
        Where the path blocks run (``hashpivot.executor.local_cluster(2)``,
        ``hashpivot.executor.connect("tcp://HOST:8786")``); by default in this process. The
        numbers are the same wherever they run.

    Returns
    -------
    PlanResult
        Frozen; ``summary()`` is the JSON of ``hashpivot plan --json``; ``to_frame()``,
        ``fans_frame()``, ``sites_frame()``, ``npv_frame()``, ``tornado_frame()`` give pandas
        DataFrames with units in the column names. Nothing is stored: ``hashpivot plan`` stores
        and audits runs.
    """
    from dataclasses import replace

    from .engine.decision import decide_plan
    from .engine.run import run

    decided = decide_plan(plan) if plan.has_alternatives else None
    result = run(
        plan, chunk_size=chunk_size, progress=progress, with_tornado=tornado, executor=executor
    )
    return replace(result, decision=decided)


def run_sweep(
    path: str | Path,
    vary: list[str] | tuple[str, ...] = (),
    *,
    ranges: list[str] | tuple[str, ...] = (),
    lhs: int | None = None,
    paths: int | None = None,
    seed_per_variant: bool = False,
    executor: Executor | None = None,
) -> list[VariantResult]:
    """A sensitivity sweep of a plan file, without storing it (``hashpivot sweep`` stores).

    Parameters
    ----------
    path : str or Path
        The plan file.
    vary : sequence of str
        Grid keys, ``"KEY=v1,v2"`` or ``"KEY=LOW:HIGH:N"`` (crossed).
    ranges : sequence of str
        Latin-hypercube keys, ``"KEY=LOW:HIGH"`` (with ``lhs``).
    lhs : int, optional
        Points of the Latin hypercube [-].
    paths : int, optional
        Paths of each variant [-].
    seed_per_variant : bool, default False
        Each variant its own seed (keyed by its index) instead of the plan's.
    executor : hashpivot.executor.Executor, optional
        Where the variants run; by default in this process.

    Returns
    -------
    list of VariantResult
        In variant order: ``overrides``, ``npv_usd`` (mean/p5/p50/p95) [USD], ``p_default`` by
        horizon [-], ``decision``; ``to_dict()`` for each row.

    Raises
    ------
    hashpivot.errors.ConfigError
        A variant that does not validate (named), before anything runs.
    """
    from .config.io import read_text
    from .engine import sweep
    from .executor import in_process
    from .runs import sweeps

    spec = sweeps.SweepSpec(
        vary=list(vary),
        ranges=list(ranges),
        lhs=lhs,
        paths=paths,
        seed_per_variant=seed_per_variant,
    )
    items, _, _ = sweeps.prepare(read_text(path), str(path), spec)
    done = sweep.run_sweep(items, executor or in_process())
    return sweep.collect(done, len(items))


def network_state(date: str | dt.date | None = None) -> NetworkState:
    """The Bitcoin network on a day of the shipped history (the latest by default).

    Parameters
    ----------
    date : str or datetime.date or None
        The day (ISO date, ``"2024-04-20"``); ``None`` for the last day of the data.

    Returns
    -------
    NetworkState
        Height [block], subsidy [BTC/block], difficulty [-], hashrate [EH/s], fees [BTC/day],
        price [USD] and hashprice [USD/PH/day]; ``.to_frame()`` gives one row.

    Raises
    ------
    hashpivot.errors.DataRangeError
        A day outside the shipped data, naming the range.

    References
    ----------
    .. [1] Luxor, "Hashprice" (definition of USD/PH/day), https://hashrateindex.com.
    """
    from .bitcoin.history import network_state as _state

    return _state(date)


def cost_stack(site_file: str | Path) -> SiteEconomics:
    """A site file's economics (``hashpivot cost SITE.yaml``).

    Parameters
    ----------
    site_file : str or pathlib.Path
        The site YAML (see ``examples/industry_average_2025.yaml``).

    Returns
    -------
    SiteEconomics
        The cost to mine one BTC (energy, cash, all-in) [USD/BTC] and its breakevens;
        ``.to_frame()`` gives the cost stack.

    Raises
    ------
    hashpivot.errors.ConfigError
        Naming every invalid field.
    """
    from .config.models import load_site_file
    from .sites.mining import site_economics

    sf = load_site_file(site_file)
    return site_economics(sf.site.to_site(), sf.market.to_market())


def dispatch_site(site_file: str | Path, prices: str) -> DispatchResult:
    """Hour-by-hour dispatch of a site file against a shipped price series, solved on HiGHS.

    Parameters
    ----------
    site_file : str or pathlib.Path
        A site YAML with a ``dispatch`` section (see ``examples/texas_ppa_2023.yaml``).
    prices : str
        A shipped market name such as ``ercot:LZ_WEST:2023``.

    Returns
    -------
    DispatchResult
        ``.to_frame()`` gives the hours: price [USD/MWh], mining value [USD/MWh], mined load and
        reserve [MW].

    Raises
    ------
    hashpivot.errors.InputError
        An unknown market, or a site file without ``dispatch``.
    """
    from .config.models import load_site_file
    from .data.power_prices import hourly_prices
    from .dispatch.site_file import run_site_file

    result, _accounts = run_site_file(load_site_file(site_file), hourly_prices(prices))
    return result


def run_buildout(campaign: str | Path, overrides: list[str] | None = None) -> Buildout:
    """A GW-scale AI build-out campaign (``hashpivot buildout CAMPAIGN.yaml``): the monthly
    schedule, capex stack and funding; ``.summary()`` is the command's JSON core and
    ``.to_frame()`` one row per month [GW, USD].

    Parameters
    ----------
    campaign : str or Path
        The campaign YAML (see ``examples/openai_16gw.yaml``).
    overrides : list of str, optional
        ``KEY=VALUE`` texts, as the command's ``--set``.

    Returns
    -------
    Buildout
        ``.summary()`` is the command's JSON core and ``.to_frame()`` one row per month [GW,
        USD].
    """
    from . import buildout
    from .config.buildout import load_campaign

    cfg, _ = load_campaign(str(campaign), overrides)
    result, _sensitivities = buildout.run(cfg)
    return result
