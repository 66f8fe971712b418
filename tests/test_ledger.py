"""The tamper-evident ledger: RFC 6962 vectors, every proof up to size 64, tampering, signed
heads, commitments, crash safety, the CLI and the plan-run audit trail."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import ROOT, plan_json, run
from hashpivot.errors import InputError
from hashpivot.ledger import log as ledger
from hashpivot.ledger import merkle

# Certificate Transparency's RFC 6962 test leaves and roots MTH(D[n]), n = 0..8.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
]
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# A literal transcription of RFC 6962 §2.1, independent of the code under test.
def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
    if m == len(d):
        return [] if complete else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], complete), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


@pytest.fixture
def log(tmp_path: Path) -> ledger.Ledger:
    lg = ledger.Ledger(tmp_path / "l.sqlite", create=True)
    yield lg
    lg.close()


def test_roots_0_to_8_equal_rfc6962_vectors(log: ledger.Ledger) -> None:
    assert log.root(0).hex() == CT_ROOTS[0]
    for n, leaf in enumerate(CT_LEAVES, start=1):
        log.append([leaf])
        assert log.root().hex() == CT_ROOTS[n]
    for n in range(9):  # every earlier root from the stored nodes
        assert log.root(n).hex() == CT_ROOTS[n]
        assert ref_mth(CT_LEAVES[:n]).hex() == CT_ROOTS[n]


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_vectors(log: ledger.Ledger, index: int, size: int, expected: list[str]) -> None:
    log.append(CT_LEAVES)
    assert [h.hex() for h in log.inclusion_proof(index, size)] == expected


@pytest.mark.parametrize(("m", "n", "expected"), CT_CONSISTENCY)
def test_consistency_vectors(log: ledger.Ledger, m: int, n: int, expected: list[str]) -> None:
    log.append(CT_LEAVES)
    assert [h.hex() for h in log.consistency_proof(m, n)] == expected


def test_every_proof_up_to_64_matches_the_rfc_and_verifies(log: ledger.Ledger) -> None:
    data = [f"entry-{i}".encode() for i in range(64)]
    # Appended in uneven batches so chunk edges and unpaired nodes are exercised.
    for lo, hi in ((0, 1), (1, 4), (4, 13), (13, 40), (40, 64)):
        log.append(data[lo:hi])
    hashes = [merkle.leaf_hash(d) for d in data]
    for n in range(1, 65):
        root = log.root(n)
        assert root == ref_mth(data[:n])
        for m in range(n):
            proof = log.inclusion_proof(m, n)
            assert proof == ref_path(m, data[:n])
            assert merkle.verify_inclusion(hashes[m], m, n, proof, root)
        for m in range(1, n + 1):
            proof = log.consistency_proof(m, n)
            assert proof == ref_subproof(m, data[:n], True)
            assert merkle.verify_consistency(m, n, log.root(m), root, proof)


@pytest.fixture(scope="module")
def tree64(tmp_path_factory: pytest.TempPathFactory) -> ledger.Ledger:
    lg = ledger.Ledger(tmp_path_factory.mktemp("t") / "l.sqlite", create=True)
    lg.append([f"entry-{i}".encode() for i in range(64)])
    return lg


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_tampered_inclusion_proofs_are_rejected(tree64: ledger.Ledger, data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 64))
    m = data.draw(st.integers(0, n - 1))
    leaf = merkle.leaf_hash(f"entry-{m}".encode())
    root = tree64.root(n)
    proof = tree64.inclusion_proof(m, n)
    assert merkle.verify_inclusion(leaf, m, n, proof, root)
    if proof:  # a flipped bit anywhere in the path
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = bytearray(proof[i])
        bad[bit // 8] ^= 1 << (bit % 8)
        assert not merkle.verify_inclusion(
            leaf, m, n, [*proof[:i], bytes(bad), *proof[i + 1 :]], root
        )
    other = data.draw(st.integers(0, n - 1).filter(lambda x: x != m))
    assert not merkle.verify_inclusion(leaf, other, n, proof, root)  # wrong index
    # Wrong size: any other size of this log, with that size's own root (the pair a signed
    # head binds; RFC 9162 verifiers see the size only through that root).
    n2 = data.draw(st.integers(m + 1, 64).filter(lambda x: x != n))
    assert not merkle.verify_inclusion(leaf, m, n2, proof, tree64.root(n2))
    assert not merkle.verify_inclusion(leaf, m, n, proof[:-1], root) or not proof


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_tampered_consistency_proofs_are_rejected(
    tree64: ledger.Ledger, data: st.DataObject
) -> None:
    n = data.draw(st.integers(2, 64))
    m = data.draw(st.integers(1, n - 1))
    proof = tree64.consistency_proof(m, n)
    r1, r2 = tree64.root(m), tree64.root(n)
    assert merkle.verify_consistency(m, n, r1, r2, proof)
    i = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    bad = bytearray(proof[i])
    bad[bit // 8] ^= 1 << (bit % 8)
    assert not merkle.verify_consistency(m, n, r1, r2, [*proof[:i], bytes(bad), *proof[i + 1 :]])
    m2 = data.draw(st.integers(1, n - 1).filter(lambda x: x != m))
    assert not merkle.verify_consistency(m2, n, tree64.root(m2), r2, proof)
    n2 = data.draw(st.integers(m + 1, 64).filter(lambda x: x != n))
    assert not merkle.verify_consistency(m, n2, r1, tree64.root(n2), proof)


def test_chunk_boundaries_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite"
    lg = ledger.Ledger(path, create=True)
    data = [i.to_bytes(4, "big") for i in range(1300)]
    for lo, hi in ((0, 255), (255, 257), (257, 512), (512, 513), (513, 1300)):
        lg.append(data[lo:hi])
        assert lg.root() == merkle.reference_root([merkle.leaf_hash(d) for d in data[:hi]])
    lg.close()
    again = ledger.Ledger(path)
    assert again.size == 1300
    assert again.root(777) == ref_mth(data[:777])
    assert again.audit() == []
    again.append([b"more"])
    assert again.root() == ref_mth([*data, b"more"])
    again.close()


def test_a_changed_byte_is_found(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    key = tmp_path / "k.pem"
    ledger.generate_key(key)
    lg = ledger.Ledger(path, create=True)
    lg.append([f"row {i}".encode() for i in range(600)])
    lg.sign_head(ledger.load_key(key))
    assert lg.audit() == []
    lg.close()
    con = sqlite3.connect(path)
    data = bytearray(con.execute("SELECT data FROM batches").fetchone()[0])
    data[100] ^= 0x01  # one bit of one entry
    con.execute("UPDATE batches SET data = ?", (bytes(data),))
    con.commit()
    con.close()
    problems = ledger.Ledger(path).audit()
    assert any("differs from the entries" in p for p in problems)
    assert any("root differs" in p for p in problems)


def test_a_changed_node_or_signature_is_found(tmp_path: Path) -> None:
    path, key = tmp_path / "l.sqlite", tmp_path / "k.pem"
    ledger.generate_key(key)
    lg = ledger.Ledger(path, create=True)
    lg.append([b"a", b"b", b"c"])
    lg.sign_head(ledger.load_key(key))
    lg.close()
    con = sqlite3.connect(path)
    sig = bytearray(con.execute("SELECT signature FROM heads").fetchone()[0])
    sig[0] ^= 0x80
    con.execute("UPDATE heads SET signature = ?", (bytes(sig),))
    con.commit()
    con.close()
    assert any("signature does not verify" in p for p in ledger.Ledger(path).audit())


def test_signed_heads_and_offline_bundles(tmp_path: Path) -> None:
    key_path = tmp_path / "k.pem"
    pub = ledger.generate_key(key_path)
    lg = ledger.Ledger(tmp_path / "l.sqlite", create=True)
    lg.append([b"x", b"y", b"z"])
    key = ledger.load_key(key_path)
    lg.sign_head(key)
    bundle = ledger.proof_bundle(lg, 1)
    assert ledger.verify_bundle(bundle, pub)[0]
    other = ledger.generate_key(tmp_path / "other.pem")
    assert not ledger.verify_bundle(bundle, other)[0]  # a wrong key
    forged = json.loads(json.dumps(bundle))
    forged["entry_hex"] = b"w".hex()
    assert not ledger.verify_bundle(forged, pub)[0]
    truncated = json.loads(json.dumps(bundle))
    truncated["head"]["signature_hex"] = truncated["head"]["signature_hex"][:100]
    with pytest.raises(InputError, match="signature_hex"):
        ledger.verify_bundle(truncated, pub)
    lg.append([b"w"])
    lg.sign_head(key)
    cons = ledger.consistency_bundle(lg, 3, 4)
    assert ledger.verify_bundle(cons, pub)[0]
    with pytest.raises(InputError):
        lg.inclusion_proof(9)
    with pytest.raises(InputError):
        lg.consistency_proof(5, 4)


def test_private_fields_are_committed(tmp_path: Path) -> None:
    data, secrets = ledger.make_record(
        "contract", {"counterparty": "ACME", "price_usd": 42.5}, private=["price_usd"]
    )
    rec = ledger.parse_record(data)
    assert "42.5" not in data.decode()
    assert "commitment" in rec["fields"]["price_usd"]
    salt, value = secrets["price_usd"]
    assert ledger.check_revealed(data, "price_usd", salt, value)
    assert not ledger.check_revealed(data, "price_usd", salt, 43.0)
    with pytest.raises(InputError, match="UTF-8"):
        ledger.make_record("spending", {"memo": "bad \udc80 surrogate"})
    with pytest.raises(InputError, match=r"record\.type"):
        ledger.make_record("gift", {"a": 1})


CHILD = """
import sys
from hashpivot.ledger import log as ledger
lg = ledger.Ledger(sys.argv[1], create=True)
i = 0
while True:
    lg.append([f"{i}-{j}".encode() * 20 for j in range(500)])
    i += 1
    print(lg.size, flush=True)
"""


def test_kill_9_mid_append_leaves_a_valid_log(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    sizes = []
    deadline = time.time() + 60
    while len(sizes) < 20 and time.time() < deadline:
        sizes.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)  # somewhere inside a later append
    proc.wait()
    lg = ledger.Ledger(path)
    assert lg.size % 500 == 0 and lg.size >= sizes[-1]
    assert lg.audit() == []
    assert lg.root() == merkle.reference_root(
        [merkle.leaf_hash(lg.entry(i)[0]) for i in range(lg.size)]
    )
    lg.close()


# --------------------------------------------------------------------------- CLI


def test_cli_round_trip_and_bad_inputs(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    assert run("ledger", "init", "--db", db).returncode == 0
    r = run("ledger", "append", "--hex", "00", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    head = json.loads(run("ledger", "head", "--db", db, "--json").stdout)
    assert set(head) >= {"size", "root_hex", "signature_hex", "public_key_hex"}
    assert head["size"] == 1 and head["root_hex"] == merkle.leaf_hash(b"\x00").hex()
    proof = tmp_path / "p.json"
    assert run("ledger", "prove", "--index", "0", "--db", db, "--out", str(proof)).returncode == 0
    ok = run(
        "ledger", "verify-proof", "--proof", str(proof), "--public-key", head["public_key_hex"]
    )
    assert ok.returncode == 0 and "VALID" in ok.stdout
    wrong = run("ledger", "verify-proof", "--proof", str(proof), "--public-key", "00" * 32)
    assert wrong.returncode == 1 and "INVALID" in wrong.stdout
    # Corrupt proofs and truncated signatures: named errors.
    bundle = json.loads(proof.read_text())
    bundle["proof_hex"] = ["zz"]
    proof.write_text(json.dumps(bundle))
    bad = run(
        "ledger", "verify-proof", "--proof", str(proof), "--public-key", head["public_key_hex"]
    )
    assert bad.returncode == 2 and "proof.proof_hex" in bad.stderr
    # Out-of-range index, non-UTF-8 record: named errors, nothing written.
    r = run("ledger", "prove", "--index", "7", "--db", db)
    assert r.returncode == 2 and "index" in r.stderr
    rec = tmp_path / "r.json"
    rec.write_bytes(b'{"type": "spending", "fields": {"memo": "\xff\xfe"}}')
    r = run("ledger", "append", "--record", str(rec), "--db", db)
    assert r.returncode == 2 and "UTF-8" in r.stderr
    assert json.loads(run("ledger", "head", "--db", db, "--json").stdout)["size"] == 1
    # A byte changed on disk is found by verify.
    assert run("ledger", "verify", "--db", db).returncode == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE batches SET data = X'01'")
    con.commit()
    con.close()
    r = run("ledger", "verify", "--db", db)
    assert r.returncode == 1 and "differs" in r.stderr


def test_plan_runs_are_logged_and_verified(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    run_id = plan_json(ROOT / "examples" / "texas_miner.yaml", db, tmp_path / "o", 64, 12)["run_id"]
    v = run("runs", "verify", run_id, "--db", str(db), "--json")
    assert v.returncode == 0 and json.loads(v.stdout)["verified"] is True
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("UPDATE run_npv SET npv_usd = npv_usd + 1 WHERE path = 5")
    con.close()
    v = run("runs", "verify", run_id, "--db", str(db), "--json")
    out = json.loads(v.stdout)
    assert v.returncode == 1 and out["verified"] is False
    assert any(not c["ok"] and "results" in c["check"] for c in out["checks"])


def test_files_from_earlier_versions_keep_working(tmp_path: Path) -> None:
    """Earlier ledgers have 4 KiB pages and a WITHOUT ROWID ``chunks`` table; new files get
    64 KiB pages and a rowid table. Both must append, prove and audit alike (bulk hashing on)."""
    old = tmp_path / "old.sqlite"
    con = sqlite3.connect(old)
    con.execute("PRAGMA page_size=4096")
    con.execute(
        "CREATE TABLE chunks (level INTEGER NOT NULL, chunk INTEGER NOT NULL,"
        " hashes BLOB NOT NULL, PRIMARY KEY (level, chunk)) WITHOUT ROWID"
    )
    con.close()
    batches = [[b"a%d" % i for i in range(3000)], [b"b%d" % i for i in range(77)], [b"c"]]
    roots = []
    for path in (old, tmp_path / "new.sqlite"):
        lg = ledger.Ledger(path, create=True)
        for batch in batches:
            lg.append(batch)
        assert lg.audit() == []
        flat = [x for b in batches for x in b]
        assert lg.root() == merkle.reference_root([merkle.leaf_hash(x) for x in flat])
        proof = lg.inclusion_proof(1234, lg.size)
        assert merkle.verify_inclusion(
            merkle.leaf_hash(flat[1234]), 1234, lg.size, proof, lg.root()
        )
        roots.append(lg.root())
        lg.close()
    assert roots[0] == roots[1]
