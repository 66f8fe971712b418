"""Rolling-origin hindcasts (issue 17): outcomes line up with the realised months, an origin reads
nothing after it, and a seed fixes every fan whichever origins run together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hashpivot.bitcoin import history
from hashpivot.errors import InputError
from hashpivot.market import hindcast
from test_as_of import poisoned_after  # noqa: F401 - the fixture


def test_origins_are_month_ends() -> None:
    o = hindcast.month_end_origins("2021-11", "2022-02")
    assert [str(x.date()) for x in o] == ["2021-11-30", "2021-12-31", "2022-01-31", "2022-02-28"]
    assert len(hindcast.month_end_origins("2018-06", "2024-08")) == 75
    with pytest.raises(InputError, match="--origins"):
        hindcast.month_end_origins("2024-01", "2023-01")


def test_outcomes_are_the_realised_months_after_the_origin() -> None:
    o = hindcast.month_end_origins("2021-12", "2021-12")
    hc = hindcast.run(o, (1, 3), n_paths=128, seed=2)
    d = history.btc_daily()
    jan = d.loc["2022-01"]
    assert np.exp(hc.outcomes["btc_price"][1][0]) == pytest.approx(jan["price_usd"].mean())
    assert np.exp(hc.outcomes["fees"][1][0]) == pytest.approx(
        jan["fees_btc"].sum() / jan["blocks"].sum()
    )
    mar = history.hashprice_history("2022-03-01", "2022-03-31")["hashprice_usd_per_ph_day"]
    assert np.exp(hc.outcomes["hashprice"][3][0]) == pytest.approx(mar.mean())
    assert hc.fans["hashrate"][3].shape == (1, 128)


def test_a_seed_fixes_each_origins_fan_whichever_origins_run_with_it() -> None:
    a = hindcast.run(hindcast.month_end_origins("2021-10", "2021-12"), (6,), n_paths=128, seed=5)
    b = hindcast.run(hindcast.month_end_origins("2021-12", "2021-12"), (6,), n_paths=128, seed=5)
    np.testing.assert_array_equal(a.fans["hashprice"][6][2], b.fans["hashprice"][6][0])
    c = hindcast.run(hindcast.month_end_origins("2021-12", "2021-12"), (6,), n_paths=128, seed=6)
    assert not np.array_equal(b.fans["hashprice"][6], c.fans["hashprice"][6])
    s1, s2 = hindcast.scores(a), hindcast.scores(a)
    assert s1 == s2


def test_an_origin_reads_no_datum_after_it(poisoned_after) -> None:  # noqa: F811
    o = hindcast.month_end_origins("2021-12", "2021-12")
    clean = hindcast.run(o, (3, 12), n_paths=128, seed=3)
    poisoned_after("2021-12-31")
    dirty = hindcast.run(o, (3, 12), n_paths=128, seed=3)
    for p in hindcast.PROCESSES:
        for h in (3, 12):
            np.testing.assert_array_equal(clean.fans[p][h], dirty.fans[p][h])
            np.testing.assert_array_equal(clean.baseline_flat[p][h], dirty.baseline_flat[p][h])
    # ...while the outcomes, which lie after it, see the poison (the test can fail).
    assert dirty.outcomes["btc_price"][3][0] == pytest.approx(
        clean.outcomes["btc_price"][3][0] + np.log(10.0)
    )


def test_origins_whose_outcome_is_beyond_the_data_are_not_scored() -> None:
    o = hindcast.month_end_origins("2025-06", "2025-06")
    hc = hindcast.run(o, (3, 12), n_paths=64, seed=1)
    assert hc.scored[3] == (0,) and hc.scored[12] == ()  # 2026-06 is past 2026-01
    s = hindcast.scores(hc)
    assert s["origins"]["hashprice"] == {"3": 1, "12": 0}
    assert pd.Timestamp("2025-09") in hindcast.realised_monthly().index


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--origins", "2021-01"], "--origins"),
        (["--origins", "2021-05:2021-01"], "--origins"),
        (["--horizons", "3,x"], "--horizons"),
        (["--horizons", "0"], "--horizons"),
        (["--paths", "8"], "--paths"),
        (["--step", "0"], "--step"),
        (["--model", "garch"], "--model"),
        (["--origins", "2010-01:2010-03"], "market.as_of"),
    ],
)
def test_backtest_bad_input_is_named(args: list[str], field: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from hashpivot.cli import app

    out = ["--db", str(tmp_path / "s.duckdb"), "--out", str(tmp_path / "out")]
    r = CliRunner().invoke(app.app, ["backtest", *args, "--paths", "64", *out, *args])
    assert isinstance(r.exception, InputError), r.output
    assert field in str(r.exception)
