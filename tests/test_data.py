"""The data shipped since issue 16, against published figures, consensus and each other."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hashpivot import clock
from hashpivot.bitcoin import history
from hashpivot.data import power_prices as pp
from hashpivot.errors import DataRangeError, InputError


def test_hashprice_after_coin_metrics_matches_luxor_november_2025() -> None:
    # Luxor Hashrate Index: November 2025 average hashprice $39.82/PH/day (REFERENCE_FIGURES.md,
    # via CoinShares). Recomputed here from per-block subsidy and fees, consensus difficulty
    # and the Bitstamp close; Luxor uses its own price and a trailing fee window.
    nov = history.hashprice_history("2025-11-01", "2025-11-30")["hashprice_usd_per_ph_day"]
    assert len(nov) == 30
    assert nov.mean() == pytest.approx(39.82, rel=0.02)


@pytest.mark.parametrize(
    ("day", "difficulty_t"),
    [("2026-01-08", 146.47), ("2026-02-19", 144.40), ("2026-03-20", 133.79)],
)
def test_difficulty_of_the_2026_retargets_is_consensus(day: str, difficulty_t: float) -> None:
    # Consensus facts (REFERENCE_FIGURES.md): −1.20% on 2026-01-08, +14.73% to 144.4T on
    # 2026-02-19, −7.76% to 133.79T at height 941,472 on 2026-03-20.
    assert history.difficulty_at_end_of_day(day) / 1e12 == pytest.approx(difficulty_t, abs=0.005)


def test_difficulty_past_the_dated_epochs_is_a_named_error() -> None:
    with pytest.raises(DataRangeError) as err:
        history.difficulty_at_end_of_day("2026-04-01")
    assert "2026-03-20" in str(err.value)


def test_each_column_knows_its_own_last_date() -> None:
    last = history.column_last_dates()
    assert last["price_usd"] == dt.date(2026, 8, 21)
    assert last["blocks"] == last["difficulty"] == last["fees_btc"] == dt.date(2026, 1, 31)
    assert history.date_range()[1] == dt.date(2026, 1, 31)  # the last complete day
    assert history.btc_price_daily().index[-1].date() == last["price_usd"]
    with pytest.raises(DataRangeError) as err:
        history.network_state("2026-02-01")
    assert "2026-01-31" in str(err.value)


def test_the_two_daily_files_join_without_a_seam() -> None:
    d = history.btc_daily()
    assert (d.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all()
    seam = d.loc["2025-09-20":"2025-10-03"]
    # No jump at 2025-09-26/27 beyond the days around it (Coin Metrics close → Bitstamp close).
    jumps = np.log(seam["price_usd"]).diff().abs().dropna()
    assert jumps.loc["2025-09-27"] < 3 * jumps.drop(pd.Timestamp("2025-09-27")).max()
    # Heights keep counting: 144 blocks a day on average, halving subsidy unchanged.
    assert seam["subsidy_btc_per_block"].round(6).eq(3.125).all()
    assert d.loc["2026-01-31", "height_end_of_day"] == pytest.approx(934_537, abs=6)


def test_ercot_day_ahead_has_winter_storm_uri() -> None:
    # PUCT set the ERCOT offer cap to $9,000/MWh during Uri; the day-ahead hub LMP reached it.
    h = pp.hourly_prices("ercot:HB_WEST:da:2021").month("2021-02")
    assert h.price_usd_per_mwh.max() == pytest.approx(9000.0, abs=2.0)
    # The source lacks 2021-02-15 (and four other 2021 days): kept missing, never filled.
    assert len(h.missing_hours_utc) == 72
    with pytest.raises(DataRangeError) as err:
        h.require_complete()
    assert "72 hours missing" in str(err.value)


def test_nordic_dst_days_have_23_and_25_local_hours() -> None:
    h = pp.hourly_prices("nordpool:SE1:da:2021")
    local = h.index_local
    per_day = pd.Series(1, index=local).groupby(local.date).size()
    assert per_day[dt.date(2021, 3, 28)] == 23  # spring forward
    assert per_day[dt.date(2021, 10, 31)] == 25  # fall back: both 02:00 hours kept
    assert h.missing_hours_utc == ()
    assert "EUR converted to USD" in h.currency_note


def test_euro_prices_are_converted_at_the_days_fixing() -> None:
    h = pp.hourly_prices("entsoe:DE_LU:da:2022")
    eur_per_usd = pp.fx_usd_daily().loc["2022-08-01", "EUR"]
    day = h.index_local.tz_localize(None).normalize() == pd.Timestamp("2022-08-01")
    raw = pd.read_csv(
        "src/hashpivot/data/power_entsoe_de_lu_da.csv.gz", index_col=0, parse_dates=True
    )
    eur = raw["DE_LU"].reindex(h.index_utc[day]).to_numpy()
    np.testing.assert_allclose(h.price_usd_per_mwh[day], eur / eur_per_usd)


def test_ecb_and_cnb_fixings_agree() -> None:
    # Two central banks, two fixings (Frankfurt 14:15 CET, Prague 14:30; the build script checks
    # a median gap of 0.03% or less on 2015–2026). Where the file switches from the ECB to the
    # CNB, EUR per USD moves no more than on an ordinary day (below 2%).
    fx = pp.fx_usd_daily()
    assert set(fx["source"]) == {"ecb", "cnb"}
    first_cnb = fx.index[fx["source"] == "cnb"][0]
    moves = np.log(fx["EUR"]).diff().abs()
    assert moves.loc[first_cnb] < 0.02
    assert moves.loc[first_cnb:].max() < 0.02
    # RUB stops when both banks suspended it.
    assert fx["RUB"].dropna().index[-1] == pd.Timestamp("2022-03-01")


def test_unknown_markets_are_named_errors() -> None:
    with pytest.raises(InputError) as err:
        pp.check_market_name("pjm:WEST:da")
    assert "nordpool:{SE1,SE2,SE3,SE4}:da[:YEAR]" in str(err.value)
    with pytest.raises(InputError):
        pp.hourly_prices("ercot:HB_WEST:rt:2021")


def test_data_age_note_counts_whole_months() -> None:
    assert clock.data_age_note(dt.date(2026, 1, 31), dt.date(2026, 12, 2)) == (
        "data end 2026-01-31, 10 months before today (2026-12-02)"
    )
    assert clock.data_age_note(dt.date(2026, 11, 15), dt.date(2026, 12, 2)) is None


def test_a_bad_pinned_today_is_a_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.TODAY_ENV, "yesterday")
    with pytest.raises(InputError) as err:
        clock.today()
    assert err.value.field == "HASHPIVOT_TODAY"


def test_data_status_names_every_shipped_file_with_its_hash_and_licence() -> None:
    import hashlib
    from pathlib import Path

    from hashpivot.data import catalog

    folder = Path(pp.__file__).parent
    shipped = {p.name for p in folder.iterdir() if p.suffix in (".csv", ".gz")}
    rows = catalog.status(dt.date(2026, 12, 2))
    assert {r["file"] for r in rows} == shipped, "every shipped data file is in the catalogue"
    for r in rows:
        assert r["sha256"] == hashlib.sha256((folder / r["file"]).read_bytes()).hexdigest()
        assert r["file"] in (folder / "SOURCES.md").read_text(encoding="utf-8")
    by_name = {r["name"]: r for r in rows}
    assert by_name["btc_daily_coinmetrics"]["commercial_use"] is False
    assert [r["name"] for r in rows if not r["commercial_use"]] == ["btc_daily_coinmetrics"]
    ext = by_name["btc_daily_2025_2026"]
    assert ext["column_last_dates"]["blocks"] == "2026-01-31"
    assert ext["column_last_dates"]["price_usd"] == "2026-08-21"
    assert ext["months_old"] == 3
