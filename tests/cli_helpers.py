"""Running the installed ``hashpivot`` command from the tests, as a user would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXE = shutil.which("hashpivot", path=str(Path(sys.executable).parent)) or "hashpivot"


def run(
    *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``hashpivot ARGS…`` in a subprocess, output captured as text."""
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def plan_json(
    plan: Path, db: Path, out: Path, paths: int, months: int, *extra: str
) -> dict[str, Any]:
    """``hashpivot plan PLAN --paths --months --db --out --json``: the parsed JSON of a run that
    must succeed."""
    r = run(
        "plan",
        str(plan),
        "--paths",
        str(paths),
        "--months",
        str(months),
        "--db",
        str(db),
        "--out",
        str(out),
        "--json",
        *extra,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def plan_rejected(plan: Path, tmp_path: Path, *args: str) -> str:
    """``hashpivot plan PLAN ARGS…`` that must be refused: exit code 2, a message rather than a
    traceback, and no run store written. Returns the message."""
    db = tmp_path / "rejected.duckdb"
    r = run("plan", str(plan), "--db", str(db), "--out", str(tmp_path), *args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert not db.exists()
    return r.stderr


def local_client(app: Any, **kw: Any) -> Any:
    """A Starlette TestClient that reaches the app as a browser on this machine does (Host
    127.0.0.1: the server refuses other names, against DNS rebinding)."""
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://127.0.0.1", **kw)
