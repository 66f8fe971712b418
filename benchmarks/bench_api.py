"""Loopback load test of the web API, bounded to about a minute.

A real uvicorn server runs in this process on 127.0.0.1; ``--clients`` threads each keep one
HTTP/1.1 connection (httpx) and call an endpoint for ``--seconds`` per endpoint. Reports p50 and
p99 latency and requests/s, beside the baseline: the same work done by the library in-process
(``history.network_state`` and ``mining.site_economics``), so that the cost of HTTP, JSON and
validation is visible.

Then a mixed load for ``--attack-seconds`` (20 s): readers (network, runs list), a client that
starts small plan runs with the token, and a hostile client without one sending the YAML alias
amplification, 600-deep nesting, NaN and lone-surrogate bodies in a loop. Reported beside the
goal (0 responses ≥ 500, RSS growth < 100 MB, read p99 < 100 ms): ``p99_ms_under_attack``,
``errors_5xx``, ``rss_growth_mb``. Prints one JSON line.
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

from hashpivot.api.app import create_app
from hashpivot.bitcoin import history
from hashpivot.config import models as config
from hashpivot.sites import mining

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


TEXAS = (ROOT / "examples" / "texas_miner.yaml").read_text()


def _bomb() -> str:
    lines = ["x-a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    lines += [f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return TEXAS + "\n" + "\n".join(lines) + "\nunknown_key: *a8\n"


HOSTILE = [
    ("POST", "/api/plans/validate", json.dumps({"plan_yaml": _bomb()})),
    ("POST", "/api/plans/validate", json.dumps({"plan_yaml": "a: " + "[" * 600 + "]" * 600})),
    ("POST", "/api/plans/validate", '{"plan_yaml": NaN}'),
    ("POST", "/api/cost", '{"site_yaml": "\\ud800"}'),
    ("POST", "/api/runs", json.dumps({"plan_yaml": TEXAS, "overrides": ["paths=10000000"]})),
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")  # pragma: no cover - not Linux


def mixed(base: str, token: str, seconds: float) -> dict:
    """Readers, a run starter and a hostile client at once; 5xx counted over all of them."""
    stop = time.perf_counter() + seconds
    reads: list[float] = []
    counts = {"reads": 0, "runs_started": 0, "hostile": 0, "errors_5xx": 0, "read_errors": 0}
    lock = threading.Lock()

    def count(key: str, status: int) -> None:
        with lock:
            counts[key] += 1
            counts["errors_5xx"] += status >= 500

    def reader(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            k = 0
            while time.perf_counter() < stop:
                url = "/api/runs" if k % 3 == 2 else f"/api/network?date={DATES[k % len(DATES)]}"
                t = time.perf_counter()
                r = c.get(url)
                dt = time.perf_counter() - t
                with lock:
                    reads.append(dt)
                    counts["read_errors"] += r.status_code != 200
                count("reads", r.status_code)
                k += 1

    def runner() -> None:
        body = {"plan_yaml": TEXAS, "paths": 256, "months": 24}
        with httpx.Client(
            base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as c:
            while time.perf_counter() < stop:
                r = c.post("/api/runs", json=body)
                count("runs_started", r.status_code)
                time.sleep(2.0)

    def hostile() -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            k = 0
            while time.perf_counter() < stop:
                method, url, raw = HOSTILE[k % len(HOSTILE)]
                r = c.request(
                    method, url, content=raw, headers={"Content-Type": "application/json"}
                )
                count("hostile", r.status_code)
                k += 1

    # Warm up what a first run loads (kernels, the store, the report's libraries), so that the
    # growth measured is what the load adds, not one-time set-up.
    with httpx.Client(
        base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        job = c.post("/api/runs", json={"plan_yaml": TEXAS, "paths": 256, "months": 24}).json()
        while c.get(f"/api/jobs/{job['job_id']}").json()["status"] in ("queued", "running"):
            time.sleep(0.2)
    before = rss_mb()
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=runner), threading.Thread(target=hostile)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = np.asarray(reads) * 1000.0
    return counts | {
        "read_p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p99_ms_under_attack": round(float(np.percentile(lat, 99)), 2),
        "rss_growth_mb": round(rss_mb() - before, 1),
        "goal": {"errors_5xx": 0, "rss_growth_mb_below": 100, "p99_ms_under_attack_below": 100},
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
    ap.add_argument("--attack-seconds", type=float, default=20.0, help="mixed load (≤ 30)")
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
        attack = mixed(base, "bench-token", min(args.attack_seconds, 30.0))
        app.state.worker.shutdown(wait=True, cancel_futures=True)
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
                "mixed": attack,
                "p99_ms_under_attack": attack["p99_ms_under_attack"],
                "errors_5xx": attack["errors_5xx"],
                "rss_growth_mb": attack["rss_growth_mb"],
            }
        )
    )


if __name__ == "__main__":
    main()
