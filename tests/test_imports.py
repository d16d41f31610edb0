"""The generators package composes explicitly: its import graph has no cycle, counting imports inside functions
too (a lazy import cannot hide a cycle), and nothing registers itself into another module by being imported.

Edges are read with ``ast`` from the source: every ``import``/``from ... import`` anywhere in a module (top level,
functions, branches) that names a ``generators`` module, plus the packages Python runs on the way (importing
``generators.a.b`` runs ``generators/a/__init__.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generators"


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """module -> the generators modules it imports (anywhere in its code)."""
    mods = modules()

    def closest(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(m, path.name == "__init__.py", node)
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for name in names:
                if not name.startswith("generators"):
                    continue
                target = closest(name)
                if target is None:
                    continue
                parts = target.split(".")
                for i in range(1, len(parts) + 1):  # the packages Python runs on the way, then the module
                    t = ".".join(parts[:i])
                    if t != m and not m.startswith(t + "."):
                        edges[m].add(t)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_generators_import_graph_has_no_cycle():
    edges = import_graph()
    assert len(edges) > 80 and sum(map(len, edges.values())) > 200  # the walk sees the package
    found = cycles(edges)
    assert not found, "import cycles (function-level imports included):\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_lazy_import_cycle():
    """The same walk on a graph where a function-level import closes a loop reports it."""
    edges = import_graph()
    edges["generators.promql"] = edges["generators.promql"] | {"generators.render"}
    assert any({"generators.promql", "generators.render"} <= set(c) for c in cycles(edges))


def test_packages_run_no_generator_code_on_import():
    """A package ``__init__`` imports nothing but its explicit list (kinds, checks; cli imports its command
    modules by name, they import it back for the shared helpers): so importing one submodule never pulls in
    its siblings behind the caller's back."""
    allowed = {"generators.kinds": "the explicit list of kinds", "generators.checks": "the explicit list of checks",
               "generators.cli": "one module per command"}
    for name, path in modules().items():
        if path.name != "__init__.py" or name in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                   and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
        assert not imports, f"{path.relative_to(ROOT)} imports modules"


def test_no_generators_module_is_imported_by_a_computed_name():
    """``importlib.import_module`` would hide an edge from the walk above: only the CLI's command table imports
    generators modules that way; the operator models import optional third-party packages (heavy, not ours)."""
    from generators.kubernetes import operator_models

    allowed = {"generators.cli", "generators.kubernetes.operator_models"}
    assert not [m for m, _ in operator_models.MODELS.values() if m.startswith(("generators", "."))]
    for name, path in modules().items():
        if "import_module(" in path.read_text(encoding="utf-8"):
            assert name in allowed, f"{name} imports a module by a computed name"


def test_kinds_import_nothing_from_their_own_package():
    """Kind modules import only from outside generators.kinds, so its explicit list cannot form a cycle."""
    for name, edges in import_graph().items():
        if name.startswith("generators.kinds."):
            inside = sorted(e for e in edges if e == "generators.kinds" or e.startswith("generators.kinds."))
            assert not inside, f"{name} imports {inside}"


def test_render_lists_its_generators_and_nothing_registers_into_it():
    from generators import render

    for name in ("FILE_GENERATORS", "KUBERNETES_GENERATORS", "CATALOG_GENERATORS"):
        assert isinstance(getattr(render, name), tuple), f"render.{name} must be a fixed, explicit tuple"
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for registry in ("GENERATORS.append", "GENERATORS +=", "PROVIDERS.append", "STEPS.append", "register("):
            assert registry not in text, f"{path.relative_to(ROOT)} registers into a list by side effect ({registry})"
