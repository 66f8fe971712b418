"""Catalogue integrity, fleets, ageing and depreciation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashpivot.errors import InputError
from hashpivot.sites import hardware


def test_catalogue_sizes_and_sources() -> None:
    asics = hardware.asic_catalogue()
    gpus = hardware.gpu_catalogue()
    assert len(asics) == 23 and len(gpus) == 8
    assert asics["sources"].notna().all()
    assert gpus["spec_sources"].notna().all()


def test_catalogue_efficiency_is_power_over_hashrate() -> None:
    a = hardware.asic_catalogue().dropna(subset=["hashrate_th", "power_w"])
    ratio = a["power_w"] / a["hashrate_th"]
    np.testing.assert_allclose(ratio, a["efficiency_j_per_th"], rtol=0.01)


def test_s21_specs() -> None:
    s21 = hardware.asic("Antminer S21")
    assert (s21.hashrate_th, s21.power_w, s21.efficiency_j_per_th) == (200.0, 3500.0, 17.5)


def test_unknown_model_lists_allowed() -> None:
    with pytest.raises(InputError) as err:
        hardware.asic("Antminer S99")
    assert "Antminer S21" in err.value.allowed


def test_units_need_unit_specs() -> None:
    with pytest.raises(InputError):
        hardware.fleet_line_units("Antminer S23 Hyd", 10)  # efficiency only in the sources


def test_fleet_sums_and_weighted_efficiency() -> None:
    f = hardware.fleet(
        [
            hardware.fleet_line_units("Antminer S21", 100),
            hardware.fleet_line_units("Antminer S19", 50),
        ]
    )
    assert f.hashrate_th_s == 100 * 200 + 50 * 95
    assert f.power_w == 100 * 3500 + 50 * 3250
    assert f.efficiency_j_per_th == pytest.approx((350_000 + 162_500) / (20_000 + 4_750))


@given(st.floats(1.0, 100.0), st.floats(0.0, 10.0), st.floats(0.0, 0.2))
def test_degradation_never_improves_efficiency(e: float, age: float, g: float) -> None:
    assert hardware.degraded_efficiency_j_per_th(e, age, g) >= e


def test_surviving_fraction() -> None:
    assert float(hardware.surviving_fraction(2.0, 0.1)) == pytest.approx(0.81)


@given(st.floats(0.0, 1e9), st.integers(1, 120), st.integers(0, 200))
def test_depreciation_schedules_write_off_the_cost(cost: float, life: int, n: int) -> None:
    sl = hardware.straight_line_depreciation(cost, life, n)
    db = hardware.declining_balance_depreciation(cost, life, n)
    assert len(sl) == len(db) == n
    if n >= life:
        assert sl.sum() == pytest.approx(cost, abs=1e-6 * max(cost, 1))
        assert db.sum() == pytest.approx(cost, abs=1e-6 * max(cost, 1))
    # Declining balance front-loads: never behind straight line on the cumulative charge.
    assert np.all(np.cumsum(db) >= np.cumsum(sl) - 1e-6 * max(cost, 1))
