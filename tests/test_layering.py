"""Layering: the framework (`research/`) never imports a strategy package, and no two framework modules import
each other, directly or round a longer cycle.

The import graph is read from the source (the AST), not by importing: every `import` and `from ... import`
counts, at module level or inside a function, since a function-level import is still a dependency (it only
moves the moment it bites). Imports under `if TYPE_CHECKING:` do not count: they never run, and they are how
a module names a type it is handed without depending on the module that builds it. A relative import counts
as the module it names; `from package import name` counts as the submodule `package.name` when there is one,
else as the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK = "research"
#: Packages the framework must not import (it finds strategies by package *name*: `research.registry`).
FORBIDDEN = ("strategies",)


def modules(root: Path = ROOT, package: str = FRAMEWORK) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package `__init__`) for every module of `package`."""
    out = {}
    for f in sorted((root / package).rglob("*.py")):
        parts = list(f.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def imported(tree: ast.Module, module: str, is_pkg: bool) -> list[tuple[str, int]]:
    """(imported dotted name, line) of every import in `tree` that runs, at any depth; `from p import n` gives
    "p.n", and `importlib.import_module("name")` with a literal name counts as an import too."""
    base = module if is_pkg else module.rpartition(".")[0]
    out: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level:
                pkg = base
                for _ in range(node.level - 1):
                    pkg = pkg.rpartition(".")[0]
                name = f"{pkg}.{node.module}" if node.module else pkg
            out.extend((f"{name}.{a.name}", node.lineno) for a in node.names)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
            out.append((node.args[0].value, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], list[str]]:
    """(module -> the framework modules it imports, forbidden imports as "module:line imports name")."""
    mods = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    forbidden: list[str] = []
    for m, (path, is_pkg) in mods.items():
        for name, line in imported(ast.parse(path.read_text(), str(path)), m, is_pkg):
            top = name.split(".")[0]
            if top in FORBIDDEN:
                forbidden.append(f"{m}:{line} imports {name}")
            if top != FRAMEWORK:
                continue
            target = name  # the longest prefix that is a module: `from p import n` is p.n, or p for a name
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != m:
                graph[m].add(target)
    return graph, sorted(set(forbidden))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def describe(graph: dict[str, set[str]], comp: list[str]) -> str:
    members = set(comp)
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & members))}" for m in comp)


def test_the_framework_never_imports_a_strategy_package():
    _, forbidden = import_graph()
    assert not forbidden, ("research/ must not import a strategy package (find strategies by name through "
                           "research.registry; move shared helpers into research/):\n" + "\n".join(forbidden))


def test_no_import_cycles_in_the_framework():
    graph, _ = import_graph()
    found = cycles(graph)
    assert not found, "import cycles (move the shared piece to where both can import it):\n" + "\n".join(
        describe(graph, c) for c in found)


def test_the_checker_sees_cycles_and_forbidden_imports(tmp_path):
    """The checks can fail: a two-module cycle through a function-level import, a longer one through a relative
    import, and a strategy import are all found; a TYPE_CHECKING import is not a dependency."""
    pkg = tmp_path / FRAMEWORK
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from research.b import x\n")
    (pkg / "b.py").write_text("def f():\n    from research import a\n")
    (pkg / "sub" / "c.py").write_text("from ..sub import d\n")
    (pkg / "sub" / "d.py").write_text("from research.sub.e import y\n")
    (pkg / "sub" / "e.py").write_text("import research.sub.c\nimport strategies\n")
    (pkg / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                  "    from research.user import T\n")
    (pkg / "user.py").write_text("from research.typed import U\n")
    graph, forbidden = import_graph(tmp_path)
    assert cycles(graph) == [["research.a", "research.b"], ["research.sub.c", "research.sub.d", "research.sub.e"]]
    assert forbidden == ["research.sub.e:2 imports strategies"]
    assert "research.user" not in graph["research.typed"]


def test_the_registry_finds_strategies_in_packages_named_by_configuration(tmp_path, monkeypatch):
    """Dependency inversion: the framework knows strategy packages by name; another package joins by name, a
    name clash and a package that cannot be imported are clear errors."""
    import pytest

    from research import registry
    from research.errors import ConfigError

    pkg = tmp_path / "team_strategies"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "_helpers.py").write_text("X = 1\n")
    (pkg / "always_spy.py").write_text(
        "import pandas as pd\nfrom research.strategy import Strategy\n\n"
        "def weights(data):\n    return pd.DataFrame({'SPY': 1.0}, index=data.index[:1])\n\n"
        "STRATEGY = Strategy('always_spy', 'SPY beats cash.', ('price:SPY',), {}, weights=weights, mode='timing')\n")
    (pkg / "clash.py").write_text("from strategies.leverage_regime import STRATEGY\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    shipped = set(registry.registry())
    try:
        registry.set_packages(["strategies", "team_strategies"])
        with pytest.raises(ConfigError, match="two strategies are named 'leverage_regime'"):
            registry.registry()
        (pkg / "clash.py").unlink()
        registry.set_packages(["strategies", "team_strategies"])
        assert set(registry.registry()) == shipped | {"always_spy"}
        assert registry.get("always_spy").mode == "timing" and not registry.is_shipped(registry.get("always_spy"))
        registry.set_packages(["no_such_strategy_package"])
        with pytest.raises(ConfigError, match="'no_such_strategy_package' is not importable"):
            registry.registry()
    finally:
        registry.set_packages([registry.SHIPPED])
    assert set(registry.registry()) == shipped and registry.packages() == ("strategies",)
