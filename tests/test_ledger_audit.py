"""`hashpivot ledger verify` fails on every audit hole found in review: an empty file, a
consistent rollback, deleted heads, a re-signed ledger, relabelled kinds, forged secrets; it
reads read-only media; private values live outside the public file; head roots are checked from
the recomputed levels (against the reference root for every size)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import ROOT, run
from hashpivot import locations
from hashpivot.ledger import log as ledger
from hashpivot.ledger import merkle


def _make(path: Path, n: int, key: Path | None = None, prefix: str = "e") -> list[dict]:
    """A ledger of ``n`` spending records, a head signed after each; the heads as JSON."""
    key = key or locations.key_path(path)
    if not key.exists():
        ledger.generate_key(key)
    lg = ledger.Ledger(path, create=not path.exists())
    heads = []
    for i in range(n):
        data, secrets = ledger.make_record(
            "spending", {"item": f"{prefix}{i}", "amount_usd": 10.0 + i}, private=["amount_usd"]
        )
        lg.append([data], ["spending"], {0: secrets})
        heads.append(lg.sign_head(ledger.load_key(key)).to_dict())
    lg.close()
    return heads


def verify(path: Path, *extra: str) -> tuple[int, dict]:
    r = run("ledger", "verify", "--db", str(path), "--json", *extra)
    try:
        return r.returncode, json.loads(r.stdout)
    except json.JSONDecodeError:
        return r.returncode, {"stderr": r.stderr}


def test_intact_ledger_verifies(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    heads = _make(p, 5)
    code, out = verify(p, "--public-key", heads[-1]["public_key_hex"])
    assert code == 0 and out["ok"], out


def test_an_empty_file_is_not_intact_and_stays_empty(tmp_path: Path) -> None:
    p = tmp_path / "empty.sqlite"
    p.write_bytes(b"")
    r = run("ledger", "verify", "--db", str(p))
    assert r.returncode == 2 and "not a hashpivot ledger" in r.stderr
    assert p.stat().st_size == 0  # nothing was created in it


def test_a_consistent_rollback_is_found_with_a_trusted_head(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    heads = _make(p, 3)
    snapshot = tmp_path / "at3.sqlite"
    shutil.copy(p, snapshot)
    shutil.copy(ledger.secrets_path(p), ledger.secrets_path(snapshot))
    heads += _make(p, 2, locations.key_path(p), prefix="f")
    trusted = f"{heads[-1]['size']}:{heads[-1]['root_hex']}"
    assert verify(p, "--trusted-head", trusted)[1]["ok"]
    # The operator restores the 3-entry copy (with its private file): internally consistent,
    # signed, and intact on its own.
    shutil.copy(snapshot, p)
    shutil.copy(ledger.secrets_path(snapshot), ledger.secrets_path(p))
    assert verify(p)[1]["ok"]
    code, out = verify(p, "--trusted-head", trusted)
    assert code == 1 and any("rolled back" in x for x in out["problems"])


def test_a_rewritten_history_is_found(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    heads = _make(p, 4)
    trusted = f"{heads[1]['size']}:{heads[1]['root_hex']}"
    other = tmp_path / "other.sqlite"
    _make(other, 4, locations.key_path(p), prefix="x")  # same key, other entries
    shutil.copy(other, p)
    code, out = verify(p, "--trusted-head", trusted)
    assert code == 1 and any("rewritten" in x for x in out["problems"])


def test_a_ledger_re_signed_with_another_key_is_found(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    heads = _make(p, 3)
    original = heads[-1]["public_key_hex"]
    forged = tmp_path / "forged.sqlite"
    _make(forged, 3, tmp_path / "attacker.key")
    code, out = verify(forged, "--public-key", original)
    assert code == 1 and any("re-signed" in x for x in out["problems"])


def test_deleted_heads_leave_an_unsigned_tail(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    _make(p, 4)
    con = sqlite3.connect(p)
    con.execute("DELETE FROM heads WHERE size > 2")
    con.commit()
    con.close()
    code, out = verify(p)
    assert code == 1 and any("not covered by a signed head" in x for x in out["problems"])


def test_relabelled_kinds_are_found_and_do_not_hide_runs(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    r = run(
        "plan", str(ROOT / "examples" / "texas_miner.yaml"), "--paths", "64", "--months", "12",
        "--db", str(db), "--out", str(tmp_path), "--json",
    )  # fmt: skip
    run_id = json.loads(r.stdout)["run_id"]
    led = locations.default_ledger_path(db)
    con = sqlite3.connect(led)
    con.execute("UPDATE batches SET kinds = 'raw'")
    con.commit()
    con.close()
    code, out = verify(led)
    assert code == 1 and any("labelled 'raw' but holds 'plan_run'" in x for x in out["problems"])
    v = run("runs", "verify", run_id, "--db", str(db), "--json")
    assert json.loads(v.stdout)["ledger_index"] == 0  # still found, by its bytes


def test_forged_secrets_are_found(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    _make(p, 3)
    sec = ledger.secrets_path(p)
    con = sqlite3.connect(sec)
    con.execute("UPDATE secrets SET value = '999.0' WHERE idx = 1")
    con.commit()
    con.close()
    code, out = verify(p)
    assert code == 1 and any("does not open its commitment" in x for x in out["problems"])


def test_private_values_are_kept_out_of_the_public_file(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    lg = ledger.Ledger(p, create=True)
    data, secrets = ledger.make_record(
        "contract", {"counterparty": "ACME", "price_usd": 4242.4242}, private=["price_usd"]
    )
    lg.append([data], ["contract"], {0: secrets})
    assert lg.secret(0, "price_usd")[1] == 4242.4242
    lg.close()
    for f in [p, *p.parent.glob(p.name + "-*")]:
        assert b"4242.4242" not in f.read_bytes(), f
    sec = ledger.secrets_path(p)
    assert stat.S_IMODE(sec.stat().st_mode) == 0o600


def test_secrets_of_earlier_ledgers_move_to_the_private_file(tmp_path: Path) -> None:
    p = tmp_path / "old.sqlite"
    lg = ledger.Ledger(p, create=True)
    data, secrets = ledger.make_record("contract", {"price_usd": 77.7777}, private=["price_usd"])
    lg.append([data], ["contract"])
    salt, value = secrets["price_usd"]
    lg.con.execute("INSERT INTO secrets VALUES (0, 'price_usd', ?, ?)", (salt, json.dumps(value)))
    lg.close()
    assert b"77.7777" in p.read_bytes()  # how earlier versions stored it
    lg = ledger.Ledger(p)  # opened for writing: moved
    assert lg.secret(0, "price_usd") == (salt, value)
    lg.close()
    assert b"77.7777" not in p.read_bytes()


def test_audits_work_on_read_only_media(tmp_path: Path) -> None:
    disk = tmp_path / "ro"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        db = disk / "r.duckdb"
        r = run(
            "plan", str(ROOT / "examples" / "texas_miner.yaml"), "--paths", "64", "--months",
            "12", "--db", str(db), "--out", str(disk / "out"), "--json",
        )  # fmt: skip
        run_id = json.loads(r.stdout)["run_id"]
        led = locations.default_ledger_path(db)
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        with pytest.raises(OSError):
            (disk / "probe").write_text("x")  # the medium is read-only
        assert verify(led)[0] == 0
        proof = run("ledger", "prove", "--index", "0", "--db", str(led))
        assert proof.returncode == 0 and "inclusion" in proof.stdout
        v = run("runs", "verify", run_id, "--db", str(db), "--json")
        assert v.returncode == 0 and json.loads(v.stdout)["verified"], v.stdout + v.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 300), st.data())
def test_head_roots_from_the_levels_equal_the_reference(n: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(n)]
    levels = [leaves]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append(
            [merkle.node_hash(a, b) for a, b in zip(prev[0::2], prev[1::2], strict=False)]
        )
    size = data.draw(st.integers(0, n))
    assert ledger.root_from_levels(levels, size) == merkle.reference_root(leaves[:size])


def test_root_of_every_size_matches_for_a_real_ledger(tmp_path: Path) -> None:
    p = tmp_path / "l.sqlite"
    lg = ledger.Ledger(p, create=True)
    lg.append([b"x%d" % i for i in range(777)])
    assert os.path.getsize(p) > 0
    assert lg.audit() == []
    lg.close()
