"""The numpydoc standard (``network.hashprice_usd_per_ph_day`` is the model): every public
function documents each parameter under ``Parameters``, a number or an array with its unit in
brackets (``[USD]``, ``[J/TH]``, ``[-]`` for a pure number).

CLI commands are the exception: Typer shows their docstring as the command's help, and each
parameter is documented where the user reads it, in its ``typer.Option``/``typer.Argument``
``help=`` (checked here too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "hashpivot"
MODULES = sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py"))
#: A parameter whose type is a number or an array of numbers carries a unit.
NUMERIC = re.compile(
    r"^\s*((list|tuple|sequence) of )?"
    r"(float|int|array_like|array|numpy\.ndarray|ndarray)\b(?! of (bool|str))"
)


def cli_aliases() -> set[str]:
    """Names of the shared ``Annotated[..., typer.Option(help=...)]`` aliases of the CLI."""
    names = set()
    for path in (PKG / "cli").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and "help=" in ast.unparse(node.value):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def is_command(node: ast.FunctionDef) -> bool:
    """A Typer command: decorated as one, or declaring its parameters as Typer options."""
    decorated = any(
        "command" in ast.unparse(d) or "callback" in ast.unparse(d) for d in node.decorator_list
    )
    typer_args = any(
        a.annotation is not None and "typer." in ast.unparse(a.annotation)
        for a in node.args.args + node.args.kwonlyargs
    )
    return decorated or typer_args


def undocumented(path: Path) -> list[str]:
    out = []
    aliases: set[str] | None = None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node) or ""
        if not doc:
            out.append(f"{node.name}: no docstring")
            continue
        args = [a.arg for a in node.args.args + node.args.kwonlyargs]
        if is_command(node):
            aliases = cli_aliases() if aliases is None else aliases
            for a in node.args.args + node.args.kwonlyargs:
                ann = ast.unparse(a.annotation) if a.annotation is not None else ""
                if a.arg != "ctx" and "help=" not in ann and ann not in aliases:
                    out.append(f"{node.name}({a.arg}): no help= on the option")
            continue
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


@pytest.mark.parametrize("module", MODULES)
def test_public_functions_document_parameters_with_units(module: str) -> None:
    assert undocumented(PKG / module) == []


def test_the_check_finds_a_missing_unit(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text(
        'def f(x, y):\n    """F.\n\n    Parameters\n    ----------\n    x : float\n'
        '        Power [MW].\n    y : float\n        A number.\n    """\n'
    )
    assert undocumented(bad) == ["f(y): no [unit]"]


def undocumented_methods(path: Path) -> list[str]:
    """Public methods and properties of every class without a docstring."""
    out = []
    for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if (
                isinstance(node, ast.FunctionDef)
                and not node.name.startswith("_")
                and not ast.get_docstring(node)
            ):
                out.append(f"{cls.name}.{node.name}")
    return out


@pytest.mark.parametrize("module", MODULES)
def test_public_methods_have_docstrings(module: str) -> None:
    assert undocumented_methods(PKG / module) == []


def test_the_check_finds_an_undocumented_command_option(tmp_path: Path) -> None:
    bad = tmp_path / "cli.py"
    bad.write_text(
        "@app.command()\ndef run(n: Annotated[int, typer.Option('--n')] = 1) -> None:\n"
        '    """Run."""\n'
    )
    assert undocumented(bad) == ["run(n): no help= on the option"]
