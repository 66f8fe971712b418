"""Compiled market simulation: the block generators' normals and the fused monthly recursion.

:func:`fill_standard_normal` draws a block's normals with numba's port of NumPy's ziggurat on the
block's own :class:`numpy.random.Generator` — the same stream NumPy's ``standard_normal`` gives
(the tests hold it to that), about three times faster, and without the GIL, so blocks are drawn
on several threads.

:func:`market_recursion_numba` runs the monthly recursions of
:func:`hashpivot.market.scenarios.recursion_numpy` path by path (parallel over paths) on the raw
block
shocks, correlating and mirroring them itself. The recursion is carried in logs so that its
month-to-month dependency chain is additions only: with :math:`\\ell h` the log hashrate,
:math:`g` the month's log growth, :math:`\\ell p` the log price at the month's middle, :math:`S`
the average subsidy and :math:`F` the fees per block [BTC],

.. math::
    \\ell hp_t = \\log(1000\\,k) + \\log(S_t + F_t) + \\ell p_t - (\\ell h_{t-1} + g_t/2)

(:math:`k` converts the hashrate-weighted difficulty into BTC per TH/s per day), and the next
month's growth reads :math:`\\ell hp_t`. The exponentials (price, blocks, fees) leave the
chain, and :math:`\\log(S_t + F_t)` depends only on the fees and the era (which changes at a
halving only), so the processor overlaps it across months instead of waiting on it. Results
agree with the NumPy reference to rounding (``rtol`` 1e-12 in tests).
"""

from __future__ import annotations

import numpy as np

from .._numba import HAVE_NUMBA
from ..workspace import Workspace, empty
from .types import (
    ERA_SUBSIDY_BTC,
    PATH_BLOCK,
    BlockShocks,
    FloatArray,
    MarketPaths,
    RecursionCoefficients,
)

#: 1 / m! for m = 0 … 16 (Taylor coefficients of exp).
_INV_FACTORIAL = 1.0 / np.cumprod(np.r_[1.0, np.arange(1.0, 17.0)])

if HAVE_NUMBA:
    from numba import njit, prange

    @njit(nogil=True, cache=True)
    def _fill_normals(rng, out):  # pragma: no cover - compiled
        flat = out.reshape(out.size)
        for i in range(flat.size):
            flat[i] = rng.standard_normal()


def fill_standard_normal(rng: np.random.Generator, out: FloatArray) -> None:
    """Fill the C-contiguous ``out`` with ``rng``'s next standard normals.

    The same numbers and generator state as ``rng.standard_normal(out=out)``; releases the GIL.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator (advanced in place).
    out : numpy.ndarray of float
        C-contiguous float64 array to fill [-].
    """
    if HAVE_NUMBA and out.flags.c_contiguous:
        _fill_normals(rng, out)
    else:  # pragma: no cover
        rng.standard_normal(out=out)


if HAVE_NUMBA:

    @njit(cache=True)
    def _avg_subsidy(h0, h1, era_subsidy):  # pragma: no cover - compiled
        total = 0.0
        era = int(h0 // 210000.0)
        while era < era_subsidy.shape[0]:
            start = era * 210000.0
            if start >= h1:
                break
            end = start + 210000.0
            lo = h0 if h0 > start else start
            hi = h1 if h1 < end else end
            if hi > lo:
                total += (hi - lo) * era_subsidy[era]
            era += 1
        return total / (h1 - h0)

    @njit(cache=True, inline="always")
    def _exp_near_zero(x):  # pragma: no cover - compiled
        # exp by its Taylor series to x**16 for |x| <= 0.35 (truncation below 1e-20 relative):
        # inlined multiply-adds the processor pipelines, where a libm call would stall the loop.
        # A month's half log-growth of hashrate is far inside that range; np.exp otherwise.
        if x > 0.35 or x < -0.35:
            return np.exp(x)
        acc = _INV_FACTORIAL[16]
        for m in range(15, -1, -1):  # Horner
            acc = acc * x + _INV_FACTORIAL[m]
        return acc

    @njit(parallel=True, cache=True, nogil=True)
    def _linear(
        u,
        block,
        chol,
        antithetic,
        boot,
        use_boot,
        drift,
        vol,
        t_mid,
        lp0,
        lf0,
        fc,
        pc,
        lp_o,
        lf_o,
        zh_o,
        power,
    ):  # pragma: no cover - compiled
        # The recursions that do not feed back: log price at mid-month, log fees (AR(1)),
        # log power indices (AR(1)), and the hashrate shock, all from the correlated shocks.
        # One task per row of ``u``: its shocks are correlated once, over all months at a time
        # (contiguous, vectorised), for the path and, with antithetic variates, its mirror.
        n, n_months = lp_o.shape
        k = chol.shape[0]
        n_power = pc.shape[0]
        f_mean, f_phi, f_innov = fc[0], fc[1], fc[2]
        half = u.shape[2]
        n_blocks = u.shape[0]
        for task in prange(n_blocks * half):
            blk_i = task // half
            row = task % half
            z = np.zeros((k, n_months))
            for q in range(k):  # z = L u over all months
                for m in range(q + 1):
                    cqm = chol[q, m]
                    for t in range(n_months):
                        z[q, t] += cqm * u[blk_i, m, row, t]
            for twin in range(2 if antithetic else 1):
                i = blk_i * block + row + twin * half
                if i >= n:
                    break
                sign = -1.0 if twin else 1.0
                lp = lp0
                lf = lf0
                for t in range(n_months):
                    if use_boot:  # the joint bootstrap's months replace the three shocks
                        r, zh, zf = boot[0, i, t], boot[1, i, t], boot[2, i, t]
                    else:
                        r = drift[t] + vol[t] * sign * z[0, t]
                        zh, zf = sign * z[1, t], sign * z[2, t]
                    lp_o[i, t] = lp + 0.5 * r
                    lp = lp + r
                    lf = f_mean + f_phi * (lf - f_mean) + f_innov * zf
                    lf_o[i, t] = lf
                    zh_o[i, t] = zh
                for q in range(n_power):
                    phi, innov, esc = pc[q, 0], pc[q, 1] * sign, pc[q, 2]
                    x = 0.0
                    for t in range(n_months):
                        x = phi * x + innov * z[3 + q, t]
                        power[q, i, t] = esc * t_mid[t] + x

    @njit(parallel=True, cache=True, nogil=True)
    def _network(
        lp_mid,
        days,
        frac,
        t_years,
        lh0,
        lhp0,
        height0,
        hc,
        era_sub,
        hash_eh,
        diff,
        blocks_o,
        sub_o,
        fees_o,
        bpt_o,
    ):  # pragma: no cover - compiled
        # The feedback loop: hashrate responds to last month's hashprice, which depends on this
        # month's hashrate, subsidy and fees. In: log price (lp_mid), fees per block (fees_o)
        # and the hashrate shock (hash_eh); each is read before its slot is overwritten with
        # the output.
        n, n_months = lp_mid.shape
        a, b, c, sig, rho, eps0 = hc[0], hc[1], hc[2], hc[3], hc[4], hc[5]
        to_diff = 1e18 * 600.0 / 4294967296.0  # difficulty per EH/s
        k_bpt = 86400.0 * 1e12 / (to_diff * 4294967296.0)  # BTC/TH/day = k (S + fees) / EH/s
        log_k = np.log(1000.0 * k_bpt)
        n_eras = era_sub.shape[0]
        for i in prange(n):
            lh = lh0  # log hashrate [EH/s], for the recursion
            level_h = np.exp(lh0)  # the same as a level, for the outputs
            lhp = lhp0
            eps = eps0  # the hashrate error, AR(1)
            height = height0
            era = min(int(height0 // 210000.0), n_eras - 1)
            era_end = (era + 1) * 210000.0
            for t in range(n_months):
                f = frac[t]  # < 1 for a partial first period: its share of drift and variance
                eps = rho * eps + sig * hash_eh[i, t]
                growth = f * (a + b * lhp + c * t_years[t]) + np.sqrt(f) * eps
                lh_eff = lh + 0.5 * growth
                lh = lh + growth
                half_growth = _exp_near_zero(0.5 * growth)
                blk = days[t] * 144.0 * half_growth
                h1 = height + blk
                if h1 <= era_end:
                    sub = era_sub[era]
                else:  # a halving falls in the month
                    sub = _avg_subsidy(height, h1, era_sub)
                    era = min(int(h1 // 210000.0), n_eras - 1)
                    era_end = (era + 1) * 210000.0
                height = h1
                fee = fees_o[i, t]
                lhp = log_k + np.log(sub + fee) + lp_mid[i, t] - lh_eff
                e_eff = level_h * half_growth  # geometric mean of last and this month
                level_h = e_eff * half_growth
                hash_eh[i, t] = level_h
                diff[i, t] = e_eff * to_diff
                blocks_o[i, t] = blk
                sub_o[i, t] = sub
                fees_o[i, t] = fee
                bpt_o[i, t] = k_bpt * (sub + fee) / e_eff


def market_recursion_numba(
    coef: RecursionCoefficients,
    shocks: BlockShocks,
    chol: FloatArray,
    workspace: Workspace | None = None,
) -> MarketPaths:
    """Fused market recursion (numba, parallel over paths) on the raw block shocks.

    Agrees with :func:`hashpivot.market.scenarios.recursion_numpy` on the same shocks. With a
    ``workspace`` the paths live in its arrays (valid until the next chunk).

    Parameters
    ----------
    coef : RecursionCoefficients
        From :func:`hashpivot.market.scenarios.recursion_coefficients`.
    shocks : BlockShocks
        Raw standard normals by block (mirrored here when antithetic).
    chol : numpy.ndarray of float
        Cholesky factor of the shocks' correlation matrix [-].
    workspace : Workspace or None
        Reusable arrays.

    Returns
    -------
    MarketPaths
        The paths ``[path, month]``.
    """
    n, n_months = shocks.n_paths, coef.days.shape[0]
    k = coef.power_coef.shape[0]
    names = ("price", "hashrate", "difficulty", "blocks", "subsidy", "fees", "bpt")
    out = [empty(workspace, f"market.{name}", (n, n_months)) for name in names]
    power = empty(workspace, "market.power", (k, n, n_months))
    use_boot = shocks.boot is not None
    boot = shocks.boot if use_boot else np.zeros((3, 1, 1))
    price, hash_eh, diff, blocks, sub, fees, bpt = out
    _linear(
        shocks.u,
        PATH_BLOCK,
        chol,
        shocks.antithetic,
        boot,
        use_boot,
        coef.drift,
        coef.vol,
        coef.t_mid,
        coef.log_price0,
        coef.log_fees_btc_per_block0,
        coef.fee_coef,
        coef.power_coef,
        price,
        fees,
        hash_eh,
        power,
    )
    # The exponentials and logs outside the feedback loop, as whole-array (SIMD) passes.
    np.exp(fees, out=fees)  # fees per block [BTC]
    _network(
        price,
        coef.days,
        coef.frac,
        coef.t_years,
        coef.log_hashrate0,
        coef.log_hashprice0,
        coef.height0,
        coef.hashrate_coef,
        ERA_SUBSIDY_BTC,
        hash_eh,
        diff,
        blocks,
        sub,
        fees,
        bpt,
    )
    np.exp(price, out=price)
    np.exp(power, out=power)
    return MarketPaths(
        price_usd=price,
        hashrate_eh_s=hash_eh,
        difficulty=diff,
        blocks=blocks,
        subsidy_btc=sub,
        fees_btc_per_block=fees,
        btc_per_th_day=bpt,
        days=coef.days,
        index_values=power,
    )
