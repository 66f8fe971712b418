"""The numpydoc standard (``network.hashprice_usd_per_ph_day`` is the model): every public
function of a finished module documents each parameter under ``Parameters``, a number or an
array with its unit in brackets (``[USD]``, ``[J/TH]``, ``[-]`` for a pure number). The list of
finished modules grows until it is the whole package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "hashpivot"
FINISHED = ["finance/metrics.py", "sites/hardware.py"]
#: A parameter whose type is a number or an array of numbers carries a unit.
NUMERIC = re.compile(r"\b(float|int|array|ndarray)\b")


def undocumented(path: Path) -> list[str]:
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node) or ""
        args = [a.arg for a in node.args.args + node.args.kwonlyargs]
        if not args:
            continue
        if "Parameters\n----------" not in doc:
            out.append(f"{node.name}: no Parameters section")
            continue
        section = doc.split("Parameters\n----------", 1)[1].split("\n\n", 1)[0]
        for arg in args:
            m = re.search(rf"^{arg} :(.*)\n((?:    .*\n?)+)", section + "\n", re.M)
            if m is None:
                out.append(f"{node.name}({arg}): not documented")
            elif NUMERIC.search(m.group(1)) and not re.search(r"\[[^\]]+\]", m.group(2)):
                out.append(f"{node.name}({arg}): no [unit]")
    return out


@pytest.mark.parametrize("module", FINISHED)
def test_public_functions_document_parameters_with_units(module: str) -> None:
    assert undocumented(PKG / module) == []


def test_the_check_finds_a_missing_unit(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text(
        'def f(x, y):\n    """F.\n\n    Parameters\n    ----------\n    x : float\n'
        '        Power [MW].\n    y : float\n        A number.\n    """\n'
    )
    assert undocumented(bad) == ["f(y): no [unit]"]
