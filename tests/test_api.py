"""The web API in-process (FastAPI's TestClient over the real app, DuckDB file and ledger)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli_helpers import local_client
from hashpivot.api.app import MAX_BODY_BYTES, create_app
from hashpivot.bitcoin import history
from hashpivot.cli.serve import is_loopback, resolve_token, token_path
from hashpivot.config import models as config
from hashpivot.data import power_prices as price_data
from hashpivot.sites import mining

ROOT = Path(__file__).resolve().parents[1]
TEXAS = (ROOT / "examples" / "texas_miner.yaml").read_text()
TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    d = tmp_path_factory.mktemp("api")
    app = create_app(d / "runs.duckdb", TOKEN, out=d / "out")
    with local_client(app) as c:
        yield c


def wait_job(client: TestClient, job_id: str, timeout: float = 300) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture(scope="module")
def finished(client: TestClient) -> dict:
    r = client.post(
        "/api/runs", json={"plan_yaml": TEXAS, "paths": 512, "months": 24}, headers=AUTH
    )
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["job_id"])
    assert job["status"] == "done", job
    assert job["progress"] == 1.0 and job["done_paths"] == 512
    return job


def test_network_matches_the_library(client: TestClient) -> None:
    r = client.get("/api/network", params={"date": "2024-04-20"})
    assert r.status_code == 200
    body = r.json()
    assert body == json.loads(json.dumps(history.network_state("2024-04-20").to_dict()))
    assert body["subsidy_btc"] == 3.125 and body["height"] >= 840_000  # the fourth halving day
    h = client.get("/api/network/history", params={"start": "2024-01-01", "end": "2024-01-31"})
    assert h.status_code == 200 and len(h.json()["date"]) == 31
    assert [x["height"] for x in h.json()["halvings"]][:4] == [210_000, 420_000, 630_000, 840_000]


def test_network_bad_date_is_a_named_error(client: TestClient) -> None:
    r = client.get("/api/network", params={"date": "1999-01-01"})
    assert r.status_code == 400 and "date" in r.json()["detail"]


def test_cost_matches_the_library(client: TestClient) -> None:
    data = json.loads(
        json.dumps(config.read_yaml(ROOT / "examples" / "industry_average_2025.yaml"), default=str)
    )
    r = client.post("/api/cost", json=data)
    assert r.status_code == 200, r.text
    sf = config.validate(config.SiteFile, data, "example")
    expected = mining.site_economics(sf.site.to_site(), sf.market.to_market()).summary()
    got = r.json()
    for key in ("cash_cost_usd_per_btc", "all_in_cost_usd_per_btc"):
        assert got[key] == pytest.approx(expected[key], rel=1e-12)
    bad = json.loads(json.dumps(data))
    bad["site"]["power_capacity_mw"] = -1
    r = client.post("/api/cost", json=bad)
    assert r.status_code == 422
    assert ["body", "site", "power_capacity_mw"] in [e["loc"] for e in r.json()["detail"]]


def test_validate_plan_field_paths(client: TestClient) -> None:
    ok = client.post("/api/plans/validate", json={"plan_yaml": TEXAS})
    assert ok.status_code == 200 and ok.json()["sites"] == 2
    bad = client.post(
        "/api/plans/validate",
        json={"plan_yaml": TEXAS.replace("power_capacity_mw: 300", "power_capacity_mw: -3")},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == [
        "body",
        "plan_yaml",
        "sites",
        "0",
        "power_capacity_mw",
    ]
    malformed = client.post("/api/plans/validate", json={"plan_yaml": "sites: [1,"})
    assert malformed.status_code == 422 and "malformed YAML" in malformed.json()["detail"][0]["msg"]
    not_json = client.post(
        "/api/plans/validate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422


def test_write_routes_need_the_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        r = client.post("/api/runs", json={"plan_yaml": TEXAS}, headers=headers)
        assert r.status_code == 401 and "token" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_run_end_to_end(client: TestClient, finished: dict) -> None:
    run_id = finished["run_id"]
    runs = client.get("/api/runs").json()
    assert run_id in [r["run_id"] for r in runs]
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["paths"] == 512 and run["months"] == 24 and run["summary"]["plan"] == "texas-miner"
    series = client.get(f"/api/runs/{run_id}/series").json()
    cash = series["series"]["company_cash_usd"]
    assert len(cash["p50"]) == 24 and len(series["npv_usd"]) == 512
    assert all(a <= b for a, b in zip(cash["p5"], cash["p95"], strict=True))
    assert sum(series["npv_usd"]) / 512 == pytest.approx(run["summary"]["npv_usd"]["mean"])
    report = client.get(f"/api/runs/{run_id}/report")
    assert report.status_code == 200 and "<html" in report.text.lower()
    v = client.get(f"/api/runs/{run_id}/verify").json()
    assert v["ok"] is True and all(c["ok"] for c in v["checks"])
    head = client.get("/api/ledger/head").json()
    assert head["size"] >= 1 and len(head["signature_hex"]) == 128


def test_unknown_ids_are_404(client: TestClient) -> None:
    for path in (
        "/api/runs/nope",
        "/api/runs/nope/series",
        "/api/runs/nope/report",
        "/api/runs/nope/verify",
        "/api/jobs/nope",
        "/api/sweeps/nope",
    ):
        r = client.get(path)
        assert r.status_code == 404 and "nope" in r.json()["detail"], path


def test_oversized_and_chunked_bodies_are_refused(client: TestClient, finished: dict) -> None:
    big = {"plan_yaml": "x" * (MAX_BODY_BYTES + 10)}
    r = client.post("/api/plans/validate", json=big)
    assert r.status_code == 413 and "allowed" in r.json()["detail"]

    def chunks():
        yield b'{"plan_yaml": "'
        yield b'name: x"}'

    r = client.post(
        "/api/plans/validate", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 411
    # Nothing stored was lost on the way.
    assert finished["run_id"] in [x["run_id"] for x in client.get("/api/runs").json()]


def test_a_failing_run_reports_and_keeps_earlier_runs(tmp_path: Path) -> None:
    db = tmp_path / "keep.duckdb"
    body = {"plan_yaml": TEXAS, "paths": 64, "months": 12}
    with local_client(create_app(db, TOKEN, out=tmp_path / "out")) as good:
        first = wait_job(good, good.post("/api/runs", json=body, headers=AUTH).json()["job_id"])
        assert first["status"] == "done"
    # The report folder cannot be created (a file is in the way): the run fails after the
    # simulation, and nothing of it is stored.
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("x")
    with local_client(create_app(db, TOKEN, out=blocked)) as bad:
        job = wait_job(bad, bad.post("/api/runs", json=body, headers=AUTH).json()["job_id"])
        assert job["status"] == "failed" and job["error"] and job["run_id"] is None
        runs = bad.get("/api/runs").json()
        assert [r["run_id"] for r in runs] == [first["run_id"]]
        assert bad.get(f"/api/runs/{first['run_id']}/verify").json()["ok"] is True
        assert bad.get("/api/health").status_code == 200  # the server is still up


def test_reads_need_the_token_off_loopback(tmp_path: Path) -> None:
    app = create_app(tmp_path / "r.duckdb", TOKEN, out=tmp_path / "out", open_reads=False)
    with local_client(app) as c:
        assert c.get("/api/runs").status_code == 401
        assert c.get("/api/runs", headers=AUTH).status_code == 200
        # A page sends the browser to the login form (it cannot send a bearer header).
        page = c.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"


def test_token_file_created_once_and_env_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HASHPIVOT_TOKEN", raising=False)
    db = tmp_path / "s.duckdb"
    token, created = resolve_token(db)
    assert created and len(token) >= 32
    assert stat.S_IMODE(os.stat(token_path(db)).st_mode) == 0o600
    again, created_again = resolve_token(db)
    assert again == token and not created_again
    monkeypatch.setenv("HASHPIVOT_TOKEN", "from-env")
    assert resolve_token(db) == ("from-env", False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/network",
        "/api/cost",
        "/api/plans/validate",
        "/api/runs",
        "/api/jobs/{job_id}",
        "/api/runs/{run_id}/series",
        "/api/ledger/head",
        "/api/runs/{run_id}/verify",
        "/api/sweeps",
        "/api/sweeps/{sweep_id}",
    ):
        assert path in spec["paths"], path


def test_a_stored_sweep_through_the_api(tmp_path: Path) -> None:
    """A sweep stored by the CLI's code path reads back through the API: the same variants, and
    the heat map and tornado the report draws."""
    from hashpivot.runs import sweeps

    db = tmp_path / "s.duckdb"
    plan = ROOT / "examples" / "texas_miner.yaml"
    spec = sweeps.SweepSpec(
        vary=["discount_rate_annual=0.08,0.12", "market.mu_annual=0,0.2"], paths=64
    )
    done = sweeps.execute_sweep(plan.read_text(), str(plan), spec, db=db, out=tmp_path, workers=0)
    with local_client(create_app(db, TOKEN, out=tmp_path)) as c:
        (item,) = c.get("/api/sweeps").json()
        assert item["sweep_id"] == done.sweep_id and item["status"] == "complete"
        d = c.get(f"/api/sweeps/{done.sweep_id}").json()
    assert [v["npv_usd"] for v in d["variants"]] == [r.npv_usd for r in done.results]
    assert d["heat_maps"] == [m.to_dict() for m in done.heat_maps]
    assert [t["key"] for t in d["tornado"]] == [t.key for t in done.tornado]


def test_buildout_route_matches_the_library(client: TestClient) -> None:
    from hashpivot import buildout
    from hashpivot.config.buildout import load_campaign_text

    text = (ROOT / "examples" / "openai_16gw.yaml").read_text()
    refused = client.post("/api/buildout", json={"campaign_yaml": text})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-2:] == ["power", "mining_sites_plan"]
    text = text.replace("  mining_sites_plan: texas_miner.yaml\n", "")
    r = client.post(
        "/api/buildout", json={"campaign_yaml": text, "overrides": ["capex_preset=analyst_60"]}
    )
    assert r.status_code == 200, r.text
    expected = buildout.build(load_campaign_text(text, "t", ["capex_preset=analyst_60"]))
    assert r.json()["capex_total_usd"] == pytest.approx(0.96e12)
    assert r.json()["funding_gap_usd"] == pytest.approx(float(expected.gap.sum()))
    bad = client.post(
        "/api/buildout", json={"campaign_yaml": text, "overrides": ["tranches[0].gw=-1"]}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "campaign_yaml", "tranches", "0", "gw"]


def test_dispatch_route_matches_the_cli_example(client: TestClient) -> None:
    from hashpivot.config import models as config
    from hashpivot.dispatch import lp as dispatch
    from hashpivot.dispatch import site_file as dispatch_site

    text = (ROOT / "examples" / "texas_ppa_2023.yaml").read_text()
    r = client.post("/api/dispatch", json={"site_yaml": text, "month": "2023-08"})
    assert r.status_code == 200, r.text
    sf = config.load_site_file(ROOT / "examples" / "texas_ppa_2023.yaml")
    series = price_data.hourly_prices("ercot:LZ_WEST:2023").month("2023-08")
    res = dispatch.solve(
        dispatch_site.site_problem(sf, series), dispatch_site.market_prices(sf, series)
    )
    assert r.json()["objective_usd"] == pytest.approx(res.accounts()["objective_usd"], rel=1e-9)
    assert r.json()["hours"] == 744
    for prices in ("/etc/passwd", "ercot:LZ_WEST:2023/../x", "csv:file"):
        bad = client.post("/api/dispatch", json={"site_yaml": text, "prices": prices})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "prices"]


def test_serve_command_prints_the_token_once(tmp_path: Path) -> None:
    import shutil
    import socket
    import subprocess
    import sys
    import urllib.request

    exe = shutil.which("hashpivot", path=str(Path(sys.executable).parent)) or "hashpivot"
    env = {k: v for k, v in os.environ.items() if k != "HASHPIVOT_TOKEN"}
    db = tmp_path / "serve.duckdb"
    outputs = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [exe, "serve", "--port", str(port), "--db", str(db), "--out", str(tmp_path / "o")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            t0 = time.time()
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as r:
                        assert json.loads(r.read())["ok"] is True
                    break
                except OSError:
                    assert proc.poll() is None and time.time() - t0 < 60, "server did not start"
                    time.sleep(0.2)
        finally:
            proc.terminate()
            outputs.append(proc.communicate(timeout=30)[0])
    token = token_path(db).read_text().strip()
    assert token in outputs[0] and token not in outputs[1]


def test_openapi_documents_every_answer(tmp_path: Path) -> None:
    """Every JSON route declares what it answers: /openapi.json names a schema for each 2xx."""
    spec = local_client(create_app(tmp_path / "r.duckdb", "token")).get("/openapi.json").json()
    undocumented = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for code, answer in op["responses"].items():
                if not code.startswith("2") or code == "303":
                    continue
                content = answer.get("content", {})
                if "text/html" in content:
                    continue
                schema = content.get("application/json", {}).get("schema", {})
                if not schema or schema == {}:
                    undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []
    run = spec["components"]["schemas"]["RunDetail"]
    assert {"summary", "results_sha256", "plan_sha256"} <= set(run["required"])
