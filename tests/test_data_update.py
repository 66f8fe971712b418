"""``hashpivot data update`` against a local HTTP server that answers like mempool.space and
Bitstamp (their documented response shapes): whole days only, incremental on a second call, and a
clear error offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from typer.testing import CliRunner

from hashpivot.bitcoin import history, network, updates
from hashpivot.cli import app
from hashpivot.data import fetch, store

FEB_1 = int(pd.Timestamp("2026-02-01").timestamp())


class Chain:
    """A chain continuing the shipped data: 144 blocks a UTC day (median times 600 s apart) from
    2026-02-01; the blocks before it have median times on 2026-01-31."""

    def __init__(self) -> None:
        self.first_new = history.network_state("2026-01-31").height + 6
        self.tip = self.first_new
        self.requests: list[str] = []
        self.difficulty = history.difficulty_at_end_of_day("2026-02-01")

    def block(self, h: int) -> dict:
        k = h - self.first_new
        mtp = FEB_1 + 600 * k + 5 if k >= 0 else FEB_1 - 10 * (-k)
        return {
            "id": f"{h:064x}",
            "height": h,
            "version": 0x20000000,
            "timestamp": mtp + 3000,
            "mediantime": mtp,
            "tx_count": 3000,
            "difficulty": self.difficulty,
            "extras": {"totalFees": 2_000_000 + (h % 7) * 100_000, "reward": 0},
        }

    def fees_btc(self, day: int) -> float:
        hs = range(self.first_new + 144 * day, self.first_new + 144 * (day + 1))
        return sum(2_000_000 + (h % 7) * 100_000 for h in hs) / 1e8


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Chain]]:
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path / "store"))
    chain = Chain()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            u = urlparse(self.path)
            chain.requests.append(self.path)
            if u.path == "/api/blocks/tip/height":
                return self._send(str(chain.tip).encode(), "text/plain")
            if u.path.startswith("/api/v1/blocks/"):
                top = min(int(u.path.rsplit("/", 1)[1]), chain.tip)
                blocks = [chain.block(h) for h in range(top, max(top - 15, -1), -1)]
                return self._send(json.dumps(blocks).encode())
            if u.path == "/api/v2/ohlc/btcusd/":
                q = parse_qs(u.query)
                start, limit = int(q["start"][0]), int(q["limit"][0])
                last = int(pd.Timestamp("2026-09-10").timestamp())  # the exchange's latest candle
                candles = [
                    {"timestamp": str(t), "open": "1", "high": "1", "low": "1",
                     "close": f"{60000 + (t - start) // 86400}.5", "volume": "1"}
                    for t in range(start, min(last, start + 86400 * (limit - 1)) + 1, 86400)
                ]  # fmt: skip
                return self._send(
                    json.dumps({"data": {"pair": "BTC/USD", "ohlc": candles}}).encode()
                )
            self.send_response(404)
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", chain
    httpd.shutdown()


def test_chain_update_stores_whole_days_and_is_incremental(server: tuple[str, Chain]) -> None:
    url, chain = server
    shipped = history.btc_daily()
    chain.tip = chain.first_new + 3 * 144 + 50  # three whole days and part of a fourth
    first = updates.update_chain(url)
    assert (first["from"], first["to"], first["days"]) == ("2026-02-01", "2026-02-03", 3)
    d = history.btc_daily()
    assert d.index[-1] == pd.Timestamp("2026-02-03")
    assert d.loc["2026-02-01":, "blocks"].tolist() == [144.0, 144.0, 144.0]
    assert d.loc["2026-02-02", "fees_btc"] == pytest.approx(chain.fees_btc(1), rel=1e-12)
    assert d.loc["2026-02-02", "issuance_btc"] == pytest.approx(144 * 3.125)
    assert d.loc["2026-02-03", "difficulty"] == chain.difficulty
    # The height bookkeeping continues exactly: 144 a day on top of the shipped end.
    assert history.network_state("2026-02-03").height == (
        history.network_state("2026-01-31").height + 3 * 144
    )
    pd.testing.assert_frame_equal(d.loc[:"2026-01-31"], shipped)  # the shipped rows untouched
    # Second call: two more days; it starts near the stored end, not from the beginning.
    chain.requests.clear()
    chain.tip = chain.first_new + 5 * 144 + 10
    second = updates.update_chain(url)
    assert (second["from"], second["to"], second["days"]) == ("2026-02-04", "2026-02-05", 2)
    asked = [int(p.rsplit("/", 1)[1]) for p in chain.requests if p.startswith("/api/v1/blocks/")]
    assert min(asked) >= chain.first_new + 3 * 144 - updates.OVERLAP_BLOCKS
    assert second["requests"] <= (2 * 144 + 10 + updates.OVERLAP_BLOCKS) // 15 + 2
    # A third call with nothing new stores nothing.
    third = updates.update_chain(url)
    assert third["days"] == 0
    v = store.current("btc_daily")
    assert v is not None and v["meta"]["column_last_dates"]["blocks"] == "2026-02-05"


def test_price_update_fetches_to_yesterday(
    server: tuple[str, Chain], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    monkeypatch.setenv("HASHPIVOT_TODAY", "2026-09-01")
    done = updates.update_price(url)
    assert (done["from"], done["to"], done["days"]) == ("2026-08-22", "2026-08-31", 10)
    p = history.btc_price_daily()
    assert p.index[-1] == pd.Timestamp("2026-08-31")
    assert p["2026-08-22"] == 60000.5 and p["2026-08-31"] == 60009.5
    assert updates.update_price(url)["days"] == 0  # incremental: nothing new before today


def test_the_cli_update_and_status(server: tuple[str, Chain]) -> None:
    url, chain = server
    chain.tip = chain.first_new + 2 * 144 + 1
    r = CliRunner(env={"HASHPIVOT_TODAY": "2026-08-25"}).invoke(
        app.app,
        ["data", "update", "--chain-url", url, "--price-url", url, "--json"],
    )
    assert r.exit_code == 0, r.output
    out = {u["source"]: u for u in json.loads(r.output)["updates"]}
    assert out["chain"]["to"] == "2026-02-02" and out["price"]["to"] == "2026-08-24"
    s = CliRunner().invoke(app.app, ["data", "status", "--json"])
    local = [x for x in json.loads(s.output)["datasets"] if x["layer"] == "local"]
    assert [x["name"] for x in local] == ["btc_daily"] and local[0]["versions"] == 2


def test_offline_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(fetch.FetchError, match="unreachable"):
        fetch.tip_height("http://127.0.0.1:9")
    env = os.environ | {store.DATA_DIR_ENV: str(tmp_path / "s")}
    r = subprocess.run(
        [sys.executable, "-c", "from hashpivot.cli import main; raise SystemExit(main())",
         "data", "update", "--source", "chain", "--chain-url", "http://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "unreachable" in r.stderr and "needs the internet" in r.stderr
    assert not (tmp_path / "s" / "catalog.json").exists()


def test_an_unknown_source_is_named() -> None:
    with pytest.raises(Exception, match="--source"):
        updates.update(("gridstatus",))
    assert network.COIN_SATS == 100_000_000


def _gridstatus_frame(start: str, end: str) -> pd.DataFrame:
    """Real ERCOT HB_WEST day-ahead hours (the shipped EIA copy) in the frame gridstatus returns
    from ``Ercot().get_spp(..., market="DAY_AHEAD_HOURLY", location_type="Trading Hub")``."""
    from hashpivot.data import power_prices as pp

    real = pp.hourly_prices("ercot:HB_WEST:da:2021")
    local = real.index_utc.tz_convert("America/Chicago")
    keep = (local >= pd.Timestamp(start, tz="America/Chicago")) & (
        local < pd.Timestamp(end, tz="America/Chicago") + pd.Timedelta(days=1)
    )
    t = local[keep]
    return pd.DataFrame(
        {
            "Time": t,
            "Interval Start": t,
            "Interval End": t + pd.Timedelta(hours=1),
            "Location": "HB_WEST",
            "Location Type": "Trading Hub",
            "Market": "DAY_AHEAD_HOURLY",
            "SPP": real.price_usd_per_mwh[keep],
        }
    )


def test_iso_update_without_the_extra_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path / "s"))
    try:
        import gridstatus  # noqa: F401
    except ImportError:
        with pytest.raises(fetch.FetchError, match=r"hashpivot\[iso\]"):
            updates.update(("iso",), market="ercot:HB_WEST")
    with pytest.raises(Exception, match="--market"):
        updates.update(("iso",))
    with pytest.raises(Exception, match="iso:LOCATION"):
        updates.update(("iso",), market="pjm:WEST")


def test_iso_update_stores_recorded_gridstatus_rows_incrementally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hashpivot.data import power_prices as pp

    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path / "s"))
    asked: list[tuple[str, str]] = []

    def recorded(iso: str, location: str, start: str, end: str) -> pd.DataFrame:
        asked.append((start, end))
        return _gridstatus_frame(start, end)

    monkeypatch.setattr(fetch, "gridstatus_day_ahead", recorded)
    first = updates.update_iso(
        "ercot:HB_WEST", start="2021-02-01", today=pd.Timestamp("2021-03-01")
    )
    assert first["dataset"] == "user:ercot-HB_WEST-da" and asked == [("2021-02-01", "2021-02-28")]
    stored_last = pd.Timestamp(store.current("user:ercot-HB_WEST-da")["last"])
    resume = (stored_last.tz_convert("America/Chicago") + pd.Timedelta(days=1)).date()
    second = updates.update_iso("ercot:HB_WEST", today=pd.Timestamp("2021-03-11"))
    assert asked[-1] == (str(resume), "2021-03-10")  # from the day after the stored last hour
    got = pp.hourly_prices("user:ercot-HB_WEST-da")
    ref = pp.hourly_prices("ercot:HB_WEST:da:2021")
    local = ref.index_utc.tz_convert("America/Chicago")
    keep = (local >= pd.Timestamp("2021-02-01", tz="America/Chicago")) & (
        local < pd.Timestamp("2021-03-11", tz="America/Chicago")
    )
    assert (got.index_utc == ref.index_utc[keep]).all()
    assert (got.price_usd_per_mwh == ref.price_usd_per_mwh[keep]).all()
    # Winter Storm Uri's missing hours stay missing, and are named.
    assert len(got.missing_hours_utc) > 0 and set(got.missing_hours_utc) <= set(
        ref.missing_hours_utc
    )
    assert second["hours"] == len(_gridstatus_frame(str(resume), "2021-03-10"))
