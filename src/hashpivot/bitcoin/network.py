"""Bitcoin consensus economics, exact.

Subsidy schedule, compact ``nBits`` ↔ target ↔ difficulty, the 2016-block retarget, hashrate ↔
difficulty and hashprice. Integer consensus rules use Python integers and reproduce Bitcoin Core
bit for bit (``GetBlockSubsidy``, ``arith_uint256::SetCompact``/``GetCompact``,
``CalculateNextWorkRequired``, ``GetDifficulty``); the economic functions are vectorised over NumPy
arrays.

References
----------
.. [1] Bitcoin Core, ``src/validation.cpp`` (``GetBlockSubsidy``), ``src/pow.cpp``
   (``CalculateNextWorkRequired``), ``src/arith_uint256.cpp`` (``SetCompact``, ``GetCompact``),
   ``src/rpc/blockchain.cpp`` (``GetDifficulty``).
.. [2] Luxor Technology, *Hashrate Index* methodology: hashprice = expected mining revenue per unit
   of hashrate per day, ``86400 · 1e15 / (D · 2^32) · (subsidy + fees) · price`` per PH/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InputError, InvalidBitsError
from ..units import FloatArray

#: Satoshis per bitcoin.
COIN_SATS = 100_000_000
#: Blocks between subsidy halvings.
HALVING_INTERVAL_BLOCKS = 210_000
#: Subsidy of the first era, in satoshis (50 BTC).
INITIAL_SUBSIDY_SATS = 50 * COIN_SATS
#: Target spacing between blocks [s].
TARGET_SPACING_S = 600
#: Blocks per difficulty retarget period.
RETARGET_INTERVAL_BLOCKS = 2016
#: Target timespan of one retarget period [s] (two weeks).
TARGET_TIMESPAN_S = RETARGET_INTERVAL_BLOCKS * TARGET_SPACING_S
#: Main-net proof-of-work limit (``consensus.powLimit``), the easiest allowed target.
POW_LIMIT = (1 << 224) - 1
#: Target of difficulty 1 (``0x1d00ffff`` decoded): ``0xffff · 2^208``.
DIFFICULTY_1_TARGET = 0xFFFF << 208
#: Seconds per day.
SECONDS_PER_DAY = 86_400
#: Hashes in one PH/s-day divided by seconds per day, i.e. hashes per second per PH/s.
H_PER_PH = 1e15
#: ``2^32``: expected hashes per unit of difficulty.
TWO_32 = float(1 << 32)

ArrayLike = npt.ArrayLike


# --------------------------------------------------------------------------- subsidy
def block_subsidy_sats(height: int) -> int:
    """Block subsidy at ``height`` in satoshis, as Bitcoin Core's ``GetBlockSubsidy``.

    ``50 BTC >> (height // 210000)``, and zero from the 64th halving on (a right shift of a
    64-bit integer by 64 or more is undefined in C++, so Core returns 0 explicitly).

    Parameters
    ----------
    height : int
        Block height [blocks], >= 0.

    Returns
    -------
    int
        Subsidy [sat].
    """
    height = _require_height(height)
    halvings = height // HALVING_INTERVAL_BLOCKS
    if halvings >= 64:
        return 0
    return INITIAL_SUBSIDY_SATS >> halvings


def block_subsidy_btc(height: ArrayLike) -> FloatArray:
    """Vectorised block subsidy [BTC] for an array of heights (same rule as
    :func:`block_subsidy_sats`).

    Parameters
    ----------
    height : int or array of int
        Block heights [block], whole and ≥ 0.

    Returns
    -------
    ndarray
        Subsidy [BTC] at each height.
    """
    h = np.asarray(height)
    if not np.issubdtype(h.dtype, np.integer):
        if not np.all(np.isfinite(h)) or np.any(h != np.floor(h)):
            raise InputError("height", height, "whole block heights >= 0")
        h = h.astype(np.int64)
    if np.any(h < 0):
        raise InputError("height", height, "whole block heights >= 0")
    halvings = h // HALVING_INTERVAL_BLOCKS
    sats = np.where(
        halvings >= 64, 0, np.right_shift(INITIAL_SUBSIDY_SATS, np.minimum(halvings, 63))
    )
    return sats.astype(np.float64) / COIN_SATS


def supply_sats_at_height(height: int) -> int:
    """Total subsidy issued by blocks ``0..height`` inclusive [sat].

    Counts the genesis block's 50 BTC (unspendable, but part of the conventional supply figure).
    Summed over all heights this is 2,099,999,997,690,000 sat.

    Parameters
    ----------
    height : int
        The last block counted [block], ≥ 0.

    Returns
    -------
    int
        Issued subsidy [sat], exact.
    """
    height = _require_height(height)
    total = 0
    era = 0
    while era < 64:
        start = era * HALVING_INTERVAL_BLOCKS
        if start > height:
            break
        end = min(height, start + HALVING_INTERVAL_BLOCKS - 1)
        total += (end - start + 1) * (INITIAL_SUBSIDY_SATS >> era)
        era += 1
    return total


def halving_height(n: int) -> int:
    """Height of the ``n``-th halving: ``210000 · n``.

    Parameters
    ----------
    n : int
        Which halving [-], ≥ 1 (the fourth, at 840,000, cut the subsidy to 3.125 BTC).

    Returns
    -------
    int
        Its first block [block].
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise InputError("halving", n, "an integer >= 1")
    return int(n) * HALVING_INTERVAL_BLOCKS


def _require_height(height: int) -> int:
    if isinstance(height, bool) or not isinstance(height, int | np.integer) or height < 0:
        raise InputError("height", height, "an integer >= 0")
    return int(height)


# --------------------------------------------------------------------------- compact bits
@dataclass(frozen=True)
class CompactDecoding:
    """Result of decoding a compact ``nBits`` value exactly as ``arith_uint256::SetCompact``.

    Attributes
    ----------
    target : int
        The (unsigned) 256-bit value; 0 when the mantissa shifts out entirely.
    negative : bool
        Sign bit (0x00800000) set with a non-zero mantissa.
    overflow : bool
        The value does not fit in 256 bits.
    """

    target: int
    negative: bool
    overflow: bool


def decode_compact(bits: int) -> CompactDecoding:
    """Decode a 32-bit compact value with Bitcoin Core's ``SetCompact`` semantics.

    ``bits = exponent(8 bits) | sign(1 bit) | mantissa(23 bits)``; the value is
    ``mantissa · 256^(exponent − 3)``.

    Parameters
    ----------
    bits : int
        The compact value (``nBits`` of a header) [-].

    Returns
    -------
    CompactDecoding
        The value and its negative and overflow flags.

    References
    ----------
    .. [1] Bitcoin Core, ``arith_uint256::SetCompact`` in ``src/arith_uint256.cpp``.
    """
    bits = _require_u32("bits", bits)
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)
        target = word
    else:
        target = word << (8 * (size - 3))
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (
        (size > 34) or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    if overflow:
        target = target & ((1 << 256) - 1)
    return CompactDecoding(target=target, negative=negative, overflow=overflow)


def bits_to_target(bits: int) -> int:
    """Target encoded by compact ``bits`` (Bitcoin Core ``SetCompact``).

    Parameters
    ----------
    bits : int
        The compact value (``nBits``) [-].

    Returns
    -------
    int
        The 256-bit target [-].

    Raises
    ------
    InvalidBitsError
        If the encoding is negative or overflows 256 bits; consensus rejects both.
    """
    dec = decode_compact(bits)
    if dec.negative:
        raise InvalidBitsError("bits", hex(bits), "a compact target without the sign bit set")
    if dec.overflow:
        raise InvalidBitsError("bits", hex(bits), "a compact target that fits in 256 bits")
    return dec.target


def target_to_bits(target: int) -> int:
    """Compact encoding of ``target`` (Bitcoin Core ``GetCompact(false)``).

    The mantissa never has the sign bit set: when it would, the mantissa is shifted down one byte
    and the exponent raised, so ``bits_to_target(target_to_bits(t))`` equals ``t`` truncated to
    its three most significant bytes.

    Parameters
    ----------
    target : int
        A non-negative 256-bit target [-].

    Returns
    -------
    int
        The compact encoding (``nBits``) [-].

    References
    ----------
    .. [1] Bitcoin Core, ``arith_uint256::GetCompact`` in ``src/arith_uint256.cpp``.
    """
    if isinstance(target, bool) or not isinstance(target, int) or target < 0:
        raise InputError("target", target, "an integer >= 0")
    if target >= 1 << 256:
        raise InputError("target", hex(target), "an integer < 2^256")
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = target << (8 * (3 - size))
    else:
        compact = target >> (8 * (size - 3))
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return (size << 24) | compact


def bits_to_difficulty(bits: int) -> float:
    """Difficulty of compact ``bits`` exactly as Bitcoin Core's ``GetDifficulty`` computes it.

    ``0xffff / mantissa`` scaled by powers of 256 to exponent 29, in IEEE double arithmetic, so
    the result equals ``getdifficulty`` bit for bit (e.g. ``0x17034219`` →
    86,388,558,925,171.02, the difficulty at block 840,000).

    Parameters
    ----------
    bits : int
        The compact value (``nBits``) [-].

    Returns
    -------
    float
        The difficulty [-].

    References
    ----------
    .. [1] Bitcoin Core, ``GetDifficulty`` in ``src/rpc/blockchain.cpp``.
    """
    bits = _require_u32("bits", bits)
    if bits & 0x00FFFFFF == 0:
        raise InvalidBitsError("bits", hex(bits), "a compact target with a non-zero mantissa")
    shift = (bits >> 24) & 0xFF
    diff = float(0x0000FFFF) / float(bits & 0x00FFFFFF)
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


def target_to_difficulty(target: int) -> float:
    """Difficulty of an arbitrary target: ``0xffff · 2^208 / target`` (nearest double).

    Parameters
    ----------
    target : int
        A positive 256-bit target [-].

    Returns
    -------
    float
        The difficulty [-].
    """
    if isinstance(target, bool) or not isinstance(target, int) or target <= 0:
        raise InputError("target", target, "an integer > 0")
    return DIFFICULTY_1_TARGET / target


def next_work_bits(
    last_bits: int,
    first_block_time: int,
    last_block_time: int,
    *,
    pow_limit: int = POW_LIMIT,
) -> int:
    """Compact target of the next retarget period (Bitcoin Core ``CalculateNextWorkRequired``).

    Parameters
    ----------
    last_bits : int
        ``nBits`` of the last block of the period [-].
    first_block_time : int
        Header time of the first block of the period [s since epoch].
    last_block_time : int
        Header time of the last block of the period [s since epoch].
    pow_limit : int, optional
        Easiest allowed target (main net by default) [-].

    Returns
    -------
    int
        ``nBits`` for the next 2016 blocks: the old target scaled by the actual timespan, the
        timespan clamped to [1/4, 4] × two weeks, capped at ``pow_limit``.
    """
    for name, t in (("first_block_time", first_block_time), ("last_block_time", last_block_time)):
        if isinstance(t, bool) or not isinstance(t, int | np.integer):
            raise InputError(name, t, "an integer number of seconds")
    actual = int(last_block_time) - int(first_block_time)
    actual = max(actual, TARGET_TIMESPAN_S // 4)
    actual = min(actual, TARGET_TIMESPAN_S * 4)
    target = bits_to_target(last_bits)
    new_target = (target * actual) // TARGET_TIMESPAN_S
    new_target = min(new_target, pow_limit)
    return target_to_bits(new_target)


def _require_u32(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(field, value, "an unsigned 32-bit integer")
    if not 0 <= int(value) <= 0xFFFFFFFF:
        raise InputError(field, value, "an unsigned 32-bit integer (0 .. 0xffffffff)")
    return int(value)


# --------------------------------------------------------------------------- hashrate
def hashrate_h_s_from_difficulty(difficulty: ArrayLike) -> FloatArray | float:
    """Network hashrate implied by ``difficulty`` at the 600 s target spacing:
    ``H/s = D · 2^32 / 600``.

    Parameters
    ----------
    difficulty : float or array
        Difficulty [-], > 0.

    Returns
    -------
    float or ndarray
        Hashrate [H/s].
    """
    d = _positive_array("difficulty", difficulty)
    return _scalar_or_array(d * TWO_32 / TARGET_SPACING_S)


def difficulty_from_hashrate_h_s(hashrate_h_s: ArrayLike) -> FloatArray | float:
    """Difficulty at which a hashrate finds one block per 600 s: ``D = H · 600 / 2^32``.

    Parameters
    ----------
    hashrate_h_s : float or array
        Hashrate [H/s], > 0.

    Returns
    -------
    float or ndarray
        Difficulty [-].
    """
    h = _positive_array("hashrate_h_s", hashrate_h_s)
    return _scalar_or_array(h * TARGET_SPACING_S / TWO_32)


def expected_blocks_per_day(hashrate_h_s: ArrayLike, difficulty: ArrayLike) -> FloatArray | float:
    """Expected blocks a day found by a hashrate at a difficulty: ``H · 86400 / (D · 2^32)``.

    Parameters
    ----------
    hashrate_h_s : float or array
        Hashrate [H/s], ≥ 0.
    difficulty : float or array
        Difficulty [-], > 0.

    Returns
    -------
    float or ndarray
        Expected blocks [block/day].
    """
    h = _non_negative_array("hashrate_h_s", hashrate_h_s)
    d = _positive_array("difficulty", difficulty)
    return _scalar_or_array(h * SECONDS_PER_DAY / (d * TWO_32))


def btc_per_ph_day(
    difficulty: ArrayLike, subsidy_btc: ArrayLike, fees_btc_per_block: ArrayLike
) -> FloatArray | float:
    """Expected BTC a day per PH/s: ``86400 · 1e15 / (D · 2^32) · (subsidy + fees)``.

    Parameters
    ----------
    difficulty : float or array
        Difficulty [-], > 0.
    subsidy_btc : float or array
        Block subsidy [BTC/block], ≥ 0.
    fees_btc_per_block : float or array
        Average fees [BTC/block], ≥ 0.

    Returns
    -------
    float or ndarray
        Expected revenue [BTC/PH/day].

    References
    ----------
    Luxor Technology, *Hashrate Index* methodology (hashprice).
    """
    d = _positive_array("difficulty", difficulty)
    s = _non_negative_array("subsidy_btc", subsidy_btc)
    f = _non_negative_array("fees_btc_per_block", fees_btc_per_block)
    return _scalar_or_array(SECONDS_PER_DAY * H_PER_PH / (d * TWO_32) * (s + f))


def hashprice_btc_per_ph_day(
    difficulty: ArrayLike, subsidy_btc: ArrayLike, fees_btc_per_block: ArrayLike
) -> FloatArray | float:
    """Hashprice in BTC per PH/s per day (Luxor's definition); the same as
    :func:`btc_per_ph_day`.

    Parameters
    ----------
    difficulty : float or array
        Difficulty [-], > 0.
    subsidy_btc : float or array
        Block subsidy [BTC/block], ≥ 0.
    fees_btc_per_block : float or array
        Average fees [BTC/block], ≥ 0.

    Returns
    -------
    float or ndarray
        Hashprice [BTC/PH/day].
    """
    return btc_per_ph_day(difficulty, subsidy_btc, fees_btc_per_block)


def hashprice_usd_per_ph_day(
    difficulty: ArrayLike,
    subsidy_btc: ArrayLike,
    fees_btc_per_block: ArrayLike,
    price_usd: ArrayLike,
) -> FloatArray | float:
    """Hashprice in USD per PH/s per day, as Luxor's Hashrate Index defines it.

    .. math:: hp = \\frac{86400 \\cdot 10^{15}}{D \\cdot 2^{32}} (s + f) \\, P

    Parameters
    ----------
    difficulty : array_like
        Network difficulty [-], > 0.
    subsidy_btc : array_like
        Block subsidy [BTC/block].
    fees_btc_per_block : array_like
        Average transaction fees per block [BTC/block] (Luxor averages the last 144 blocks).
    price_usd : array_like
        BTC price [USD/BTC].

    Returns
    -------
    float or ndarray
        Hashprice [USD/(PH/s)/day].
    """
    p = _non_negative_array("price_usd", price_usd)
    return _scalar_or_array(
        np.asarray(btc_per_ph_day(difficulty, subsidy_btc, fees_btc_per_block)) * p
    )


# --------------------------------------------------------------------------- helpers
def _as_float_array(field: str, value: ArrayLike) -> FloatArray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(field, value, "a number or an array of numbers") from None
    if not np.all(np.isfinite(a)):
        raise InputError(field, value, "finite numbers (no NaN or infinity)")
    return a


def _positive_array(field: str, value: ArrayLike) -> FloatArray:
    a = _as_float_array(field, value)
    if np.any(a <= 0):
        raise InputError(field, value, "numbers > 0")
    return a


def _non_negative_array(field: str, value: ArrayLike) -> FloatArray:
    a = _as_float_array(field, value)
    if np.any(a < 0):
        raise InputError(field, value, "numbers >= 0")
    return a


def _scalar_or_array(a: FloatArray) -> FloatArray | float:
    return float(a) if a.ndim == 0 else a
