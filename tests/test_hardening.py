"""Hardening: a server that cannot be made to read files, fetch URLs or exhaust itself, inputs
that are bounded, and one-line errors for every bad input. Each test fails on the code before."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from cli_helpers import ROOT, local_client, plan_rejected, run
from hashpivot.api.app import create_app
from hashpivot.config import models as config
from hashpivot.config.io import MAX_ERRORS, MAX_YAML_DEPTH, parse_yaml_text
from hashpivot.data import power_prices as price_data
from hashpivot.errors import ConfigError, InputError

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXAS = (ROOT / "examples" / "texas_miner.yaml").read_text()


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return local_client(create_app(tmp_path / "r.duckdb", TOKEN), raise_server_exceptions=False)


class Listener:
    """A loopback TCP listener that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connected = False
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connected = True
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join(1)
        self.sock.close()


# --------------------------------------------------------------------------- reads and fetches
@pytest.mark.parametrize(
    "market",
    ["/etc/passwd", "/dev/zero", "examples/../../etc/hostname", "file:///etc/passwd", "URL"],
)
def test_a_plan_cannot_name_a_file_or_url(client: TestClient, market: str) -> None:
    listener = Listener()
    try:
        if market == "URL":
            market = f"http://127.0.0.1:{listener.port}/prices.csv"
        body = {"plan_yaml": TEXAS, "overrides": [f"sites[0].power_market={market}"]}
        for url, auth in (("/api/plans/validate", {}), ("/api/runs", AUTH)):
            r = client.post(url, json=body, headers=auth)
            assert r.status_code == 422, r.text
            text = r.text
            assert "power_market" in text and "ercot:LZ_WEST:2023" in text
            assert "root:" not in text  # nothing of the file comes back
        assert not listener.connected  # nothing was fetched
    finally:
        listener.close()
    with pytest.raises(InputError, match="iso:NODE:da"):
        price_data.hourly_prices("/etc/passwd")


def test_the_cli_reads_only_local_regular_files(tmp_path: Path) -> None:
    site = str(ROOT / "examples" / "texas_ppa_2023.yaml")
    listener = Listener()
    try:
        for prices, text in (
            (f"http://127.0.0.1:{listener.port}/p.csv", "never a URL"),
            ("/dev/zero", "regular file"),
            (str(tmp_path), "regular file"),
            (str(tmp_path / "missing.csv"), "a market name"),
        ):
            r = run("dispatch", site, "--prices", prices, "--out", str(tmp_path))
            assert r.returncode == 2, r.stderr
            assert text in r.stderr and "Traceback" not in r.stderr
        assert not listener.connected
    finally:
        listener.close()
    # A user's own file still works from the command line.
    good = tmp_path / "prices.csv"
    hours = price_data.hourly_prices("ercot:LZ_WEST:2023").month("2023-08")
    good.write_text(
        "timestamp_utc,price_usd_per_mwh\n"
        + "".join(
            f"{t.isoformat()},{p}\n"
            for t, p in zip(hours.index_utc, hours.price_usd_per_mwh, strict=True)
        )
    )
    r = run("dispatch", site, "--prices", str(good), "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- amplification
def _alias_bomb(levels: int = 8) -> str:
    """~1 KB of YAML that expands to 10**levels values, under an unknown key."""
    lines = ["x-a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for i in range(1, levels + 1):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append(f"unknown_key: *a{levels}")
    return TEXAS + "\n" + "\n".join(lines) + "\n"


def test_alias_amplification_is_refused_small_and_fast(client: TestClient) -> None:
    bomb = _alias_bomb()
    assert len(bomb) < 12_000
    r = client.post("/api/plans/validate", json={"plan_yaml": bomb})
    assert r.status_code == 422
    assert len(r.content) < 4_000  # was 45.5 MB
    assert "aliases" in r.text
    with pytest.raises(ConfigError, match="aliases"):
        parse_yaml_text(bomb, "bomb")


def test_many_problems_are_capped_and_inputs_not_echoed(client: TestClient) -> None:
    data = yaml.safe_load(TEXAS)
    for i in range(500):
        data[f"unknown_{i}"] = "v" * 1_000
    r = client.post("/api/plans/validate", json={"plan_yaml": yaml.safe_dump(data)})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert len(detail) <= MAX_ERRORS + 1 and "more problems" in detail[-1]["msg"]
    assert "v" * 200 not in r.text
    assert len(r.content) < 20_000


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 600 + "]" * 600,
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 520)) + "  " * 520 + "v: 1\n",
    ],
)
def test_deep_yaml_is_a_named_error(client: TestClient, text: str) -> None:
    with pytest.raises(ConfigError, match=f"deeper than {MAX_YAML_DEPTH}"):
        parse_yaml_text(text, "deep")
    r = client.post("/api/plans/validate", json={"plan_yaml": text})
    assert r.status_code == 422 and "deeper" in r.text


@pytest.mark.parametrize(
    "body",
    [
        '{"plan_yaml": NaN}',
        '{"plan_yaml": 1e400}',
        '{"plan_yaml": "\\ud800"}',
        '{"plan_yaml": "name: \\ud800x"}',
        '{"plan_yaml": ' + "[" * 600 + "]" * 600 + "}",
        '{"plan_yaml": "a: 1", "overrides": [' + ", ".join(['"paths=NaN"'] * 5) + "]}",
    ],
)
def test_no_5xx_without_a_token(client: TestClient, body: str) -> None:
    for url in ("/api/plans/validate", "/api/cost", "/api/dispatch", "/api/buildout"):
        r = client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code < 500, (url, r.status_code, r.text[:200])
        json.loads(r.text)  # always JSON


# --------------------------------------------------------------------------- strict inputs
@pytest.mark.parametrize(
    ("override", "text"),
    [
        ("sites[0].pue=true", "sites[0].pue"),
        ("sites[0].pue=yes", "sites[0].pue"),
        ("sites[0].power_usd_per_mwh='1e3'", "sites[0].power_usd_per_mwh"),
        ("seed=18446744073709551616", "seed"),
    ],
)
def test_numbers_must_be_numbers(tmp_path: Path, override: str, text: str) -> None:
    message = plan_rejected(ROOT / "examples" / "texas_miner.yaml", tmp_path, "--set", override)
    assert text in message


def test_yaml_12_floats_and_duplicate_keys() -> None:
    data = parse_yaml_text("a: 1e3\nb: 1.0e6\nc: -2.5E-3\nd: 1_000\n", "t")
    assert data == {"a": 1000.0, "b": 1e6, "c": -0.0025, "d": 1000}
    with pytest.raises(ConfigError, match="duplicate key 'a'"):
        parse_yaml_text("a: 1\nb: 2\na: 3\n", "t")
    cfg, _ = config.load_plan(ROOT / "examples" / "bitriver.yaml")  # anchors and aliases still work
    assert len(cfg.sites) == 31


# --------------------------------------------------------------------------- the browser's side
def test_dns_rebinding_and_security_headers(tmp_path: Path) -> None:
    app = create_app(tmp_path / "r.duckdb", TOKEN)
    evil = TestClient(app, base_url="http://attacker.example")
    r = evil.get("/api/runs")
    assert r.status_code == 421 and "attacker.example" in r.text
    ok = local_client(app)
    r = ok.get("/api/network")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    # Only local assets on the origin that holds the token: no CDN in the API docs.
    docs = ok.get("/docs").text
    assert "https://" not in docs.replace("https://swagger.io", "")


def test_dashboard_off_loopback_logs_in_with_a_cookie(tmp_path: Path) -> None:
    app = create_app(tmp_path / "r.duckdb", TOKEN, open_reads=False)
    c = local_client(app, follow_redirects=False)
    assert c.get("/api/runs").status_code == 401
    page = c.get("/runs")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert "password" in c.get("/login").text
    bad = c.post("/api/login", data={"token": "wrong"})
    assert bad.status_code == 401 and "hashpivot_token" not in bad.headers.get("set-cookie", "")
    good = c.post("/api/login", data={"token": TOKEN})
    assert good.status_code == 303
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert c.get("/api/runs").status_code == 200  # the cookie now authorises reads
    assert c.get("/runs").status_code == 200
    c.post("/api/logout")
    assert c.get("/api/runs").status_code == 401
