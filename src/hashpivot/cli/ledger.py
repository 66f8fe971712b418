"""``hashpivot ledger …``: the tamper-evident log's commands (registered on the main app)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..errors import InputError, present
from ..files import write_atomic
from ..fmt import jsonable
from ..locations import DEFAULT_LEDGER, key_path
from .common import JsonFlag, print_json

console = Console()

# --------------------------------------------------------------------------- ledger
ledger_app = typer.Typer(
    help="Tamper-evident log: RFC 6962 Merkle tree, proofs, signed heads.", no_args_is_help=True
)
KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", help="Ed25519 signing key (default: the ledger file + .key)."),
]
LedgerDb = Annotated[
    Path,
    typer.Option(
        "--db", help=f"Ledger file (SQLite; default: {DEFAULT_LEDGER}, where plan runs are logged)."
    ),
]


def _key_path(db: Path, key: Path | None) -> Path:
    return key if key is not None else key_path(db)


def _write_or_print(obj: Any, out: Path | None) -> None:
    if out is None:
        print_json(obj)
    else:
        write_atomic(out, json.dumps(jsonable(obj), indent=2) + "\n")
        console.print(f"written: {out}")


@ledger_app.command("init")
def ledger_init(
    db: LedgerDb = DEFAULT_LEDGER, key: KeyOpt = None, as_json: JsonFlag = False
) -> None:
    """Create a ledger and its Ed25519 signing key; sign the empty tree."""
    from ..ledger import log as ledger

    if db.exists():
        raise InputError("--db", str(db), "a path where no ledger exists yet")
    kp = _key_path(db, key)
    ledger.generate_key(kp)
    lg = ledger.Ledger(db, create=True)
    head = lg.sign_head(ledger.load_key(kp))
    lg.close()
    out = {"db": str(db), "key": str(kp)} | head.to_dict()
    if as_json:
        print_json(out)
    else:
        console.print(f"ledger {db} created; key {kp} (keep it private)")
        console.print(f"public key {head.public_key.hex()}")


@ledger_app.command("append")
def ledger_append(
    hex_data: Annotated[str | None, typer.Option("--hex", help="Raw leaf bytes, in hex.")] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Typed record JSON: {type, fields, private}.")
    ] = None,
    db: LedgerDb = DEFAULT_LEDGER,
    key: KeyOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Append a raw leaf (--hex) or a typed record (--record) and sign the new head."""
    from ..ledger import log as ledger

    if (hex_data is None) == (record is None):
        raise InputError("--hex/--record", None, "exactly one of --hex or --record")
    secrets = None
    if hex_data is not None:
        items, kinds = [ledger.unhex("--hex", hex_data)], ["raw"]
    else:
        data, secret = _read_record(present(record, "--record"))
        parsed = present(ledger.parse_record(data), "--record", "a typed record")
        items, kinds, secrets = [data], [parsed["type"]], {0: secret}
    signing_key = ledger.load_key(_key_path(db, key))
    lg = ledger.Ledger(db)
    if lg.size:  # refuse a wrong key before writing anything
        if ledger.public_key_bytes(signing_key) != lg.public_key():
            raise InputError(
                "--key", str(_key_path(db, key)), "the key this ledger was created with"
            )
    index = lg.append(items, kinds, secrets)
    head = lg.sign_head(signing_key)
    lg.close()
    out = {"index": index} | head.to_dict()
    if as_json:
        print_json(out)
    else:
        console.print(f"appended entry {index}; tree size {head.size}, root {head.root.hex()}")


def _read_record(path: Path) -> tuple[bytes, dict[str, tuple[bytes, Any]]]:
    from ..ledger import log as ledger

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("--record", str(path), "an existing JSON file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("--record", f"byte {exc.start}", "a UTF-8 encoded JSON file") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("--record", f"line {exc.lineno} col {exc.colno}", "valid JSON") from None
    if not isinstance(obj, dict) or set(obj) - {"type", "fields", "private"}:
        raise InputError(
            "--record",
            sorted(obj) if isinstance(obj, dict) else obj,
            "a map with keys type, fields and optional private",
        )
    # make_record checks the type and the fields itself, naming what is wrong (record.type …)
    kind: Any = obj.get("type")
    fields: Any = obj.get("fields")
    return ledger.make_record(kind, fields, obj.get("private", []))


@ledger_app.command("head")
def ledger_head(
    db: LedgerDb = DEFAULT_LEDGER, key: KeyOpt = None, as_json: JsonFlag = False
) -> None:
    """The latest signed tree head (signing a new one if entries were added since)."""
    from ..ledger import log as ledger

    lg = ledger.Ledger(db)
    head = lg.head()
    if head.size != lg.size:
        head = lg.sign_head(ledger.load_key(_key_path(db, key)))
    lg.close()
    if as_json:
        print_json(head.to_dict())
    else:
        console.print(
            f"size {head.size}\nroot {head.root.hex()}\nsigned {head.timestamp_ms} "
            f"by {head.public_key.hex()}"
        )


@ledger_app.command("prove")
def ledger_prove(
    index: Annotated[
        int | None, typer.Option("--index", help="Inclusion proof of this entry.")
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size of the signed head.")
    ] = None,
    from_size: Annotated[
        int | None, typer.Option("--from", help="Consistency proof from this signed size.")
    ] = None,
    to_size: Annotated[int | None, typer.Option("--to", help="… to this signed size.")] = None,
    db: LedgerDb = DEFAULT_LEDGER,
    out: Annotated[Path | None, typer.Option("--out", help="Write the proof here.")] = None,
) -> None:
    """An inclusion (--index) or consistency (--from/--to) proof, with its signed heads."""
    from ..ledger import log as ledger

    if (index is None) == (from_size is None):
        raise InputError("--index/--from", None, "exactly one of --index or --from")
    lg = ledger.Ledger(db, read_only=True)
    bundle = (
        ledger.proof_bundle(lg, index, size)
        if index is not None
        else ledger.consistency_bundle(lg, present(from_size, "--from"), to_size)
    )
    lg.close()
    _write_or_print(bundle, out)


@ledger_app.command("verify")
def ledger_verify(
    db: LedgerDb = DEFAULT_LEDGER,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The operator's key (64 hex) as you know it: a ledger re-signed with another "
            "key fails.",
        ),
    ] = None,
    trusted_head: Annotated[
        str | None,
        typer.Option(
            "--trusted-head",
            help="SIZE:ROOT of a head you saw before (e.g. from `ledger head --json`): a ledger "
            "rolled back or rewritten since fails.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Audit the whole ledger, read-only: recompute the tree from the entries and check every
    node, signed head, label and private value; report an unsigned tail."""
    from ..ledger import log as ledger

    pub = ledger.unhex("--public-key", public_key, 32) if public_key is not None else None
    trusted = None
    if trusted_head is not None:
        size_text, sep, root_hex = trusted_head.partition(":")
        if not sep or not size_text.isdigit():
            raise InputError("--trusted-head", trusted_head, "SIZE:ROOT, e.g. 12:ab…(64 hex)")
        trusted = (int(size_text), ledger.unhex("--trusted-head", root_hex, 32))
    lg = ledger.Ledger(db, read_only=True)
    problems = lg.audit(pub, trusted, require_signed=True)
    size = lg.size
    lg.close()
    if as_json:
        print_json({"size": size, "ok": not problems, "problems": problems})
    elif problems:
        for p in problems:
            sys.stderr.write(f"hashpivot: ledger problem: {p}\n")
    else:
        console.print(f"ledger intact: {size} entries, every node and signed head checks")
    if problems:
        raise typer.Exit(1)


@ledger_app.command("verify-proof")
def ledger_verify_proof(
    proof: Annotated[Path, typer.Option("--proof", help="Proof JSON from `ledger prove`.")],
    public_key: Annotated[str, typer.Option("--public-key", help="Operator's key, 64 hex.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a proof offline with only the public key: no database needed."""
    from ..ledger import log as ledger

    try:
        bundle = json.loads(proof.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("--proof", str(proof), "an existing proof file") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            "--proof", str(proof), "a JSON proof from `hashpivot ledger prove`"
        ) from None
    ok, reason = ledger.verify_bundle(bundle, ledger.unhex("--public-key", public_key, 32))
    if as_json:
        print_json({"valid": ok, "reason": reason})
    else:
        console.print(("VALID: " if ok else "INVALID: ") + reason)
    if not ok:
        raise typer.Exit(1)


@ledger_app.command("export")
def ledger_export(
    db: LedgerDb = DEFAULT_LEDGER,
    out: Annotated[Path | None, typer.Option("--out", help="Write JSON lines here.")] = None,
) -> None:
    """Every entry as a JSON line: index, kind, leaf hash, bytes (hex) and the record."""
    from ..ledger import log as ledger

    lg = ledger.Ledger(db, read_only=True)
    lines = []
    for i in range(lg.size):
        data, kind = lg.entry(i)
        lines.append(
            json.dumps(
                {
                    "index": i,
                    "kind": kind,
                    "leaf_hash_hex": ledger.leaf_hash(data).hex(),
                    "entry_hex": data.hex(),
                    "record": ledger.parse_record(data),
                },
                ensure_ascii=False,
            )
        )
    lg.close()
    text = "\n".join(lines) + ("\n" if lines else "")
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
