"""The package's import graph: no circles, no private name imported across modules, and the
ledger free of the mining model. Walks the source with ``ast`` (no import side effects)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "hashpivot"


def graph() -> tuple[dict[str, set[str]], list[tuple[str, str, str]]]:
    """Module → the package modules it imports (anywhere in it, functions included), and every
    ``from .x import _name`` across modules."""
    modules = {p.stem for p in PKG.glob("*.py")}
    edges: dict[str, set[str]] = {}
    private = []
    for path in PKG.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                    private += [
                        (path.stem, node.module, a.name)
                        for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")
                    ]
                else:
                    deps.update(a.name for a in node.names)
        edges[path.stem] = (deps & modules) - {path.stem}
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_circles() -> None:
    edges, _ = graph()
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_private_names_across_modules() -> None:
    _, private = graph()
    assert private == []


def test_importing_the_ledger_does_not_import_the_mining_model() -> None:
    code = "import sys, hashpivot.ledger; print(sorted(m for m in sys.modules if 'hashpivot' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    for heavy in ("hashpivot.kernels", "hashpivot.mining", "hashpivot.plan", "hashpivot.scenarios"):
        assert f"'{heavy}'" not in loaded.stdout, loaded.stdout
