"""The dashboard: server-rendered pages (Jinja2) with a small vanilla-JS front end calling the
API, and Plotly served from the installed package (nothing from the internet)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

PAGES = {
    "/": ("network.html", "Network"),
    "/plan": ("plan.html", "Plan"),
    "/runs": ("runs.html", "Runs"),
    "/compare": ("compare.html", "Compare"),
    "/sweeps": ("sweeps.html", "Sweeps"),
    "/buildout": ("buildout.html", "Build-out"),
    "/dispatch": ("dispatch.html", "Dispatch"),
    "/ledger": ("ledger.html", "Ledger"),
}


def _env() -> jinja2.Environment:
    root = resources.files("hashpivot.api") / "templates" / "web"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def add_pages(app: FastAPI, reader: Any) -> None:
    """Register the dashboard's pages and static files on ``app``.

    Parameters
    ----------
    app : fastapi.FastAPI
        The application.
    reader : callable
        The dependency that guards read routes (checks the token unless reads are open).
    """
    env = _env()
    nav = [(path, title) for path, (_, title) in PAGES.items()]

    def page(template: str, title: str, **extra: Any) -> HTMLResponse:
        html = env.get_template(template).render(title=title, nav=nav, **extra)
        return HTMLResponse(html)

    for path, (template, title) in PAGES.items():

        def handler(template: str = template, title: str = title) -> HTMLResponse:
            return page(template, title)

        app.add_api_route(
            path,
            handler,
            methods=["GET"],
            include_in_schema=False,
            dependencies=[Depends(reader)],
            response_class=HTMLResponse,
        )

    @app.get("/runs/{run_id}", include_in_schema=False, dependencies=[Depends(reader)])
    def run_page(run_id: str) -> HTMLResponse:
        return page("run.html", f"Run {run_id}", run_id=run_id, job_id="")

    @app.get("/sweeps/{sweep_id}", include_in_schema=False, dependencies=[Depends(reader)])
    def sweep_page(sweep_id: str) -> HTMLResponse:
        return page("sweep.html", f"Sweep {sweep_id}", sweep_id=sweep_id)

    @app.get("/jobs/{job_id}", include_in_schema=False, dependencies=[Depends(reader)])
    def job_page(job_id: str) -> HTMLResponse:
        return page("run.html", f"Job {job_id}", run_id="", job_id=job_id)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    app_js_text = (resources.files("hashpivot.api") / "templates" / "web" / "app.js").read_text()

    @app.get("/static/app.js", include_in_schema=False)
    def app_js() -> Response:
        return Response(app_js_text, media_type="text/javascript")
