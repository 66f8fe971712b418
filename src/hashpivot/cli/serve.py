"""``hashpivot serve``: the web API and dashboard (registered on the main app)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..locations import DEFAULT_DB


def token_path(db: Path) -> Path:
    """The API token's file beside the run store: ``<db>.token``.

    Parameters
    ----------
    db : pathlib.Path
        The run store's file.

    Returns
    -------
    pathlib.Path
        The token file.
    """
    return db.with_name(db.name + ".token")


def resolve_token(db: Path) -> tuple[str, bool]:
    """``HASHPIVOT_TOKEN`` if set; else the token file beside the store, created on first start.

    The file is created with mode 0600.

    Parameters
    ----------
    db : pathlib.Path
        The run store's file.

    Returns
    -------
    tuple of (str, bool)
        The token and whether it was just created (to print it once).

    Raises
    ------
    InputError
        An empty token file.
    """
    env = os.environ.get("HASHPIVOT_TOKEN", "").strip()
    if env:
        return env, False
    path = token_path(db)
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise InputError("token file", str(path), "a non-empty token (delete it to renew)")
        return text, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token, True


def is_loopback(host: str) -> bool:
    """Is ``host`` a loopback address (or ``localhost``)?

    Parameters
    ----------
    host : str
        A host name or IP address.

    Returns
    -------
    bool
        ``True`` for ``localhost``, 127.0.0.0/8 and ::1.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    db: Annotated[Path, typer.Option("--db", help="DuckDB run store.")] = Path(DEFAULT_DB),
    out: Annotated[Path, typer.Option("--out", help="Folder for run reports.")] = Path("out"),
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="A host name browsers use to reach this server (repeatable; the loopback names "
            "and --host are always allowed). Others get 421 (against DNS rebinding).",
        ),
    ] = None,
) -> None:
    """Serve the web API (OpenAPI at /openapi.json) and the dashboard. Starting runs needs the
    bearer token; reads are open on loopback only."""
    import uvicorn

    from ..api.app import create_app
    from ..runs import store

    store.connect(db).close()  # a bad store fails now, not on the first request
    token, created = resolve_token(db)
    if created:
        typer.echo(f"API token (shown once; stored in {token_path(db)}): {token}")
    open_reads = is_loopback(host)
    if not open_reads:
        typer.echo(f"listening on {host}: every route needs the bearer token")
    from ..api.app import LOOPBACK_HOSTS

    hosts = list(LOOPBACK_HOSTS) + ([] if open_reads else [host.lower()])
    hosts += [h.lower() for h in allow_host or []]
    app = create_app(db, token, out=out, open_reads=open_reads, allowed_hosts=hosts)
    uvicorn.run(app, host=host, port=port, log_level="warning")
