"""The market simulation's types, shared by the calibration and NumPy reference
(:mod:`hashpivot.market.scenarios`) and the compiled kernel (:mod:`hashpivot.market.kernel`): a
module
of their own so that both import down to it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ..bitcoin import network
from ..units import FloatArray

#: Paths per random-number block. Chunks are whole numbers of blocks.
PATH_BLOCK = 64

#: The block subsidy of each era [BTC] (era k: heights 210,000·k …).
ERA_SUBSIDY_BTC = np.array(
    [(network.INITIAL_SUBSIDY_SATS >> e) / network.COIN_SATS for e in range(34)]
)


@dataclass(frozen=True)
class MarketPaths:
    """Simulated monthly market state, each array ``[path, month]``.

    ``price_usd`` is the month's average price (geometric mean of the month's start and end),
    ``btc_per_th_day`` the expected BTC a TH/s earns per day in that month (subsidy and fees at
    that month's difficulty), ``days`` the days in the month, ``blocks`` and ``subsidy_btc``
    per-block averages, ``index_values[k]`` the k-th price index (1 at the start).
    """

    price_usd: FloatArray
    hashrate_eh_s: FloatArray
    difficulty: FloatArray
    blocks: FloatArray
    subsidy_btc: FloatArray
    fees_btc_per_block: FloatArray
    btc_per_th_day: FloatArray
    days: FloatArray  # [month]
    index_values: FloatArray  # [index, path, month]
    event_uniforms: FloatArray | None = None  # [event, path]

    @property
    def hashprice_usd_per_ph_day(self) -> FloatArray:
        """Hashprice per ``[path, month]`` [USD/PH/day]."""
        return self.btc_per_th_day * 1000.0 * self.price_usd

    def take(self, n: int) -> MarketPaths:
        """The first ``n`` paths."""
        return replace(
            self,
            **{
                k: getattr(self, k)[:n]
                for k in (
                    "price_usd",
                    "hashrate_eh_s",
                    "difficulty",
                    "blocks",
                    "subsidy_btc",
                    "fees_btc_per_block",
                    "btc_per_th_day",
                )
            },
            index_values=self.index_values[:, :n],
            event_uniforms=None if self.event_uniforms is None else self.event_uniforms[:, :n],
        )


@dataclass(frozen=True)
class BlockShocks:
    """Uncorrelated standard normals of a run of blocks as drawn, ``u[block, shock, row, month]``
    (``row`` < half a block with antithetic variates: the second half of each block uses the
    negated rows of the first), the joint bootstrap's shocks ``[shock, path, month]`` (BTC
    log-return, hashrate and fee innovations in sd units) if the BTC model resamples, and the
    number of paths covered (the run's last block may be cut short)."""

    u: FloatArray
    boot: FloatArray | None
    n_paths: int
    antithetic: bool
    events: FloatArray | None = None  # [event, path]: uniforms (antithetic rows use 1 − U)

    def path_rows(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
        """For each path: its block, its row in ``u`` and the sign of its shocks."""
        i = np.arange(self.n_paths)
        block, j = i // PATH_BLOCK, i % PATH_BLOCK
        if not self.antithetic:
            return block, j, np.ones(self.n_paths)
        half = PATH_BLOCK // 2
        return block, np.where(j < half, j, j - half), np.where(j < half, 1.0, -1.0)


@dataclass(frozen=True)
class RecursionCoefficients:
    """Everything the monthly recursions need besides the shocks."""

    days: FloatArray
    frac: FloatArray  # each period's share of its calendar month (< 1: a partial first period)
    t_years: FloatArray  # years since 2016 at each month's start
    t_mid: FloatArray  # years since the plan start at each month's middle
    drift: FloatArray  # GBM log-drift of each month
    vol: FloatArray  # GBM sd of each month's log-return
    log_price0: float
    log_hashrate0: float
    log_hashprice0: float
    height0: float
    log_fees_btc_per_block0: float
    hashrate_coef: FloatArray  # a, b, c, sigma (innovation sd), rho, eps0 (the last error)
    fee_coef: FloatArray  # mean_log, phi, innovation sd
    power_coef: FloatArray  # [index, 3]: phi, innovation sd, escalator
