"""A tamper-evident, append-only log: an RFC 6962 Merkle tree with proofs and signed tree heads.

* Hashing is RFC 6962 / RFC 9162 SHA-256: a leaf is ``SHA-256(0x00 ‖ data)``, a node
  ``SHA-256(0x01 ‖ left ‖ right)``, the empty tree ``SHA-256()``; a tree of ``n > 1`` leaves
  splits at ``k``, the largest power of two below ``n``.
* Storage is SQLite in WAL mode with ``synchronous=FULL``, chosen over DuckDB because the log is a
  stream of small, durable, transactional appends, which is SQLite's home ground; DuckDB is a
  columnar engine built for analytical scans. An append batch is one transaction, all or nothing;
  after a ``kill -9`` the database reopens at its last committed batch.
* Every perfect subtree node is stored once it exists (it never changes). Nodes are packed 256 to
  a row per level (8 KiB chunks), so an append writes about one row per batch rather than two per
  leaf, and any root or proof over millions of entries costs O(log n) chunk reads, never a rebuild.
* Tree heads are signed with Ed25519 (``cryptography``). A signed head binds size, root and time.
  :func:`verify_bundle` checks a proof with nothing but the public key, the signed head and the
  proof: no database.
* Typed records (spending, energy, BTC mined, contracts, plan runs) are canonical JSON. A field
  marked private is stored in the leaf as a salted commitment, ``SHA-256("hashpivot-commit-v1" ‖
  salt ‖ value)``. Its owner can later reveal value and salt for one field without exposing
  the others.

References
----------
.. [1] B. Laurie, A. Langley, E. Kasper, *Certificate Transparency*, RFC 6962 (2013), §2.1.
.. [2] B. Laurie, E. Messeri, R. Stradling, *Certificate Transparency Version 2.0*, RFC 9162
   (2021), §2.1.3–2.1.4 (proof verification algorithms).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import HashpivotError, InputError, present

if TYPE_CHECKING:  # cryptography loads only when a key is used (the ledger reads without it)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from . import sha256_batch
from .merkle import (
    EMPTY_ROOT,
    HASH,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

_sha = hashlib.sha256
CHUNK = 256  # node hashes per stored row
RECORD_TYPES = ("spending", "energy", "btc_mined", "contract", "plan_run")
_RECORD_PREFIX = b"hashpivot-record-v1\n"
_COMMIT_PREFIX = b"hashpivot-commit-v1"
_STH_PREFIX = b"hashpivot-sth-v1"


class LedgerError(HashpivotError):
    """The ledger's storage is inconsistent or cannot be used."""


def _sqlite_problem(exc: sqlite3.Error, path: Path) -> str:
    """What an SQLite error means for the user: a full disk or a read-only medium said as such."""
    text = str(exc)
    try:
        st = os.statvfs(path.parent if str(path.parent) else ".")
        full = st.f_bavail * st.f_frsize < 1 << 20
    except OSError:
        full = False
    if "full" in text.lower() or (full and ("I/O" in text or "disk" in text.lower())):
        return f"cannot write the ledger: No space left on device ({text})"
    if "readonly" in text.lower() or "read-only" in text.lower():
        return f"cannot write the ledger: read-only ({text})"
    return f"not a usable ledger database ({text})"


# --------------------------------------------------------------------------- signed heads
@dataclass(frozen=True)
class SignedTreeHead:
    size: int
    root: bytes
    timestamp_ms: int
    signature: bytes
    public_key: bytes

    def message(self) -> bytes:
        """The bytes signed (:func:`sth_message`)."""
        return sth_message(self.size, self.root, self.timestamp_ms)

    def to_dict(self) -> dict[str, Any]:
        """The head as JSON-ready hex fields."""
        return {
            "size": self.size,
            "root_hex": self.root.hex(),
            "timestamp_ms": self.timestamp_ms,
            "signature_hex": self.signature.hex(),
            "public_key_hex": self.public_key.hex(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignedTreeHead:
        """A head from :meth:`to_dict`'s fields; a malformed one is an error naming the field."""
        try:
            return cls(
                int(d["size"]),
                unhex("root_hex", d["root_hex"], HASH),
                int(d["timestamp_ms"]),
                unhex("signature_hex", d["signature_hex"], 64),
                unhex("public_key_hex", d["public_key_hex"], 32),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                "head", str(exc), "size, root_hex, timestamp_ms, signature_hex, public_key_hex"
            ) from None


def sth_message(size: int, root: bytes, timestamp_ms: int) -> bytes:
    """The bytes a signed tree head signs: a domain prefix, the size and the time, then the root.

    Parameters
    ----------
    size : int
        Number of entries the head covers [-].
    root : bytes
        RFC 6962 Merkle root of those entries (32 bytes).
    timestamp_ms : int
        Signing time [ms since the Unix epoch].

    Returns
    -------
    bytes
        ``b"hashpivot-sth-v1" || size (8 bytes, big-endian) || timestamp_ms (8 bytes) || root``.
    """
    return _STH_PREFIX + size.to_bytes(8, "big") + timestamp_ms.to_bytes(8, "big") + root


def unhex(field: str, value: Any, length: int | None = None) -> bytes:
    """Decode a hex field of a bundle or head, with an error that names the field.

    Parameters
    ----------
    field : str
        The field's name, used in the error.
    value : Any
        The value read (expected: a string of hex digits).
    length : int or None
        Required length [byte]; ``None`` accepts any.

    Returns
    -------
    bytes
        The decoded bytes.

    Raises
    ------
    InputError
        Not a string, not hex, or of the wrong length.
    """
    if not isinstance(value, str):
        raise InputError(field, value, "a hex string")
    try:
        b = bytes.fromhex(value)
    except ValueError:
        raise InputError(field, value[:80], "hex digits only") from None
    if length is not None and len(b) != length:
        raise InputError(field, f"{len(b)} bytes", f"exactly {length} bytes ({2 * length} hex)")
    return b


def generate_key(path: str | Path) -> bytes:
    """Create an Ed25519 signing key at ``path`` (PEM, mode 0600).

    Parameters
    ----------
    path : str or pathlib.Path
        Where to write the private key; an existing file is never overwritten.

    Returns
    -------
    bytes
        The raw public key (32 bytes).

    References
    ----------
    .. [1] RFC 8032, *Edwards-Curve Digital Signature Algorithm (EdDSA)*, §5.1.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    p = Path(path)
    if p.exists():
        raise InputError("key", str(p), "a path where no key exists yet")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    p.parent.mkdir(parents=True, exist_ok=True)
    # Atomically: a full disk must not leave a 0-byte key behind (it would break every later
    # run). Written to a private temporary file, synced, then linked into place (fails if a key
    # appeared meanwhile).
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, p)
    except FileExistsError:
        raise InputError("key", str(p), "a path where no key exists yet") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_key(path: str | Path) -> Ed25519PrivateKey:
    """Load an Ed25519 private key (PEM).

    Parameters
    ----------
    path : str or pathlib.Path
        A PEM file written by :func:`generate_key` (or any unencrypted PKCS #8 Ed25519 key).

    Returns
    -------
    cryptography.hazmat.primitives.asymmetric.ed25519.Ed25519PrivateKey
        The key.

    Raises
    ------
    InputError
        The file is missing, not PEM, or not an Ed25519 key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("key", str(path), "an existing Ed25519 key file") from None
    except OSError as exc:
        raise InputError("key", str(path), f"a readable key file ({exc.strerror})") from None
    if not raw.strip():
        raise InputError("key", f"{path} (0 bytes)", "a PEM-encoded Ed25519 private key")
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except ValueError:
        raise InputError("key", str(path), "a PEM-encoded Ed25519 private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("key", str(path), "an Ed25519 key")
    return key


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a private key.

    Parameters
    ----------
    key : Ed25519PrivateKey
        A private key from :func:`load_key`.

    Returns
    -------
    bytes
        The public key in raw encoding (RFC 8032), 32 bytes.
    """
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_head(head: SignedTreeHead, public_key: bytes) -> bool:
    """Is ``head`` signed by ``public_key``?

    Parameters
    ----------
    head : SignedTreeHead
        A head, e.g. from :meth:`SignedTreeHead.from_dict`.
    public_key : bytes
        The operator's raw Ed25519 public key (32 bytes).

    Returns
    -------
    bool
        ``True`` when the signature over :func:`sth_message` verifies with ``public_key`` and
        the head names that key.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(public_key) != 32 or len(head.signature) != 64 or head.public_key != public_key:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(head.signature, head.message())
    except (InvalidSignature, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- records
def _check_utf8(path: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                path, value.encode("utf-8", "replace")[:60], "valid UTF-8 text"
            ) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_utf8(f"{path}.{k}", k)
            _check_utf8(f"{path}.{k}", v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_utf8(f"{path}[{i}]", v)
    elif value is not None and not isinstance(value, bool | int | float):
        raise InputError(path, type(value).__name__, "JSON values (text, numbers, lists, maps)")
    if isinstance(value, float) and value != value:
        raise InputError(path, value, "a finite number")
    return value


def canonical_json(value: Any) -> bytes:
    """The one byte encoding of a JSON value that records and commitments hash.

    Keys sorted, no whitespace, UTF-8 (no ASCII escapes), no NaN or infinities.

    Parameters
    ----------
    value : Any
        A JSON value (text, numbers, lists, maps, booleans, null).

    Returns
    -------
    bytes
        The encoding.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def commitment(salt: bytes, value: Any) -> str:
    """A salted hash commitment to a private field's value.

    Parameters
    ----------
    salt : bytes
        32 random bytes, kept in the private store.
    value : Any
        The field's JSON value.

    Returns
    -------
    str
        ``SHA-256(b"hashpivot-commit-v1" || salt || canonical_json(value))`` in hex.
    """
    return _sha(_COMMIT_PREFIX + salt + canonical_json(value)).hexdigest()


def make_record(
    kind: str, fields: dict[str, Any], private: Iterable[str] = ()
) -> tuple[bytes, dict[str, tuple[bytes, Any]]]:
    """Leaf bytes of a typed record and the secrets of its private fields.

    Private fields appear in the leaf only as commitments (:func:`commitment`).

    Parameters
    ----------
    kind : str
        Record type, one of :data:`RECORD_TYPES`.
    fields : dict
        Field names to JSON values (non-empty, valid UTF-8, finite numbers).
    private : iterable of str
        Names of the fields to commit to rather than publish.

    Returns
    -------
    tuple of (bytes, dict)
        The leaf bytes, and ``{field: (salt, value)}`` for each private field.

    Raises
    ------
    InputError
        Unknown ``kind``, empty or non-JSON ``fields``, or a private name not in ``fields``.
    """
    if kind not in RECORD_TYPES:
        raise InputError("record.type", kind, "one of: " + ", ".join(RECORD_TYPES))
    if not isinstance(fields, dict) or not fields:
        raise InputError("record.fields", fields, "a non-empty map of field names to values")
    _check_utf8("record.fields", fields)
    private = list(private)
    unknown = [p for p in private if p not in fields]
    if unknown:
        raise InputError("record.private", unknown, "names of fields in record.fields")
    secrets: dict[str, tuple[bytes, Any]] = {}
    shown: dict[str, Any] = {}
    for name, value in fields.items():
        if name in private:
            salt = os.urandom(32)
            secrets[name] = (salt, value)
            shown[name] = {"commitment": commitment(salt, value)}
        else:
            shown[name] = value
    return _RECORD_PREFIX + canonical_json({"type": kind, "fields": shown}), secrets


def parse_record(data: bytes) -> dict[str, Any] | None:
    """The record a leaf holds, or ``None`` for a raw leaf.

    Parameters
    ----------
    data : bytes
        A leaf's bytes.

    Returns
    -------
    dict or None
        ``{"type": ..., "fields": {...}}`` for a typed record.
    """
    if not data.startswith(_RECORD_PREFIX):
        return None
    return json.loads(data[len(_RECORD_PREFIX) :].decode("utf-8"))


def check_revealed(data: bytes, field: str, salt: bytes, value: Any) -> bool:
    """Does the leaf's commitment for ``field`` open to ``value`` with ``salt``?

    Parameters
    ----------
    data : bytes
        A leaf's bytes.
    field : str
        A private field of the record.
    salt : bytes
        The salt revealed for it.
    value : Any
        The value revealed for it.

    Returns
    -------
    bool
        ``True`` when :func:`commitment` of ``salt`` and ``value`` equals the leaf's.
    """
    rec = parse_record(data)
    if rec is None or field not in rec["fields"]:
        return False
    shown = rec["fields"][field]
    return isinstance(shown, dict) and shown.get("commitment") == commitment(salt, value)


# --------------------------------------------------------------------------- storage
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    first INTEGER PRIMARY KEY, count INTEGER NOT NULL, data BLOB NOT NULL,
    offsets BLOB NOT NULL, kinds TEXT NOT NULL
);
-- A rowid table: its 8 KiB rows are too large for WITHOUT ROWID (which ledgers from earlier
-- versions use; both serve the same queries).
CREATE TABLE IF NOT EXISTS chunks (
    level INTEGER NOT NULL, chunk INTEGER NOT NULL, hashes BLOB NOT NULL,
    PRIMARY KEY (level, chunk)
);
CREATE TABLE IF NOT EXISTS heads (
    size INTEGER PRIMARY KEY, root BLOB NOT NULL, timestamp_ms INTEGER NOT NULL,
    signature BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    idx INTEGER NOT NULL, field TEXT NOT NULL, salt BLOB NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (idx, field)
);
"""


_SECRETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS secrets (
    idx INTEGER NOT NULL, field TEXT NOT NULL, salt BLOB NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (idx, field)
);
"""


def secrets_path(ledger_path: str | Path) -> Path:
    """The private store beside a ledger (mode 0600).

    It holds the salts and values of private record fields, which the public ledger file holds
    only as commitments.

    Parameters
    ----------
    ledger_path : str or pathlib.Path
        The ledger's file.

    Returns
    -------
    pathlib.Path
        ``<ledger>.secrets`` in the same folder.
    """
    p = Path(ledger_path)
    return p.with_name(p.name + ".secrets")


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates nothing: ``mode=ro``, and on read-only media (where
    SQLite cannot create the WAL's shared-memory file) ``immutable=1``."""
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}"
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)


def _has_schema(con: sqlite3.Connection) -> bool:
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"meta", "batches", "chunks", "heads"} <= names


def derived_kind(data: bytes) -> str:
    """An entry's kind from its own bytes: a record's type, else ``raw``.

    The ``kinds`` stored beside the entries are a label for speed; audits hold them to this.

    Parameters
    ----------
    data : bytes
        A leaf's bytes.

    Returns
    -------
    str
        The record's ``type`` or ``"raw"``.
    """
    try:
        rec = parse_record(data)
    except (ValueError, UnicodeDecodeError):
        return "raw"
    return str(rec.get("type")) if isinstance(rec, dict) else "raw"


def root_from_levels(levels: list[list[bytes]], size: int) -> bytes:
    """The RFC 6962 root of the first ``size`` leaves from the node levels of a larger tree.

    ``levels[k][i]`` covers leaves ``[i·2^k, (i+1)·2^k)``: O(log n), no rehashing of leaves. The
    tree of ``size`` leaves is the perfect subtrees of its binary decomposition, left to right,
    folded from the right.

    Parameters
    ----------
    levels : list of list of bytes
        Node hashes by level, level 0 the leaf hashes.
    size : int
        Leaves covered by the root [-], at most ``len(levels[0])``.

    Returns
    -------
    bytes
        The 32-byte Merkle tree hash.

    References
    ----------
    .. [1] RFC 6962, *Certificate Transparency*, §2.1 (Merkle hash trees).
    """
    if size == 0:
        return hashlib.sha256().digest()
    parts = []
    start = 0
    for k in range(size.bit_length() - 1, -1, -1):
        if size >> k & 1:
            parts.append(levels[k][start >> k])
            start += 1 << k
    root = parts[-1]
    for left in reversed(parts[:-1]):
        root = node_hash(left, root)
    return root


class Ledger:
    """An append-only Merkle log in one SQLite file, with its private field values in a second,
    0600 file beside it (see the module docstring)."""

    def __init__(self, path: str | Path, create: bool = False, read_only: bool = False) -> None:
        """Open the ledger at ``path`` (``create``: a new one). ``read_only`` opens it for audits
        and proofs only: nothing is created or written, and it works on read-only media."""
        self.path = Path(path)
        self.read_only = read_only and not create
        if not create and not self.path.exists():
            raise InputError(
                "ledger_path", str(self.path), "an existing ledger (hashpivot ledger init)"
            )
        try:
            if self.read_only:
                self.con = _connect_read_only(self.path)
            else:
                self.con = sqlite3.connect(str(self.path), isolation_level=None)
            if not create and not _has_schema(self.con):
                self.con.close()
                raise LedgerError(
                    f"{self.path}: not a hashpivot ledger (no ledger tables; an empty or "
                    "foreign file)"
                )
            if not self.read_only:
                # New files get 64 KiB pages: a batch is one large blob (entries, offsets) plus
                # 8 KiB node chunks, which 4 KiB pages split into long overflow chains (about a
                # third of the write time). No effect on an existing file.
                self.con.execute("PRAGMA page_size=65536")
                self.con.execute("PRAGMA journal_mode=WAL")
                self.con.execute("PRAGMA synchronous=FULL")
                self.con.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: {_sqlite_problem(exc, self.path)}") from None
        self.secrets_path = secrets_path(self.path)
        self._secrets: sqlite3.Connection | None = None
        self._cache: dict[tuple[int, int], bytes] = {}
        self._load_tails()
        if not self.read_only:
            self._move_legacy_secrets()

    # -- state -------------------------------------------------------------------------
    def _load_tails(self) -> None:
        row = self.con.execute("SELECT value FROM meta WHERE key = 'size'").fetchone()
        self.size = int(row[0]) if row else 0
        self._tails: dict[int, bytearray] = {}
        level = 0
        while (self.size >> level) > 0:
            count = self.size >> level
            chunk = count // CHUNK
            n_tail = count % CHUNK
            if n_tail:
                blob = self._read_chunk(level, chunk, tail=True)
                if len(blob) != n_tail * HASH:
                    raise LedgerError(
                        f"{self.path}: level {level} tail holds {len(blob) // HASH}"
                        f" hashes, expected {n_tail}"
                    )
                self._tails[level] = bytearray(blob)
            else:
                self._tails[level] = bytearray()
            level += 1

    def _read_chunk(self, level: int, chunk: int, tail: bool = False) -> bytes:
        row = self.con.execute(
            "SELECT hashes FROM chunks WHERE level = ? AND chunk = ?", (level, chunk)
        ).fetchone()
        if row is None:
            raise LedgerError(f"{self.path}: node chunk ({level}, {chunk}) is missing")
        blob = bytes(row[0])
        if not tail and len(blob) != CHUNK * HASH:
            raise LedgerError(f"{self.path}: node chunk ({level}, {chunk}) is truncated")
        return blob

    def node(self, level: int, index: int) -> bytes:
        """The perfect subtree hash covering leaves ``[index·2^level, (index+1)·2^level)``."""
        count = self.size >> level
        if not 0 <= index < count:
            raise InputError(
                "node", (level, index), f"a complete subtree of the {self.size} leaves"
            )
        chunk, pos = divmod(index, CHUNK)
        blob: bytes | bytearray | None
        if chunk == count // CHUNK:  # the open chunk at the right edge, kept in memory
            blob = self._tails[level]
        else:
            key = (level, chunk)
            blob = self._cache.get(key)
            if blob is None:
                blob = self._read_chunk(level, chunk)
                if len(self._cache) > 8192:
                    self._cache.clear()
                self._cache[key] = blob
        return bytes(blob[pos * HASH : (pos + 1) * HASH])

    # -- appending ---------------------------------------------------------------------
    def append(
        self,
        items: Sequence[bytes],
        kinds: Sequence[str] | None = None,
        secrets: dict[int, dict[str, tuple[bytes, Any]]] | None = None,
    ) -> int:
        """Append leaves in one transaction (all or nothing); return the first new index.
        ``secrets`` maps batch positions to the salts and values of private record fields."""
        if not items:
            raise InputError("entries", 0, "at least one entry")
        if set(map(type, items)) != {bytes}:
            try:
                items = [bytes(x) for x in items]
            except TypeError:
                raise InputError("entries", "non-bytes", "bytes for every entry") from None
        kinds = list(kinds) if kinds is not None else ["raw"] * len(items)
        first = self.size
        new_size = first + len(items)
        full = CHUNK * HASH
        # New nodes, level by level: pair each level's new nodes (with the old unpaired one).
        # A level's nodes travel as their 32-byte digests concatenated, hashed in bulk.
        tails = dict(self._tails)
        writes: dict[tuple[int, int], bytes] = {}
        ends = np.fromiter(map(len, items), dtype=np.int64, count=len(items)).cumsum()
        offsets = np.concatenate([np.zeros(1, dtype=np.int64), ends])
        data = b"".join(items)
        level_nodes = sha256_batch.leaf_digests(items, data, offsets)
        start = first
        level = 0
        while level_nodes:
            # This level's chunks: the open one plus the new nodes; full chunks are written.
            buf = bytes(tails.get(level, b"")) + level_nodes
            chunk0 = start // CHUNK
            n_full = len(buf) // full
            for i in range(n_full):
                writes[(level, chunk0 + i)] = buf[i * full : (i + 1) * full]
            tails[level] = bytearray(buf[n_full * full :])
            # Parents: pairs (2j, 2j+1) whose right child is new.
            if start % 2:  # the old unpaired left node joins the first new one
                nodes = self._node_from(level, start - 1, writes) + level_nodes
                pstart = start - 1
            else:
                nodes, pstart = level_nodes, start
            level_nodes = sha256_batch.node_digests(nodes)
            start = pstart // 2
            level += 1
        for lvl, tail in tails.items():
            count = new_size >> lvl
            if count % CHUNK:
                writes[(lvl, count // CHUNK)] = bytes(tail)
        if self.read_only:
            raise LedgerError(f"{self.path}: opened read-only")
        if secrets:  # first, in the private file: an orphan secret harms nothing
            rows = [
                (first + pos, name, salt, json.dumps(value))
                for pos, fields in secrets.items()
                for name, (salt, value) in fields.items()
            ]
            sec = present(self._secret_store(create=True), "secrets_path")
            try:
                with sec:
                    sec.executemany("INSERT OR REPLACE INTO secrets VALUES (?, ?, ?, ?)", rows)
            except sqlite3.Error as exc:
                raise LedgerError(
                    f"{self.secrets_path}: {_sqlite_problem(exc, self.secrets_path)}"
                ) from None
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
                (first, len(items), data, offsets.astype(">u8").tobytes(), "\n".join(kinds)),
            )
            con.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?)"
                " ON CONFLICT (level, chunk) DO UPDATE SET hashes = excluded.hashes",
                [(lvl, ch, blob) for (lvl, ch), blob in writes.items()],
            )
            con.execute("INSERT OR REPLACE INTO meta VALUES ('size', ?)", (new_size,))
            con.execute("COMMIT")
        except BaseException as exc:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # a failed COMMIT (a full disk) has ended the transaction already
            if isinstance(exc, sqlite3.Error):
                raise LedgerError(f"{self.path}: {_sqlite_problem(exc, self.path)}") from None
            raise
        self.size = new_size
        self._tails = tails
        return first

    def _node_from(self, level: int, index: int, writes: dict[tuple[int, int], bytes]) -> bytes:
        """A node during an append: from this batch's writes, the old open chunk, or storage."""
        chunk, pos = divmod(index, CHUNK)
        blob: bytes | bytearray | None = writes.get((level, chunk))
        if blob is None:
            old_count = self.size >> level
            blob = (
                self._tails[level]
                if chunk == old_count // CHUNK
                else self._read_chunk(level, chunk)
            )
        return bytes(blob[pos * HASH : (pos + 1) * HASH])

    # -- reading -----------------------------------------------------------------------
    def subtree_hash(self, lo: int, hi: int) -> bytes:
        """``MTH(D[lo:hi])`` from stored perfect subtrees (O(log n) lookups)."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:
            return self.node(n.bit_length() - 1, lo // n)
        k = largest_power_of_two_below(n)
        return node_hash(self.subtree_hash(lo, lo + k), self.subtree_hash(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        """The RFC 6962 root of the first ``size`` entries (default: all)."""
        size = self.size if size is None else size
        self._check_size("size", size)
        return self.subtree_hash(0, size)

    def _check_size(self, field: str, size: int) -> None:
        if not isinstance(size, int) or not 0 <= size <= self.size:
            raise InputError(field, size, f"a tree size from 0 to {self.size}")

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 §2.1.1 ``PATH(index, D[0:size])``."""
        size = self.size if size is None else size
        self._check_size("size", size)
        if not isinstance(index, int) or not 0 <= index < size:
            raise InputError("index", index, f"a leaf index from 0 to {size - 1}")
        out: list[bytes] = []

        def path(m: int, lo: int, hi: int) -> None:
            n = hi - lo
            if n == 1:
                return
            k = largest_power_of_two_below(n)
            if m < k:
                path(m, lo, lo + k)
                out.append(self.subtree_hash(lo + k, hi))
            else:
                path(m - k, lo + k, hi)
                out.append(self.subtree_hash(lo, lo + k))

        path(index, 0, size)
        return out

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 6962 §2.1.2 ``PROOF(size1, D[0:size2])``."""
        size2 = self.size if size2 is None else size2
        self._check_size("to", size2)
        if not isinstance(size1, int) or not 0 < size1 <= size2:
            raise InputError("from", size1, f"a tree size from 1 to {size2}")
        out: list[bytes] = []

        def sub(m: int, lo: int, hi: int, complete: bool) -> None:
            n = hi - lo
            if m == n:
                if not complete:
                    out.append(self.subtree_hash(lo, hi))
                return
            k = largest_power_of_two_below(n)
            if m <= k:
                sub(m, lo, lo + k, complete)
                out.append(self.subtree_hash(lo + k, hi))
            else:
                sub(m - k, lo + k, hi, False)
                out.append(self.subtree_hash(lo, lo + k))

        sub(size1, 0, size2, True)
        return out

    def entry(self, index: int) -> tuple[bytes, str]:
        """The bytes and kind of leaf ``index``."""
        if not isinstance(index, int) or not 0 <= index < self.size:
            raise InputError("index", index, f"a leaf index from 0 to {self.size - 1}")
        row = self.con.execute(
            "SELECT first, count, data, offsets, kinds FROM batches WHERE first <= ? "
            "ORDER BY first DESC LIMIT 1",
            (index,),
        ).fetchone()
        first, _count, data, offsets, kinds = row
        pos = index - first
        lo = int.from_bytes(offsets[8 * pos : 8 * pos + 8], "big")
        hi = int.from_bytes(offsets[8 * pos + 8 : 8 * pos + 16], "big")
        return bytes(data[lo:hi]), kinds.split("\n")[pos]

    def _secret_store(self, create: bool = False) -> sqlite3.Connection | None:
        """The private 0600 file of salts and values (None if there is none yet)."""
        if self._secrets is not None:
            return self._secrets
        p = self.secrets_path
        if not p.exists():
            if not create:
                return None
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        if self.read_only:
            self._secrets = _connect_read_only(p)
        else:
            self._secrets = sqlite3.connect(str(p), isolation_level=None)
            self._secrets.execute("PRAGMA synchronous=FULL")
            self._secrets.executescript(_SECRETS_SCHEMA)
        return self._secrets

    def _move_legacy_secrets(self) -> None:
        """Ledgers from earlier versions kept private values in the public file: move them to
        the private one (then drop them from the public file)."""
        rows = self.con.execute("SELECT idx, field, salt, value FROM secrets").fetchall()
        if not rows:
            return
        sec = present(self._secret_store(create=True), "secrets_path")
        with sec:
            sec.executemany("INSERT OR REPLACE INTO secrets VALUES (?, ?, ?, ?)", rows)
        self.con.execute("DELETE FROM secrets")
        self.con.execute("VACUUM")  # the deleted values must not linger in free pages

    def secrets_rows(self) -> list[tuple[int, str, bytes, Any]]:
        """Every stored private value: (index, field, salt, value)."""
        sec = self._secret_store()
        rows = [] if sec is None else sec.execute("SELECT idx, field, salt, value FROM secrets")
        return [(int(i), str(f), bytes(salt), json.loads(v)) for i, f, salt, v in rows]

    def secret(self, index: int, field: str) -> tuple[bytes, Any]:
        """The salt and value of a private field of entry ``index`` (from the private store beside
        the ledger)."""
        sec = self._secret_store()
        row = None
        if sec is not None:
            row = sec.execute(
                "SELECT salt, value FROM secrets WHERE idx = ? AND field = ?", (index, field)
            ).fetchone()
        if row is None:
            raise InputError("field", field, f"a private field of record {index}")
        return bytes(row[0]), json.loads(row[1])

    # -- signed heads ------------------------------------------------------------------
    def sign_head(self, key: Ed25519PrivateKey) -> SignedTreeHead:
        """Sign the current size and root, store the head and return it."""
        pub = public_key_bytes(key)
        stored = self.con.execute("SELECT value FROM meta WHERE key = 'public_key'").fetchone()
        if stored is None:
            try:
                self.con.execute("INSERT INTO meta VALUES ('public_key', ?)", (pub,))
            except sqlite3.Error as exc:
                raise LedgerError(f"{self.path}: {_sqlite_problem(exc, self.path)}") from None
        elif bytes(stored[0]) != pub:
            raise InputError("key", "a different key", "the key this ledger was created with")
        root = self.root()
        ts = int(time.time() * 1000)
        sig = key.sign(sth_message(self.size, root, ts))
        try:
            self.con.execute(
                "INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?)", (self.size, root, ts, sig)
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: {_sqlite_problem(exc, self.path)}") from None
        return SignedTreeHead(self.size, root, ts, sig, pub)

    def public_key(self) -> bytes:
        """The ledger's raw Ed25519 public key (32 bytes), recorded when the first head was
        signed."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'public_key'").fetchone()
        if row is None:
            raise LedgerError(f"{self.path}: no public key recorded (sign a head first)")
        return bytes(row[0])

    def head(self, size: int | None = None) -> SignedTreeHead:
        """The latest signed head (or the one at ``size``)."""
        q = "SELECT size, root, timestamp_ms, signature FROM heads " + (
            "WHERE size = ?" if size is not None else "ORDER BY size DESC LIMIT 1"
        )
        row = self.con.execute(q, (size,) if size is not None else ()).fetchone()
        if row is None:
            raise InputError("size", size, "a size with a signed head (hashpivot ledger head)")
        return SignedTreeHead(
            int(row[0]), bytes(row[1]), int(row[2]), bytes(row[3]), self.public_key()
        )

    # -- audit ---------------------------------------------------------------------------
    def audit(
        self,
        public_key: bytes | None = None,
        trusted_head: tuple[int, bytes] | None = None,
        require_signed: bool = False,
    ) -> list[str]:
        """Recompute the whole tree from the stored entries and check everything the file
        holds against it; return the problems found (empty: the log is intact).

        Checked: every node chunk; every signed head's signature (against ``public_key`` when
        given — a ledger re-signed with another key fails — else the stored one) and its root,
        each in O(log n) from the recomputed levels; the entries after the newest signed head
        (an unsigned tail); the ``kinds`` labels against the entries' own bytes; every private
        value against its commitment; and, with ``trusted_head`` (size, root) known from
        elsewhere, that the log still extends it (no rollback, no rewrite). With
        ``require_signed`` (what ``hashpivot ledger verify`` asks), entries that no signed head
        covers are a problem too: deleting the newest heads leaves such a tail.
        """
        problems: list[str] = []
        rows = self.con.execute(
            "SELECT first, count, data, offsets, kinds FROM batches ORDER BY first"
        ).fetchall()
        wanted = {idx for idx, *_ in self.secrets_rows()}
        entries: dict[int, bytes] = {}
        hashes: list[bytes] = []
        for first, count, data, offsets, kinds in rows:
            if first != len(hashes):
                problems.append(f"batch at {first}: expected it to start at {len(hashes)}")
            offs = [int.from_bytes(offsets[8 * i : 8 * i + 8], "big") for i in range(count + 1)]
            labels = kinds.split("\n")
            for i in range(count):
                entry = bytes(data[offs[i] : offs[i + 1]])
                index = first + i
                hashes.append(leaf_hash(entry))
                label = labels[i] if i < len(labels) else "(none)"
                if label != derived_kind(entry):
                    problems.append(
                        f"entry {index} is labelled {label!r} but holds {derived_kind(entry)!r}"
                    )
                if index in wanted:
                    entries[index] = entry
        if len(hashes) != self.size:
            problems.append(f"entries hold {len(hashes)} leaves, the ledger claims {self.size}")
            return problems
        levels = [hashes]
        level, nodes = 0, hashes
        while nodes:
            for chunk in range(-(-len(nodes) // CHUNK)):
                want = b"".join(nodes[chunk * CHUNK : (chunk + 1) * CHUNK])
                row = self.con.execute(
                    "SELECT hashes FROM chunks WHERE level = ? AND chunk = ?", (level, chunk)
                ).fetchone()
                if row is None or bytes(row[0]) != want:
                    what = "missing" if row is None else "differs from the entries"
                    problems.append(f"node chunk (level {level}, chunk {chunk}) {what}")
            nodes = [node_hash(a, b) for a, b in zip(nodes[0::2], nodes[1::2], strict=False)]
            if nodes:
                levels.append(nodes)
            level += 1
        heads = self.con.execute("SELECT size, root, timestamp_ms, signature FROM heads").fetchall()
        stored_pub = None
        row = self.con.execute("SELECT value FROM meta WHERE key = 'public_key'").fetchone()
        if row is not None:
            stored_pub = bytes(row[0])
        if public_key is not None and stored_pub is not None and stored_pub != public_key:
            problems.append(
                "the ledger's public key is not the one given: it was re-signed with another key"
            )
        pub = public_key if public_key is not None else stored_pub
        if heads and pub is None:
            problems.append(f"{self.path}: no public key recorded (sign a head first)")
        newest = 0
        for size, root, ts, sig in heads:
            size = int(size)
            head = SignedTreeHead(size, bytes(root), int(ts), bytes(sig), pub or b"")
            if size > self.size:
                problems.append(f"signed head at size {size} is beyond the log ({self.size})")
                continue
            newest = max(newest, size)
            if pub is not None and not verify_head(head, pub):
                problems.append(f"signed head at size {size}: signature does not verify")
            if root_from_levels(levels, size) != bytes(root):
                problems.append(f"signed head at size {size}: root differs from the entries")
        if not require_signed:
            pass
        elif self.size and not heads:
            problems.append(f"no signed head covers the {self.size} entries")
        elif newest < self.size:
            problems.append(
                f"entries {newest}..{self.size - 1} are not covered by a signed head "
                "(an unsigned tail: sign it with `hashpivot ledger head`)"
            )
        if trusted_head is not None:
            t_size, t_root = trusted_head
            if t_size > self.size:
                problems.append(
                    f"rolled back: the trusted head has {t_size} entries, the ledger {self.size}"
                )
            elif root_from_levels(levels, t_size) != t_root:
                problems.append(
                    f"rewritten: the tree at size {t_size} is not the trusted head's "
                    f"({t_root.hex()[:16]}…)"
                )
        for idx, field, salt, value in self.secrets_rows():
            if idx >= self.size or not check_revealed(entries.get(idx, b""), field, salt, value):
                problems.append(
                    f"private value of entry {idx}, field {field!r}, does not open its "
                    "commitment (a forged or misplaced secret)"
                )
        return problems

    def close(self) -> None:
        """Close the ledger and its private store."""
        self.con.close()
        if self._secrets is not None:
            self._secrets.close()
            self._secrets = None


# --------------------------------------------------------------------------- offline checking
def proof_bundle(ledger: Ledger, index: int, size: int | None = None) -> dict[str, Any]:
    """An inclusion proof with everything a verifier needs: entry, proof and signed head.

    Parameters
    ----------
    ledger : Ledger
        An open ledger.
    index : int
        The entry's index [-], from 0.
    size : int or None
        Tree size of the signed head to prove against [-]; ``None`` takes the latest head.

    Returns
    -------
    dict
        ``kind="inclusion"``, ``index``, ``size``, ``entry_hex``, ``entry_kind``, ``proof_hex``
        and ``head`` (JSON-ready), checked by :func:`verify_bundle`.

    References
    ----------
    .. [1] RFC 6962, §2.1.1 (Merkle audit paths).
    """
    head = ledger.head(size)
    data, kind = ledger.entry(index)
    return {
        "kind": "inclusion",
        "index": index,
        "size": head.size,
        "entry_hex": data.hex(),
        "entry_kind": kind,
        "proof_hex": [h.hex() for h in ledger.inclusion_proof(index, head.size)],
        "head": head.to_dict(),
    }


def consistency_bundle(ledger: Ledger, size1: int, size2: int | None = None) -> dict[str, Any]:
    """A consistency proof between two signed heads.

    Parameters
    ----------
    ledger : Ledger
        An open ledger.
    size1 : int
        Size of the older signed head [-].
    size2 : int or None
        Size of the newer signed head [-]; ``None`` takes the latest.

    Returns
    -------
    dict
        ``kind="consistency"``, ``from`` and ``to`` (heads) and ``proof_hex``, checked by
        :func:`verify_bundle`.

    References
    ----------
    .. [1] RFC 6962, §2.1.2 (Merkle consistency proofs).
    """
    new = ledger.head(size2)
    old = ledger.head(size1)
    return {
        "kind": "consistency",
        "from": old.to_dict(),
        "to": new.to_dict(),
        "proof_hex": [h.hex() for h in ledger.consistency_proof(old.size, new.size)],
    }


def verify_bundle(bundle: dict[str, Any], public_key: bytes) -> tuple[bool, str]:
    """Check a proof bundle with nothing but the operator's public key.

    First the head's signature, then the inclusion (of the entry's hash) or the consistency proof
    against the signed roots.

    Parameters
    ----------
    bundle : dict
        From :func:`proof_bundle` or :func:`consistency_bundle` (e.g. read from a JSON file).
    public_key : bytes
        The operator's raw Ed25519 public key (32 bytes).

    Returns
    -------
    tuple of (bool, str)
        ``(True, "")`` or ``(False, reason)`` for a well-formed bundle that does not verify.

    Raises
    ------
    InputError
        A malformed bundle or key, naming the field.
    """
    if len(public_key) != 32:
        raise InputError("public_key", f"{len(public_key)} bytes", "32 bytes (64 hex digits)")
    if not isinstance(bundle, dict) or bundle.get("kind") not in ("inclusion", "consistency"):
        raise InputError(
            "proof.kind",
            bundle.get("kind") if isinstance(bundle, dict) else bundle,
            "inclusion or consistency",
        )
    proof_hex = bundle.get("proof_hex")
    if not isinstance(proof_hex, list):
        raise InputError("proof.proof_hex", proof_hex, "a list of hex hashes")
    proof = [unhex(f"proof.proof_hex[{i}]", h, HASH) for i, h in enumerate(proof_hex)]
    if bundle["kind"] == "inclusion":
        head = SignedTreeHead.from_dict(bundle.get("head", {}))
        if not verify_head(head, public_key):
            return False, "the tree head's signature does not verify with this public key"
        index = bundle.get("index")
        if not isinstance(index, int) or not 0 <= index < head.size:
            raise InputError(
                "proof.index", index, f"a leaf index below the head's size {head.size}"
            )
        entry = unhex("proof.entry_hex", bundle.get("entry_hex"))
        ok = verify_inclusion(leaf_hash(entry), index, head.size, proof, head.root)
        return ok, (
            "entry is included in the signed tree"
            if ok
            else "inclusion proof does not lead to the signed root"
        )
    old = SignedTreeHead.from_dict(bundle.get("from", {}))
    new = SignedTreeHead.from_dict(bundle.get("to", {}))
    for name, h in (("from", old), ("to", new)):
        if not verify_head(h, public_key):
            return False, f"the '{name}' head's signature does not verify with this public key"
    ok = verify_consistency(old.size, new.size, old.root, new.root, proof)
    return ok, (
        "the newer tree extends the older one"
        if ok
        else "consistency proof does not connect the two signed roots"
    )
