"""Loopback load test of the web API: the network and cost endpoints, bounded to ≤ 30 s.

A real uvicorn server runs in this process on 127.0.0.1; ``--clients`` threads each keep one
HTTP/1.1 connection (httpx) and call an endpoint for ``--seconds`` per endpoint. Reports p50 and
p99 latency and requests/s, beside the baseline: the same work done by the library in-process
(``history.network_state`` and ``mining.site_economics``), so that the cost of HTTP, JSON and
validation is visible. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn

from hashpivot import config, history, mining
from hashpivot.api import create_app

ROOT = Path(__file__).resolve().parents[1]
DATES = ["2017-12-17", "2020-05-11", "2021-11-10", "2024-04-20", "2025-09-26"]


def cost_body() -> dict:
    data = config.read_yaml(ROOT / "examples" / "industry_average_2025.yaml")
    return json.loads(json.dumps(data, default=str))


def load(base: str, method: str, path: str, body: dict | None, clients: int, seconds: float):
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            k = 0
            while time.perf_counter() < stop:
                url = path.format(date=DATES[k % len(DATES)])
                t = time.perf_counter()
                r = c.request(method, url, json=body)
                latencies[i].append(time.perf_counter() - t)
                errors[i] += r.status_code != 200
                k += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = np.concatenate([np.asarray(x) for x in latencies]) * 1000.0
    return {
        "requests": int(lat.size),
        "errors": int(sum(errors)),
        "requests_per_s": round(lat.size / wall, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2),
    }


def baseline(fn, seconds: float = 2.0) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(n)
        n += 1
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="per endpoint (≤ 12)")
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    seconds = min(args.seconds, 12.0)  # two endpoints + baselines stay under 30 s
    body = cost_body()
    sf = config.validate(config.SiteFile, body, "bench")
    with tempfile.TemporaryDirectory() as d:
        app = create_app(Path(d) / "bench.duckdb", "bench-token", out=Path(d) / "out")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        network = load(base, "GET", "/api/network?date={date}", None, args.clients, seconds)
        cost = load(base, "POST", "/api/cost", body, args.clients, seconds)
        server.should_exit = True
        thread.join(timeout=10)
    network["library_calls_per_s"] = round(
        baseline(lambda k: history.network_state(DATES[k % len(DATES)]).to_dict()), 1
    )
    cost["library_calls_per_s"] = round(
        baseline(
            lambda k: mining.site_economics(
                config.validate(config.SiteFile, body, "bench").site.to_site(),
                sf.market.to_market(),
            ).summary()
        ),
        1,
    )
    print(
        json.dumps(
            {
                "benchmark": "api",
                "clients": args.clients,
                "seconds_per_endpoint": seconds,
                "network": network,
                "cost": cost,
            }
        )
    )


if __name__ == "__main__":
    main()
