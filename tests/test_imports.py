"""The package's import graph: no circles, no private name imported across modules, and the
ledger free of the mining model. Walks the source with ``ast`` (no import side effects)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "hashpivot"


#: The tiers, from the ground up (docs/architecture.md): a module may import its own package and
#: anything on a lower tier, never a package beside it on the same tier nor anything above.
TIERS: dict[str, int] = {
    **dict.fromkeys(
        (
            "errors",
            "units",
            "_numba",
            "fmt",
            "workspace",
            "locations",
            "files",
            "version",
            "clock",
            "solver",
            "executor",
        ),
        0,
    ),
    "data": 1,
    **dict.fromkeys(("bitcoin", "finance", "ledger"), 2),
    **dict.fromkeys(("sites", "market"), 3),
    "config": 4,
    "dispatch": 5,
    "buildout": 6,
    "engine": 7,
    "reports": 8,
    "runs": 9,
    "api": 10,
    "cli": 11,
    "__init__": 12,  # the package's face (hashpivot.load_plan, run_plan …): nothing imports it
}


def module_name(path: Path) -> str:
    """``src/hashpivot/sites/kernel.py`` → ``sites.kernel``; a package's ``__init__`` → its name."""
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def graph() -> tuple[dict[str, set[str]], list[tuple[str, str, str]]]:
    """Module → the package modules it imports (anywhere in it, functions included; relative and
    absolute), and every ``from x import _name`` across modules."""
    paths = sorted(PKG.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    edges: dict[str, set[str]] = {}
    private = []
    for path in paths:
        name = module_name(path)
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
                elif node.module and node.module.split(".")[0] == "hashpivot":
                    mod = ".".join(node.module.split(".")[1:])
                else:
                    continue
                # ``from pkg import module`` and ``from module import name`` both import a module.
                for a in node.names:
                    sub = f"{mod}.{a.name}" if mod else a.name
                    targets.append(sub if sub in modules else mod)
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        if sub not in modules:
                            private.append((name, mod, a.name))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "hashpivot":
                        targets.append(".".join(a.name.split(".")[1:]))
            for target in targets:
                # A module's package __init__ runs first; record the edge to the module itself.
                if target in modules and target not in ("", name):
                    deps.add(target)
        edges[name] = deps
    return edges, private


def tier(module: str) -> int:
    return TIERS[module.split(".")[0]]


def upward_imports(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that point up the tiers, or sideways into another package on the same tier."""
    bad = []
    for mod, deps in edges.items():
        for dep in deps:
            same_package = mod.split(".")[0] == dep.split(".")[0]
            if not same_package and tier(dep) >= tier(mod) and tier(mod) > 0:
                bad.append((mod, dep))
            elif tier(mod) == 0 and not same_package and tier(dep) > 0:
                bad.append((mod, dep))
    return sorted(bad)


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


def test_every_package_has_a_tier() -> None:
    edges, _ = graph()
    assert sorted({m.split(".")[0] for m in edges} - set(TIERS)) == []


def test_imports_point_only_down_the_tiers() -> None:
    edges, _ = graph()
    assert upward_imports(edges) == []


def test_the_tier_check_finds_an_upward_import() -> None:
    edges = {"sites.mining": {"engine.run"}, "engine.run": {"sites.mining"}, "bitcoin.a": {}}
    assert upward_imports(edges) == [("sites.mining", "engine.run")]
    assert upward_imports({"finance.metrics": {"bitcoin.network"}}) == [
        ("finance.metrics", "bitcoin.network")
    ]


def test_no_private_names_across_modules() -> None:
    _, private = graph()
    assert private == []


def test_importing_the_ledger_does_not_import_the_mining_model() -> None:
    code = (
        "import sys, hashpivot.ledger.log, hashpivot.ledger.sha256_batch; "
        "print(sorted(m for m in sys.modules if 'hashpivot' in m))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "'hashpivot.ledger.log'" in loaded.stdout
    for heavy in ("sites", "market", "engine", "config", "dispatch"):
        assert f"'hashpivot.{heavy}" not in loaded.stdout, loaded.stdout


def test_every_code_folder_is_a_package() -> None:
    """A folder of modules without ``__init__.py`` imports as a namespace package from a source
    tree but is left out of the wheel (an ignore rule once hid ``runs/__init__.py``)."""
    folders = {p.parent for p in PKG.rglob("*.py") if "__pycache__" not in p.parts}
    assert (
        sorted(str(f.relative_to(PKG)) for f in folders if not (f / "__init__.py").exists()) == []
    )
