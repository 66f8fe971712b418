"""The shipped real data: integrity, derived heights and the daily hashprice history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hashpivot import locations
from hashpivot.bitcoin import history, network
from hashpivot.data import power_prices as price_data
from hashpivot.errors import DataRangeError, InputError


@pytest.fixture(scope="module")
def raw_daily() -> pd.DataFrame:
    # Read the CSV directly, not through the loader under test.
    return pd.read_csv(locations.data_path("btc_daily.csv"), parse_dates=["date"])


def test_hashprice_history_equals_closed_form(raw_daily: pd.DataFrame) -> None:
    hp = history.hashprice_history("2016-01-01", "2025-09-26")
    raw = raw_daily.set_index("date").loc["2016-01-01":"2025-09-26"]
    per_block = (raw["issuance_btc"] + raw["fees_btc"]) / raw["blocks"]
    want = 86400 * 1e15 / (raw["difficulty"] * 2**32) * per_block * raw["price_usd"]
    np.testing.assert_allclose(
        hp["hashprice_usd_per_ph_day"].to_numpy(), want.to_numpy(), rtol=1e-12
    )


def test_hashprice_history_has_no_gaps_2016_2025() -> None:
    hp = history.hashprice_history("2016-01-01", "2025-09-26")
    days = pd.date_range("2016-01-01", "2025-09-26", freq="D")
    assert hp.index.equals(days)
    assert hp["hashprice_usd_per_ph_day"].notna().all()
    assert (hp["hashprice_usd_per_ph_day"] > 0).all()


def test_hashprice_after_2024_halving_is_in_published_range() -> None:
    # Luxor's index fell to ~$40-55/PH/day in the months after the April 2024 halving;
    # the 2024-08 monthly mean recomputed here must land in that band.
    hp = history.hashprice_history("2024-08-01", "2024-08-31")
    assert 35 < hp["hashprice_usd_per_ph_day"].mean() < 55


def test_halving_dates_from_derived_heights() -> None:
    dates = [h.date for h in history.halvings(4)]
    assert dates == ["2012-11-28", "2016-07-09", "2020-05-11", "2024-04-20"]


def test_derived_heights_match_exact_block_timestamps() -> None:
    epochs = history.difficulty_epochs()
    exact = epochs[epochs["date_source"] == "block_timestamp"]
    daily = history.btc_daily()
    first, last = daily.index[0], daily.index[-1]
    exact = exact[(exact["date"] > first) & (exact["date"] <= last)]
    assert len(exact) >= 20
    h = daily["height_end_of_day"]
    for _, row in exact.iterrows():
        day = row["date"]
        assert h.loc[day] >= row["height"] > h.loc[day - pd.Timedelta(days=1)]


def test_daily_difficulty_equals_epoch_difficulty_from_bits() -> None:
    # SOURCES.md: Coin Metrics DiffMean equals the epoch difficulty on the day after the epoch
    # starts, for epochs from height 201,600 on. Recompute each from its compact bits.
    epochs = history.difficulty_epochs()
    daily = history.btc_daily()
    e = epochs[(epochs["height"] >= 201_600) & epochs["date"].notna()]
    e = e[e["date"] + pd.Timedelta(days=1) <= daily.index[-1]]
    assert len(e) > 300
    for _, row in e.iterrows():
        from_bits = network.bits_to_difficulty(int(row["bits"]))
        assert from_bits == pytest.approx(row["difficulty"], rel=1e-12)
        assert daily.loc[row["date"] + pd.Timedelta(days=1), "difficulty"] == pytest.approx(
            from_bits, rel=1e-9
        )


def test_every_epoch_bits_round_trip() -> None:
    for bits in history.difficulty_epochs()["bits"]:
        assert network.target_to_bits(network.bits_to_target(int(bits))) == bits


def test_network_state_on_halving_day() -> None:
    s = history.network_state("2024-04-20")
    assert s.height >= 840_000
    assert s.subsidy_btc == 3.125
    assert s.difficulty == pytest.approx(86_388_558_925_171.02, abs=0.01)
    # The Runes launch: fees that day exceeded the subsidy (>1,000 BTC).
    assert s.fees_btc_per_day > 1000


def test_network_state_defaults_to_last_day() -> None:
    assert history.network_state().date == history.date_range()[1].isoformat()


@pytest.mark.parametrize("bad", ["2009-01-03", "2030-01-01", "2026-02-01"])
def test_dates_outside_data_are_named_errors(bad: str) -> None:
    with pytest.raises(DataRangeError) as err:
        history.network_state(bad)
    assert err.value.field == "date"
    assert "2010-07-18" in str(err.value)


def test_malformed_date() -> None:
    with pytest.raises(InputError):
        history.network_state("2024-13-45")


def test_power_prices_shape_and_dst_gap() -> None:
    west = price_data.power_prices_hourly("LZ_WEST")
    assert len(west) == 8759
    assert pd.Timestamp("2023-11-05T07:00Z") not in west.index
    assert west.index.is_unique
    # Summer 2023 scarcity: LZ_WEST peaked at $5,260.94/MWh (SOURCES.md).
    assert west["price_usd_per_mwh"].max() == pytest.approx(5260.935, abs=0.01)
    with pytest.raises(InputError):
        price_data.power_prices_hourly("HB_HOUSTON")


def test_date_range() -> None:
    assert history.date_range() == (dt.date(2010, 7, 18), dt.date(2026, 1, 31))
