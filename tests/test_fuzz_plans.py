"""Fuzzing the example plans (hypothesis): delete keys, wrong types, NaN, huge numbers, deep
nesting, aliases, duplicate keys, truncation. Every input either runs or is refused with exit 2
and one line naming the problem: never a traceback, and nothing stored when refused."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import ROOT
from hashpivot.cli.app import main

EXAMPLES = ["texas_miner.yaml", "bitriver.yaml", "convert_or_mine.yaml", "core_scientific.yaml"]
TEXTS = {name: (ROOT / "examples" / name).read_text() for name in EXAMPLES}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}

WEIRD = st.one_of(
    st.just(math.nan),
    st.just(math.inf),
    st.just(1e308),
    st.just(-1e300),
    st.just(2**70),
    st.just(True),
    st.just("yes"),
    st.just("1e3"),
    st.just(None),
    st.just([]),
    st.just({}),
    st.just({"nested": {"deeper": [1, 2, {"x": None}]}}),
    st.text(max_size=20),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _set(data: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    node = data
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@st.composite
def mutated_plans(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(EXAMPLES))
    kind = draw(
        st.sampled_from(["delete", "replace", "deep", "alias", "duplicate", "truncate", "several"])
    )
    text = TEXTS[name]
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "duplicate":
        return text + "\nname: again\n"
    if kind == "alias":
        bomb = ["x-b0: &b0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"] + [
            f"x-b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, 7)
        ]
        return text + "\n" + "\n".join(bomb) + "\nassumptions: *b6\n"
    data = copy.deepcopy(DATA[name])
    if kind == "deep":
        depth = draw(st.integers(40, 300))
        return yaml.safe_dump(data) + "deep: " + "[" * depth + "]" * depth + "\n"
    paths = [p for p in _paths(data) if p]
    for _ in range(draw(st.integers(2, 5)) if kind == "several" else 1):
        p = draw(st.sampled_from(paths))
        try:
            # A copy: st.just() hands out one shared object, and a later mutation inside it
            # would change what the strategy draws next (hypothesis: FlakyStrategyDefinition).
            value = copy.deepcopy(draw(WEIRD))
            data = _set(data, p, value, delete=(kind == "delete") or draw(st.booleans()))
        except (KeyError, IndexError, TypeError):
            continue
        paths = [q for q in _paths(data) if q]
    try:
        return yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return "name: [unclosed"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutated_plans())
def test_mutated_plans_run_or_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    db = tmp_path / "fuzz.duckdb"
    before = db.stat().st_mtime_ns if db.exists() else None
    try:
        code = main(
            ["plan", str(plan), "--paths", "64", "--months", "6", "--db", str(db), "--out",
             str(tmp_path / "out"), "--json"]
        )  # fmt: skip
    except SystemExit as exc:  # Typer ends a successful command this way
        code = exc.code or 0
    _, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = [x for x in err.strip().splitlines() if not x.startswith("hashpivot: compiling")]
        assert len(lines) == 1 and lines[0].startswith("hashpivot: error: "), err
        assert len(lines[0]) < 20_000  # bounded, never the input echoed back
        after = db.stat().st_mtime_ns if db.exists() else None
        assert after == before  # nothing stored
