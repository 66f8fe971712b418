"""Sweeps in this process: the design (grid, Latin hypercube), validation before any task, the
heat maps and tornado against closed forms, the store, and the mergeable accumulator."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import run as run_cli
from hashpivot.config.models import load_plan
from hashpivot.engine import run as engine
from hashpivot.engine import sweep
from hashpivot.errors import ConfigError, InputError
from hashpivot.executor import in_process, open_executor, version_mismatches
from hashpivot.finance.metrics import PathAccumulator
from hashpivot.market import scenarios
from hashpivot.runs import store, sweeps

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "examples" / "core_scientific.yaml"
TEXAS = ROOT / "examples" / "texas_miner.yaml"


# --------------------------------------------------------------------------- design
def test_vary_grid_forms() -> None:
    assert sweep.parse_vary("market.mu_annual=0.0:0.3:4").values == pytest.approx(
        (0.0, 0.1, 0.2, 0.3)
    )
    assert sweep.parse_vary("horizon_months=12:48:4").values == (12, 24, 36, 48)
    assert all(isinstance(v, int) for v in sweep.parse_vary("horizon_months=12:48:4").values)
    assert sweep.parse_vary("market.btc_model=gbm,bootstrap").values == ("gbm", "bootstrap")
    assert sweep.parse_vary("sites[0].power_usd_per_mwh=30, 40,50").values == (30, 40, 50)


@pytest.mark.parametrize(
    "item",
    ["market.mu_annual", "=1,2", "a=1:2:1", "a=2:1:3", "a=1:2:x", "a=1,,2", "a=1,1", "a[=1"],
)
def test_vary_malformed_is_named(item: str) -> None:
    with pytest.raises((InputError, ConfigError), match="--vary"):
        sweep.parse_vary(item)


def test_design_crosses_the_grid_first_key_slowest() -> None:
    a = sweep.Axis("a", (1, 2))
    b = sweep.Axis("b", ("x", "y", "z"))
    pts = sweep.design([a, b])
    assert pts == [{"a": i, "b": j} for i in (1, 2) for j in ("x", "y", "z")]


def test_latin_hypercube_has_one_point_per_stratum_and_is_seeded() -> None:
    r = [sweep.Range("a", 10.0, 20.0), sweep.Range("b", -1.0, 1.0)]
    pts = sweep.design([], r, lhs=8, seed=7)
    assert pts == sweep.design([], r, lhs=8, seed=7)
    assert pts != sweep.design([], r, lhs=8, seed=8)
    for key, lo, hi in (("a", 10.0, 20.0), ("b", -1.0, 1.0)):
        x = np.array([p[key] for p in pts])
        strata = np.floor((x - lo) / (hi - lo) * 8).astype(int)
        assert sorted(strata) == list(range(8))  # the Latin property: each eighth once


@pytest.mark.parametrize(
    ("axes", "ranges", "lhs", "flag"),
    [
        ([], [], None, "--vary"),
        ([sweep.Axis("a", (1,))], [sweep.Range("a", 0, 1)], 4, "--vary"),
        ([], [sweep.Range("a", 0, 1)], None, "--range"),
        ([sweep.Axis("a", (1,))], [], 4, "--lhs"),
    ],
)
def test_bad_designs_are_named(axes, ranges, lhs, flag) -> None:
    with pytest.raises(InputError, match=flag):
        sweep.design(axes, ranges, lhs)


def test_every_variant_is_validated_before_anything_runs() -> None:
    text = CORE.read_text()
    spec = sweeps.SweepSpec(vary=["discount_rate_annual=0.1,-3"], paths=64)
    with pytest.raises(ConfigError, match=r"variant 1: discount_rate_annual=-3.*below"):
        sweeps.prepare(text, "core", spec)
    spec = sweeps.SweepSpec(vary=["sites[0].nope=1,2"], paths=64)
    with pytest.raises(ConfigError, match=r"sites\[0\]\.nope: unknown key"):
        sweeps.prepare(text, "core", spec)
    spec = sweeps.SweepSpec(vary=["sites[99].pue=1.1,1.2"], paths=64)
    with pytest.raises(ConfigError, match="out of range"):
        sweeps.prepare(text, "core", spec)


def test_seed_per_variant_is_keyed_by_index() -> None:
    items, _, _ = sweeps.prepare(
        CORE.read_text(),
        "core",
        sweeps.SweepSpec(
            vary=["discount_rate_annual=0.1,0.12,0.14"], paths=64, seed_per_variant=True
        ),
    )
    seeds = [v.plan.seed for v in items]
    assert len(set(seeds)) == 3
    base_seed = load_plan(CORE)[0].seed
    assert seeds == [sweep.variant_seed(base_seed, i) for i in range(3)]
    assert all(v.overrides["seed"] == v.plan.seed for v in items)


# --------------------------------------------------------------------------- reductions
def _result(i: int, overrides: dict, npv: float) -> sweep.VariantResult:
    return sweep.VariantResult(
        i, overrides, 1, {"mean": npv, "p5": npv, "p50": npv, "p95": npv}, None, {"12m": 0.0}
    )


def test_heat_map_and_tornado_of_an_additive_grid() -> None:
    # NPV = 10·a + b exactly: each cell is that sum, the main effects are 10·Δa and Δb
    grid = [(a, b) for a in (1, 2, 3) for b in (0.0, 5.0)]
    res = [_result(i, {"a": a, "b": b}, 10 * a + b) for i, (a, b) in enumerate(grid)]
    (m,) = sweep.heat_maps(res)
    assert (m.x_key, m.y_key, m.x_values, m.y_values) == ("a", "b", (1, 2, 3), (0.0, 5.0))
    assert m.npv_usd == ((10.0, 20.0, 30.0), (15.0, 25.0, 35.0))
    t = {r.key: r for r in sweep.sweep_tornado(res)}
    assert (t["a"].low_npv_usd, t["a"].high_npv_usd) == (12.5, 32.5)
    assert (t["b"].low_npv_usd, t["b"].high_npv_usd) == (20.0, 25.0)
    assert [r.key for r in sweep.sweep_tornado(res)] == ["a", "b"]


def test_tornado_of_a_hypercube_recovers_a_linear_response() -> None:
    pts = sweep.design([], [sweep.Range("a", 0.0, 1.0), sweep.Range("b", 0.0, 2.0)], lhs=40)
    res = [_result(i, p, 3.0 * p["a"] - 1.0 * p["b"] + 7.0) for i, p in enumerate(pts)]
    t = {r.key: r for r in sweep.sweep_tornado(res, ["a", "b"])}
    lo_a, hi_a = min(p["a"] for p in pts), max(p["a"] for p in pts)
    assert t["a"].high_npv_usd - t["a"].low_npv_usd == pytest.approx(3.0 * (hi_a - lo_a))
    lo_b, hi_b = min(p["b"] for p in pts), max(p["b"] for p in pts)
    assert t["b"].high_npv_usd - t["b"].low_npv_usd == pytest.approx(-1.0 * (hi_b - lo_b))
    (m,) = sweep.heat_maps(res, ["a", "b"])
    assert m.binned and len(m.x_values) == sweep.LHS_BINS


# --------------------------------------------------------------------------- the accumulator
def _chunks(n_paths: int, sizes: list[int]) -> list[PathAccumulator]:
    rng = np.random.default_rng(0)
    out, first = [], 0
    for size in sizes:
        size = min(size, n_paths - first)
        if size <= 0:
            break
        acc = PathAccumulator(3)
        acc.add_scalars("npv", first, rng.normal(size=size))
        acc.add_scalars("site", first, rng.normal(size=(2, size)))
        acc.add_count("neg", rng.integers(0, 5, size=3))
        acc.add_fan("btc", first, rng.normal(size=(size, 3)))
        out.append(acc)
        first += size
    return out


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_merge_is_order_irrelevant(sizes: list[int], order) -> None:
    parts = _chunks(sum(sizes), sizes)
    one = PathAccumulator(3)
    for p in parts:  # folded in path order, as one process does
        one.merge(p)
    shuffled = list(parts)
    order.shuffle(shuffled)
    # merged in another order and grouping: pairs first, then the pairs together
    groups = [shuffled[i : i + 2] for i in range(0, len(shuffled), 2)]
    other = PathAccumulator(3)
    for g in groups:
        sub = PathAccumulator(3)
        for p in g:
            sub.merge(p)
        other.merge(sub)
    for name in ("npv", "site"):
        assert np.array_equal(one.values(name), other.values(name))
    assert np.array_equal(one.counts["neg"], other.counts["neg"])
    assert np.array_equal(one.fan_series("btc"), other.fan_series("btc"))
    assert one.values("npv").size == sum(sizes)


def test_merge_refuses_overlap_and_other_months() -> None:
    a, b = _chunks(20, [10, 10])
    a.merge(b)
    with pytest.raises(InputError, match="first_path"):
        a.merge(b)
    with pytest.raises(InputError, match="n_months"):
        a.merge(PathAccumulator(4))


def test_path_tasks_cover_every_block_once() -> None:
    for n_blocks, per_chunk, workers in ((1, 32, 1), (313, 32, 2), (3125, 16, 64), (7, 4, 3)):
        tasks = engine.path_tasks(n_blocks, per_chunk, workers)
        covered = [b for first, n in tasks for b in range(first, first + n)]
        assert covered == list(range(n_blocks))
        assert all(n % per_chunk == 0 for _, n in tasks[:-1])


def test_any_grouping_of_blocks_gives_the_same_run() -> None:
    cfg, _ = load_plan(TEXAS, paths=640, horizon_months=24)
    model = engine.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, cfg.paths)
    train = engine.TrainingPaths(model, seeds)
    job = engine.PathJob(
        model, seeds, engine.fit_policies(model, train), engine.hedge_strikes(model, train), 2
    )
    whole = engine.evaluate_blocks(job, 0, len(seeds))
    parts = [engine.evaluate_blocks(job, b, n) for b, n in ((6, 4), (0, 2), (2, 4))]
    merged = PathAccumulator(model.n_months)
    for p in parts:
        merged.merge(p)
    for name in whole.scalars:
        assert np.array_equal(whole.values(name), merged.values(name)), name
    for name in whole.counts:
        assert np.array_equal(whole.counts[name], merged.counts[name]), name


# --------------------------------------------------------------------------- the executor
def test_version_mismatch_names_the_worker_and_package() -> None:
    mine = {"hashpivot": "0.1.0", "numpy": "2.1.0", "numba": "0.60.0", "scipy": "1.14.1",
            "pandas": "2.2.3", "highspy": "1.8.0", "python": "3.11.7", "dask": "2026.8.0",
            "distributed": "2026.8.0"}  # fmt: skip
    theirs = {"tcp://10.0.0.2:4000": mine | {"numpy": "1.26.4"}, "tcp://10.0.0.3:4000": mine}
    assert version_mismatches(mine, theirs) == [
        "tcp://10.0.0.2:4000 has numpy 1.26.4 (this client: 2.1.0)"
    ]
    assert version_mismatches(mine, {"w": {}})[0] == "w has hashpivot missing (this client: 0.1.0)"


def test_flags_are_checked() -> None:
    with pytest.raises(InputError, match="not both"):
        open_executor(2, "tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="scheduler"):
        open_executor(None, "localhost:8786")  # no protocol: not an address
    ex = open_executor(None, None, small=True)
    assert not ex.distributed and "small run" in ex.where
    assert open_executor(0).where == "in this process (--workers 0)"


def test_in_process_executor_stops_on_a_task_error() -> None:
    def boom(x: int) -> int:
        if x == 2:
            raise InputError("x", x, "not 2")
        return x

    seen = []
    with pytest.raises(InputError, match="not 2"):
        for i, r in in_process().completed(boom, [(0,), (1,), (2,), (3,)]):
            seen.append((i, r))
    assert seen == [(0, 0), (1, 1)]


# --------------------------------------------------------------------------- end to end
def test_sweep_in_process_stores_and_reports(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    spec = sweeps.SweepSpec(
        vary=["discount_rate_annual=0.08,0.12", "market.mu_annual=0,0.2"], paths=128
    )
    done = sweeps.execute_sweep(CORE.read_text(), "core", spec, db=db, out=tmp_path, workers=0)
    assert done.workers == 1 and len(done.results) == 4
    with store.connect(db, read_only=True) as con:
        (row,) = store.list_sweeps(con)
        got = store.get_sweep(con, done.sweep_id)
    assert row["status"] == "complete" and got["variants_done"] == 4
    assert [r["npv_usd"] for r in got["rows"]] == [r.npv_usd for r in done.results]
    assert [r["overrides"] for r in got["rows"]] == [r.overrides for r in done.results]
    html = Path(done.report_path).read_text()
    assert "Mean NPV by pairs of varied keys" in html and "Tornado of the sweep" in html
    # a variant is its plan run alone with the same overrides: the same numbers
    for r in done.results:
        cfg, _ = load_plan(CORE, values=r.overrides, paths=128)
        assert engine.run(cfg, with_tornado=False).summary()["npv_usd"]["mean"] == r.npv_usd["mean"]


def test_cli_sweep_bad_key_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    res = run_cli(
        "sweep", str(CORE), "--vary", "market.no_such_key=1,2", "--paths", "64", "--db", str(db)
    )
    assert res.returncode == 2
    assert "market.no_such_key: unknown key" in res.stderr and "Traceback" not in res.stderr
    if db.exists():
        assert duckdb.connect(str(db)).execute("SELECT count(*) FROM sweeps").fetchone() == (0,)


def test_cli_sweep_bad_workers_is_named() -> None:
    res = run_cli("sweep", str(CORE), "--vary", "seed=1,2", "--workers", "999")
    assert res.returncode == 2 and "--workers: 999" in res.stderr


def test_cli_sweep_json_keys(tmp_path: Path) -> None:
    res = run_cli(
        "sweep", str(CORE), "--vary", "discount_rate_annual=0.08,0.1", "--paths", "64",
        "--workers", "0", "--db", str(tmp_path / "s.duckdb"), "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert {"sweep_id", "variants", "seconds", "workers"} <= set(d)
    assert {"overrides", "npv_usd", "p_default"} <= set(d["variants"][0])
    assert d["variants"][1]["overrides"] == {"discount_rate_annual": 0.1}
