"""The web API (FastAPI) over the same engine as the CLI.

Read routes are open when the server listens on loopback; write routes (starting a run) need a
bearer token. Errors are JSON: 422 with field paths for invalid plans and bodies, 401 for a
missing or wrong token, 404 for unknown runs and jobs, 413 for oversized bodies. Plan runs are
background jobs with progress; a failed run stores nothing and leaves earlier runs intact.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
import threading
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import numpy as np
import swagger_ui_bundle
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import Field

from ..bitcoin import history
from ..config import models as config
from ..config.io import MAX_ERRORS, loc_path
from ..engine import run as plan_module
from ..engine.results import DECISION_COLUMNS, decision_site_rows, portfolio_rows
from ..errors import ConfigError, HashpivotError, InputError
from ..ledger import log as ledger
from ..runs import audit, runner, store, sweeps
from ..sites.mining import site_economics
from ..version import __version__
from . import answers
from .bodies import MAX_BODY_BYTES, ApiError, SafeJSONResponse, StrictBody
from .pages import add_pages
from .tools import add_tool_routes

#: Host names served by default (the loopback ones; ``hashpivot serve --host`` adds its own).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
#: The login cookie's name.
COOKIE = "hashpivot_token"
#: Content Security Policy of every response: scripts and styles from this origin only (the
#: pages' own inline blocks included), no framing, no other origin reached.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>hashpivot — log in</title></head><body style="font-family: system-ui; margin: 3rem">
<h1>hashpivot</h1><p>Paste the token <code>hashpivot serve</code> printed.</p>
<form method="post" action="/api/login"><input name="token" type="password" size="40"
autocomplete="current-password" autofocus> <button type="submit">Log in</button></form>
</body></html>"""
#: Most paths a run started through the API may have (after overrides and the YAML's own).
MAX_API_PATHS = 1_000_000
#: Runs queued or running at once; more get 429.
MAX_PENDING_JOBS = 4
#: Most per-path NPVs the series endpoint returns; beyond, evenly spaced quantiles.
MAX_SERIES_NPVS = 10_000
_bearer = HTTPBearer(auto_error=False)
Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class PlanBody(StrictBody):
    plan_yaml: str = Field(max_length=MAX_BODY_BYTES, description="The plan as YAML text.")
    overrides: list[str] = Field(
        default_factory=list, max_length=100, description="KEY=VALUE overrides, as --set."
    )


class RunBody(PlanBody):
    paths: int | None = Field(None, ge=64, le=1_000_000, description="Override the paths.")
    months: int | None = Field(None, ge=1, le=600, description="Override the horizon.")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Override the seed.")


@dataclass
class Job:
    job_id: str
    plan: str
    paths: int
    status: Literal["queued", "running", "done", "failed", "cancelled"] = "queued"
    cancel: bool = False  # asked to stop: the run stops at its next chunk, nothing written
    done_paths: int = 0
    run_id: str | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def view(self) -> dict[str, Any]:
        """The job's state as the API answers it (read under its lock)."""
        with self.lock:
            return {
                "job_id": self.job_id,
                "plan": self.plan,
                "status": self.status,
                "progress": self.done_paths / self.paths if self.paths else 0.0,
                "done_paths": self.done_paths,
                "paths": self.paths,
                "run_id": self.run_id,
                "error": self.error,
            }


class RunProcess:
    """The server's one run process (spawned on the first run, kept for the next ones), with
    the progress counter and cancel flag it shares with the server."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.progress = self.ctx.Value("q", 0)
        self.cancel = self.ctx.Value("b", 0)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def pool(self) -> ProcessPoolExecutor:
        """The one-worker process pool of the runs, started on first use."""
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=self.ctx,
                    initializer=runner.child_init,
                    initargs=(self.progress, self.cancel),
                )
            return self._pool

    def reset(self) -> None:
        """Drop the pool without waiting (after a crash or a cancel); the next run starts a new
        one."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def shutdown(self) -> None:
        """Stop the pool, waiting for its worker to exit."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _config_errors(exc: ConfigError, where: str) -> list[dict[str, Any]]:
    """ConfigError problems as FastAPI-style 422 details: ``loc`` is the field path under
    ``where``; a problem not about one field (malformed YAML, a rule over several fields) is
    located at ``where`` itself."""
    out = []
    for line, loc in zip(exc.messages, exc.locs, strict=True):
        msg = line.removeprefix(loc_path(loc) + ": ") if loc else line
        out.append({"loc": ["body", where, *map(str, loc)], "msg": msg})
    return out


def _run_summary(con: Any, run_id: str) -> dict[str, Any]:
    try:
        return store.get_run(con, run_id)
    except InputError:
        raise ApiError(404, f"run_id {run_id!r} is not a stored run") from None


def create_app(
    db: Path,
    token: str,
    *,
    out: Path | None = None,
    open_reads: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_memory_bytes: int | None = None,
    allowed_hosts: list[str] | None = None,
) -> FastAPI:
    """The API and the dashboard on one app.

    Parameters
    ----------
    db : pathlib.Path
        The run store's file (the ledger and reports live beside it).
    token : str
        Bearer token guarding write routes, and read routes too unless ``open_reads``.
    out : pathlib.Path or None
        Folder of the HTML reports; ``None``: ``out/`` beside the store.
    open_reads : bool
        Serve read routes without the token (for a loopback server).
    max_body_bytes : int
        Largest request body accepted [byte].
    max_memory_bytes : int or None
        Memory budget of one run [byte]; ``None`` for the default.
    allowed_hosts : list of str or None
        ``Host`` headers accepted; ``None``: the loopback names only.

    Returns
    -------
    fastapi.FastAPI
        The application, ready for uvicorn.
    """
    db = Path(db)
    out = Path(out) if out is not None else db.parent / "out"
    ledger_path = audit.default_ledger_path(db)
    jobs: dict[str, Job] = {}
    jobs_lock = threading.Lock()
    shared = RunProcess()
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hashpivot-run")
    app = FastAPI(
        title="hashpivot",
        version=__version__,
        description="Mine bitcoin, host AI, or sell the power back: the planner's API.",
        default_response_class=SafeJSONResponse,
        docs_url=None,  # served below from packaged assets: no CDN, so /docs works offline
        redoc_url=None,
    )
    app.state.jobs, app.state.worker, app.state.run_process = jobs, worker, shared
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="hashpivot API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )

    def _valid(given: str) -> bool:
        return bool(given) and secrets.compare_digest(given.encode(), token.encode())

    def _check(creds: HTTPAuthorizationCredentials | None, request: Request) -> None:
        # The bearer header (scripts, the dashboard's token box) or the login cookie (a browser
        # off loopback, where pages cannot send a header).
        given = creds.credentials if creds is not None else request.cookies.get(COOKIE, "")
        if not _valid(given):
            raise ApiError(
                401,
                "a valid bearer token is required (Authorization: Bearer …, or log in at /login)",
            )

    def writer(request: Request, creds: Creds) -> None:
        _check(creds, request)

    def reader(request: Request, creds: Creds) -> None:
        if not open_reads:
            _check(creds, request)

    hosts = list(allowed_hosts) if allowed_hosts is not None else list(LOOPBACK_HOSTS)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        # DNS rebinding: a page on another origin whose name resolves to 127.0.0.1 sends its own
        # Host; only the names this server is reached by are served.
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if name.lower() not in hosts:
            return SafeJSONResponse(
                {"detail": f"host {name[:100]!r} is not allowed; allowed: {', '.join(hosts)}"},
                status_code=421,
            )
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/login", include_in_schema=False, response_class=HTMLResponse)
    def login_page() -> HTMLResponse:
        return HTMLResponse(LOGIN_PAGE)

    @app.post("/api/login", tags=["meta"], status_code=303)
    async def login(request: Request) -> Response:
        """Exchange the token for a cookie (HttpOnly, SameSite=Strict) so a browser can use the
        dashboard where reads need the token; form or JSON ``{"token": …}``."""
        raw = await request.body()
        given = ""
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                given = str(json.loads(raw or b"{}").get("token", ""))
            except (ValueError, AttributeError):
                given = ""
        else:
            given = (parse_qs(raw.decode("utf-8", "replace")).get("token") or [""])[0]
        if not _valid(given.strip()):
            raise ApiError(
                401, "token is not allowed; allowed: the token `hashpivot serve` printed"
            )
        response = SafeJSONResponse(
            {"detail": "logged in"}, status_code=303, headers={"Location": "/"}
        )
        response.set_cookie(COOKIE, given.strip(), httponly=True, samesite="strict", path="/")
        return response

    @app.post("/api/logout", tags=["meta"], status_code=303)
    def logout() -> Response:
        response = SafeJSONResponse(
            {"detail": "logged out"}, status_code=303, headers={"Location": "/login"}
        )
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            return SafeJSONResponse(
                {"detail": f"body of {length} bytes is not allowed; allowed: ≤ {max_body_bytes}"},
                status_code=413,
            )
        if length is None and "transfer-encoding" in request.headers:
            return SafeJSONResponse(
                {"detail": "a chunked body is not allowed; allowed: a body with Content-Length"},
                status_code=411,
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _request_error(_: Request, exc: RequestValidationError) -> SafeJSONResponse:
        # Field paths and messages only: never the input back (it may be huge, NaN, or hold a
        # lone surrogate that cannot be encoded), and at most MAX_ERRORS of them.
        errors = list(exc.errors())
        detail = [
            {
                "loc": [str(x)[:100] for x in e.get("loc", ())],
                "msg": str(e.get("msg", "invalid"))[:300],
                "type": str(e.get("type", ""))[:60],
            }
            for e in errors[:MAX_ERRORS]
        ]
        if len(errors) > MAX_ERRORS:
            detail.append({"loc": ["body"], "msg": f"… and {len(errors) - MAX_ERRORS} more"})
        return SafeJSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401 and not request.url.path.startswith("/api/"):
            return Response(status_code=303, headers={"Location": "/login"})  # a page: log in
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    @app.exception_handler(ConfigError)
    async def _config_error(_: Request, exc: ConfigError) -> SafeJSONResponse:
        where = "overrides" if exc.source == "--set" else exc.source
        if where not in ("overrides", "plan_yaml", "campaign_yaml", "site_yaml"):
            where = "plan_yaml"
        return SafeJSONResponse({"detail": _config_errors(exc, where)}, status_code=422)

    @app.exception_handler(HashpivotError)
    async def _user_error(_: Request, exc: HashpivotError) -> SafeJSONResponse:
        return SafeJSONResponse({"detail": str(exc)}, status_code=400)

    # ----------------------------------------------------------------------- network
    @app.get("/api/health", tags=["meta"], response_model=answers.Health)
    def health() -> dict[str, Any]:
        first, last = history.date_range()
        return {"ok": True, "version": __version__, "data": [str(first), str(last)]}

    @app.get(
        "/api/network",
        tags=["network"],
        dependencies=[Depends(reader)],
        response_model=history.NetworkState,  # the dataclass itself: one list of fields
    )
    def network_state(
        date: str | None = Query(None, max_length=10, description="UTC day, YYYY-MM-DD."),
    ) -> dict[str, Any]:
        """Network state and hashprice on a day (default: the last day of the data)."""
        return history.network_state(date).to_dict()

    @app.get(
        "/api/network/history",
        tags=["network"],
        dependencies=[Depends(reader)],
        response_model=answers.NetworkHistory,
    )
    def network_history(
        start: str | None = Query(None, max_length=10),
        end: str | None = Query(None, max_length=10),
        every: int = Query(1, ge=1, le=365, description="Keep every n-th day."),
    ) -> dict[str, Any]:
        """Daily hashprice, difficulty and price, and the halvings, for charts."""
        df = history.hashprice_history(start, end).iloc[::every]
        return {
            "date": [d.date().isoformat() for d in df.index],
            **{c: df[c].tolist() for c in df.columns},
            "halvings": [h.__dict__ for h in history.halvings()],
        }

    @app.post(
        "/api/cost",
        tags=["sites"],
        dependencies=[Depends(reader)],
        response_model=answers.CostAnswer,
    )
    def cost(body: config.SiteFile) -> dict[str, Any]:
        """A site's cost to mine one BTC (energy, cash, all-in) and its breakevens."""
        econ = site_economics(body.site.to_site(), body.market.to_market())
        return {"site": body.site.name, "market": body.market.describe()} | econ.summary()

    # ----------------------------------------------------------------------- plans and runs
    @app.post(
        "/api/plans/validate",
        tags=["plans"],
        dependencies=[Depends(reader)],
        response_model=answers.PlanValidation,
    )
    def validate_plan(body: PlanBody) -> dict[str, Any]:
        """Validate a plan; 422 with field paths when it is invalid."""
        cfg, _ = config.load_plan_text(body.plan_yaml, "plan_yaml", body.overrides)
        return {
            "valid": True,
            "name": cfg.name,
            "sites": len(cfg.sites),
            "paths": cfg.paths,
            "months": cfg.horizon_months,
        }

    @app.post(
        "/api/runs",
        tags=["plans"],
        status_code=202,
        dependencies=[Depends(writer)],
        response_model=answers.JobView,
    )
    def start_run(body: RunBody) -> dict[str, Any]:
        """Start a plan run as a background job; poll ``/api/jobs/{job_id}``."""
        cfg, plan_yaml = config.load_plan_text(
            body.plan_yaml,
            "plan_yaml",
            list(body.overrides),
            paths=body.paths,
            horizon_months=body.months,
            seed=body.seed,
        )
        # Limits on what was loaded, not only on the body's fields: overrides and the YAML
        # itself can set paths too.
        if cfg.paths > MAX_API_PATHS:
            raise ApiError(
                422,
                [
                    {
                        "loc": ["body", "plan_yaml", "paths"],
                        "msg": f"{cfg.paths:,} paths is not allowed; allowed: at most "
                        f"{MAX_API_PATHS:,} through the API",
                    }
                ],
            )
        try:
            plan_module.check_memory(cfg, budget_bytes=max_memory_bytes, how_to_raise="the CLI")
        except InputError as exc:
            raise ApiError(
                422, [{"loc": ["body", "plan_yaml", "paths"], "msg": exc.allowed}]
            ) from None
        with jobs_lock:
            pending = sum(1 for j in jobs.values() if j.status in ("queued", "running"))
            if pending >= MAX_PENDING_JOBS:
                raise ApiError(
                    429,
                    f"{pending} runs are queued or running; allowed: at most {MAX_PENDING_JOBS} "
                    "(wait for one to finish, or cancel one with DELETE /api/jobs/{job_id})",
                )
            job = Job(uuid.uuid4().hex[:12], cfg.name, cfg.paths)
            jobs[job.job_id] = job

        def work() -> None:
            from concurrent.futures import TimeoutError as FutureTimeout
            from concurrent.futures.process import BrokenProcessPool

            with job.lock:
                if job.cancel:
                    job.status = "cancelled"
                    return
                job.status = "running"
            try:
                ledger_path = runner.check_run(cfg, db=db, max_memory_bytes=max_memory_bytes)
                run_id = store.new_run_id()
                shared.progress.value = 0
                shared.cancel.value = 0
                future = shared.pool().submit(runner.child_simulate, plan_yaml, str(out), run_id)
                while True:
                    try:
                        status, payload = future.result(timeout=0.1)
                        break
                    except FutureTimeout:
                        with job.lock:
                            job.done_paths = shared.progress.value
                            if job.cancel:
                                shared.cancel.value = 1
                if status == "cancelled":
                    with job.lock:
                        job.status = "cancelled"
                    return
                if status == "failed":
                    with job.lock:
                        job.status, job.error = "failed", payload
                    return
                result = runner.record(payload, plan_yaml, db=db, ledger_path=ledger_path)
                with job.lock:
                    job.status, job.run_id, job.done_paths = "done", result.run_id, job.paths
            except HashpivotError as exc:
                with job.lock:
                    job.status, job.error = "failed", str(exc)
            except BrokenProcessPool:  # the run process died (killed, out of memory)
                shared.reset()
                with job.lock:
                    job.status, job.error = "failed", "the run process died (see the server's log)"
            except Exception:  # a bug: keep the server up; details go to the server's log only
                traceback.print_exc()
                with job.lock:
                    job.status, job.error = "failed", "internal error (see the server's log)"

        worker.submit(work)
        return job.view()

    @app.get(
        "/api/jobs",
        tags=["plans"],
        dependencies=[Depends(reader)],
        response_model=list[answers.JobView],
    )
    def list_jobs() -> list[dict[str, Any]]:
        return [j.view() for j in jobs.values()]

    @app.delete(
        "/api/jobs/{job_id}",
        tags=["plans"],
        dependencies=[Depends(writer)],
        response_model=answers.JobView,
    )
    def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job: it stops at its next chunk and writes nothing."""
        if job_id not in jobs:
            raise ApiError(404, f"job_id {job_id!r} is not a job of this server")
        job = jobs[job_id]
        with job.lock:
            if job.status in ("queued", "running"):
                job.cancel = True
                if job.status == "queued":
                    job.status = "cancelled"
        return job.view()

    @app.get(
        "/api/jobs/{job_id}",
        tags=["plans"],
        dependencies=[Depends(reader)],
        response_model=answers.JobView,
    )
    def job_status(job_id: str) -> dict[str, Any]:
        """Status and progress of a run job."""
        if job_id not in jobs:
            raise ApiError(404, f"job_id {job_id!r} is not a job of this server")
        return jobs[job_id].view()

    @app.get(
        "/api/runs",
        tags=["runs"],
        dependencies=[Depends(reader)],
        response_model=list[answers.RunListItem],
    )
    def list_runs() -> list[dict[str, Any]]:
        with store.connect(db) as con:
            return store.list_runs(con)

    @app.get(
        "/api/runs/{run_id}",
        tags=["runs"],
        dependencies=[Depends(reader)],
        response_model=answers.RunDetail,
    )
    def get_run(run_id: str) -> dict[str, Any]:
        """A stored run: metadata and summary (and its decision, formatted)."""
        with store.connect(db) as con:
            run = _run_summary(con, run_id)
        d = run["summary"].get("decision")
        if d is not None:  # one formatter for the CLI, the report and the dashboard
            run["decision_table"] = {
                "columns": list(DECISION_COLUMNS),
                "rows": decision_site_rows(d, run["summary"]["start"]),
                "portfolio": portfolio_rows(d),
            }
        return run

    @app.get(
        "/api/runs/{run_id}/series",
        tags=["runs"],
        dependencies=[Depends(reader)],
        response_model=answers.RunSeries,
    )
    def run_series(run_id: str) -> dict[str, Any]:
        """Monthly fans (P5–P95 and mean) and P(cash < 0) of a stored run."""
        with store.connect(db) as con:
            run = _run_summary(con, run_id)
            series = store.stored_series(con, run_id)
            npv = store.stored_npv(con, run_id)
        n = int(npv.size)
        sampled = n > MAX_SERIES_NPVS
        if sampled:  # equal-mass points: the distribution's shape, in bounded size
            q = (np.arange(MAX_SERIES_NPVS) + 0.5) / MAX_SERIES_NPVS
            npv = np.quantile(np.asarray(npv, dtype=np.float64), q)
        return {
            "run_id": run_id,
            "months": run["months"],
            "series": series,
            "npv_usd": npv.tolist(),
            "npv_paths": n,
            "npv_usd_is_quantiles": sampled,
        }

    @app.get(
        "/api/runs/{run_id}/report",
        tags=["runs"],
        response_class=HTMLResponse,
        dependencies=[Depends(reader)],
    )
    def run_report(run_id: str) -> HTMLResponse:
        """The run's self-contained HTML report."""
        with store.connect(db) as con:
            run = _run_summary(con, run_id)
        path = Path(run["report_path"] or "")
        if not path.is_file():
            raise ApiError(404, f"the report of run {run_id!r} is no longer at {str(path)!r}")
        return HTMLResponse(path.read_text(encoding="utf-8"))

    @app.get(
        "/api/runs/{run_id}/verify",
        tags=["ledger"],
        dependencies=[Depends(reader)],
        response_model=answers.Verification,
    )
    def verify_run(run_id: str) -> dict[str, Any]:
        """Prove a stored run unaltered since the ledger logged it."""
        with store.connect(db) as con:
            _run_summary(con, run_id)
            v = audit.verify_run(con, run_id, ledger_path)
        return {
            "run_id": run_id,
            "ok": v.ok,
            "ledger_index": v.ledger_index,
            "head": v.head,
            "checks": [{"check": c, "ok": ok, "value": val} for c, ok, val in v.checks],
        }

    @app.get(
        "/api/sweeps",
        tags=["sweeps"],
        dependencies=[Depends(reader)],
        response_model=list[answers.SweepListItem],
    )
    def list_sweeps(everything: bool = False) -> list[dict[str, Any]]:
        """Stored sweeps, oldest first (``everything``: also those still running)."""
        with store.connect(db) as con:
            return store.list_sweeps(con, everything)

    @app.get(
        "/api/sweeps/{sweep_id}",
        tags=["sweeps"],
        dependencies=[Depends(reader)],
        response_model=answers.SweepDetail,
    )
    def get_sweep(sweep_id: str) -> dict[str, Any]:
        """A stored sweep: its variants, a heat map per pair of varied keys and its tornado."""
        with store.connect(db) as con:
            try:
                return sweeps.stored_sweep(con, sweep_id)
            except InputError as exc:
                raise ApiError(404, str(exc)) from None

    @app.get(
        "/api/ledger/head",
        tags=["ledger"],
        dependencies=[Depends(reader)],
        response_model=answers.LedgerHead,
    )
    def ledger_head() -> dict[str, Any]:
        """The audit ledger's latest signed head (404 before the first run)."""
        if not ledger_path.exists():
            raise ApiError(404, "no ledger yet: it is created by the first run")
        lg = ledger.Ledger(ledger_path, read_only=True)
        try:
            return {"ledger": str(ledger_path)} | lg.head().to_dict()
        finally:
            lg.close()

    add_tool_routes(app, reader)
    add_pages(app, reader)
    return app
