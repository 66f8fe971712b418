"""Consensus economics against Bitcoin Core's published test vectors and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashpivot.bitcoin import network
from hashpivot.errors import InputError, InvalidBitsError

COIN = 100_000_000


# --------------------------------------------------------------------------- subsidy
@pytest.mark.parametrize(
    ("height", "sats"),
    [
        (0, 50 * COIN),
        (209_999, 50 * COIN),
        (210_000, 25 * COIN),
        (419_999, 25 * COIN),
        (420_000, 1_250_000_000),
        (629_999, 1_250_000_000),
        (630_000, 625_000_000),
        (839_999, 625_000_000),
        (840_000, 312_500_000),  # the April 2024 halving: 3.125 BTC
        (1_049_999, 312_500_000),
        (1_050_000, 156_250_000),
        (32 * 210_000, 1),  # 5e9 >> 32 = 1 sat: the last non-zero era
        (33 * 210_000, 0),
        (64 * 210_000, 0),  # Core returns 0 explicitly from the 64th halving
        (10**9, 0),
    ],
)
def test_subsidy_at_halving_boundaries(height: int, sats: int) -> None:
    assert network.block_subsidy_sats(height) == sats


def test_total_supply_is_the_published_figure() -> None:
    # 20,999,999.9769 BTC: the well-known cap, in satoshis.
    assert network.supply_sats_at_height(64 * 210_000 - 1) == 2_099_999_997_690_000
    assert network.supply_sats_at_height(10**8) == 2_099_999_997_690_000


def test_supply_at_first_halving() -> None:
    # Blocks 0..209,999 at 50 BTC = 10,500,000 BTC.
    assert network.supply_sats_at_height(209_999) == 10_500_000 * COIN


@given(st.integers(min_value=1, max_value=8_000_000))
def test_supply_increments_by_subsidy(height: int) -> None:
    assert network.supply_sats_at_height(height) - network.supply_sats_at_height(
        height - 1
    ) == network.block_subsidy_sats(height)


@given(st.lists(st.integers(min_value=0, max_value=20_000_000), min_size=1, max_size=50))
def test_vectorised_subsidy_matches_scalar(heights: list[int]) -> None:
    got = network.block_subsidy_btc(np.array(heights))
    want = [network.block_subsidy_sats(h) / COIN for h in heights]
    assert got.tolist() == want


@pytest.mark.parametrize("bad", [-1, 1.5, "840000", True])
def test_subsidy_rejects_bad_heights(bad: object) -> None:
    with pytest.raises(InputError):
        network.block_subsidy_sats(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- retarget
# Bitcoin Core src/test/pow_tests.cpp: (last retarget time, last block time, last bits, expected)
POW_TESTS = [
    ("get_next_work", 1261130161, 1262152739, 0x1D00FFFF, 0x1D00D86A),
    ("get_next_work_pow_limit", 1231006505, 1233061996, 0x1D00FFFF, 0x1D00FFFF),
    ("get_next_work_lower_limit_actual", 1279008237, 1279297671, 0x1C05A3F4, 0x1C0168FD),
    ("get_next_work_upper_limit_actual", 1263163443, 1269211443, 0x1C387F6F, 0x1D00E1FD),
]


@pytest.mark.parametrize(("name", "first", "last", "bits", "expected"), POW_TESTS)
def test_retarget_matches_bitcoin_core_pow_tests(
    name: str, first: int, last: int, bits: int, expected: int
) -> None:
    assert network.next_work_bits(bits, first, last) == expected


def test_retarget_is_clamped_to_a_factor_of_four() -> None:
    bits = 0x1C05A3F4
    target = network.bits_to_target(bits)
    fast = network.bits_to_target(network.next_work_bits(bits, 0, 1))
    slow = network.bits_to_target(network.next_work_bits(bits, 0, 10**9))
    # compact encoding truncates to 3 significant bytes, so compare within that precision
    assert abs(fast - target // 4) <= target // 4 >> 16
    assert abs(slow - target * 4) <= target * 4 >> 16


# --------------------------------------------------------------------------- compact bits
# Bitcoin Core src/test/arith_uint256_tests.cpp, bignum_SetCompact:
# (bits, value, compact written back (None: not checked), negative, overflow)
SET_COMPACT = [
    (0x00000000, 0, 0, False, False),
    (0x00123456, 0, 0, False, False),
    (0x01003456, 0, 0, False, False),
    (0x02000056, 0, 0, False, False),
    (0x03000000, 0, 0, False, False),
    (0x04000000, 0, 0, False, False),
    (0x00923456, 0, 0, False, False),
    (0x01803456, 0, 0, False, False),
    (0x02800056, 0, 0, False, False),
    (0x03800000, 0, 0, False, False),
    (0x04800000, 0, 0, False, False),
    (0x01123456, 0x12, 0x01120000, False, False),
    (0x01FEDCBA, 0x7E, None, True, False),
    (0x02123456, 0x1234, 0x02123400, False, False),
    (0x03123456, 0x123456, 0x03123456, False, False),
    (0x04123456, 0x12345600, 0x04123456, False, False),
    (0x04923456, 0x12345600, None, True, False),
    (0x05009234, 0x92340000, 0x05009234, False, False),
    (0x20123456, 0x123456 << 232, 0x20123456, False, False),
    (0xFF123456, None, None, False, True),
]


@pytest.mark.parametrize(("bits", "value", "compact", "negative", "overflow"), SET_COMPACT)
def test_compact_decoding_matches_bitcoin_core(
    bits: int, value: int | None, compact: int | None, negative: bool, overflow: bool
) -> None:
    dec = network.decode_compact(bits)
    assert dec.negative is negative
    assert dec.overflow is overflow
    if value is not None:
        assert dec.target == value
    if compact is not None:
        assert network.target_to_bits(dec.target) == compact


def test_get_compact_never_sets_the_sign_bit() -> None:
    assert network.target_to_bits(0x80) == 0x02008000


@pytest.mark.parametrize("bits", [0x04923456, 0x01FEDCBA, 0xFF123456])
def test_bits_to_target_rejects_negative_and_overflow(bits: int) -> None:
    with pytest.raises(InvalidBitsError):
        network.bits_to_target(bits)


def test_difficulty_at_block_840000() -> None:
    # SOURCES.md cross-check: epoch 416 (block 840,000), bits 0x17034219.
    d = network.bits_to_difficulty(0x17034219)
    assert d == pytest.approx(86_388_558_925_171.02, abs=0.005)


def test_difficulty_one() -> None:
    assert network.bits_to_difficulty(0x1D00FFFF) == 1.0
    assert network.target_to_difficulty(network.DIFFICULTY_1_TARGET) == 1.0


@given(st.integers(min_value=1, max_value=(1 << 256) - 1))
def test_compact_round_trip_keeps_the_significant_bytes(target: int) -> None:
    bits = network.target_to_bits(target)
    back = network.bits_to_target(bits)
    size = (target.bit_length() + 7) // 8
    shift = max(0, 8 * (size - 3))
    if (target >> shift) & 0x800000:  # a mantissa with the sign bit keeps only two bytes
        shift += 8
    assert back == (target >> shift) << shift
    assert back <= target
    assert network.target_to_bits(back) == bits


# --------------------------------------------------------------------------- hashrate, hashprice
def test_hashrate_of_difficulty_one() -> None:
    # D = 1 means 2^32 hashes per block every 600 s ≈ 7.158 MH/s.
    assert network.hashrate_h_s_from_difficulty(1.0) == pytest.approx(2**32 / 600)
    assert network.difficulty_from_hashrate_h_s(2**32 / 600) == pytest.approx(1.0)


@given(st.floats(min_value=1.0, max_value=1e16))
def test_implied_hashrate_finds_144_blocks_a_day(difficulty: float) -> None:
    h = network.hashrate_h_s_from_difficulty(difficulty)
    assert network.expected_blocks_per_day(h, difficulty) == pytest.approx(144.0)


def test_hashprice_closed_form_by_hand() -> None:
    # D = 1e14, subsidy 3.125, fees 0.05 BTC/block, $100,000:
    # blocks a day per PH/s = 86400 · 1e15 / (1e14 · 4294967296) = 0.201166...
    blocks_per_ph_day = 86400 * 1e15 / (1e14 * 4294967296)
    want_btc = blocks_per_ph_day * 3.175
    assert network.hashprice_btc_per_ph_day(1e14, 3.125, 0.05) == pytest.approx(want_btc, rel=1e-15)
    assert network.hashprice_usd_per_ph_day(1e14, 3.125, 0.05, 100_000) == pytest.approx(
        want_btc * 100_000, rel=1e-15
    )
    # ≈ $63.87 per PH/s per day
    assert network.hashprice_usd_per_ph_day(1e14, 3.125, 0.05, 100_000) == pytest.approx(
        63.87, abs=0.01
    )


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("difficulty", (0.0, 3.125, 0.0, 1.0)),
        ("difficulty", (float("nan"), 3.125, 0.0, 1.0)),
        ("fees_btc_per_block", (1e14, 3.125, -1.0, 1.0)),
        ("price_usd", (1e14, 3.125, 0.0, -5.0)),
    ],
)
def test_hashprice_rejects_bad_inputs(field: str, args: tuple[float, ...]) -> None:
    with pytest.raises(InputError) as err:
        network.hashprice_usd_per_ph_day(*args)
    assert err.value.field == field
