"""The packages import only downward and never in a circle (README, Architecture).

The import graph is built from the source with `ast`, counting every import statement wherever it
stands — at the top of a module, inside a function, under `if TYPE_CHECKING` — because an import
inside a function is still a dependency: it only hides a cycle until the function runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a module may import its own package and the packages before it, nothing after.
LAYERS = ("rules", "forms", "generators", "kinds", "storage", "jobs", "service")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {_module_name(p): p for layer in LAYERS for p in sorted((ROOT / layer).rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` stands for (the longest known prefix), or None for a library."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upward
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            # `from pkg import name` imports the submodule pkg.name when there is one.
            names += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return names


def import_graph() -> dict[str, dict[str, int]]:
    """module → {imported project module: line of the first such import}."""
    modules = project_modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges: dict[str, int] = {}
        for name, line in _imported_names(tree, module, path.name == "__init__.py"):
            target = _resolve(name, modules)
            if target is not None and target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    return [f"{module} (line {line}) imports {target}: {LAYERS[_layer(module)]} is below "
            f"{LAYERS[_layer(target)]}"
            for module, edges in sorted(graph.items())
            for target, line in sorted(edges.items())
            if _layer(target) > _layer(module)]


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(component)
    edges = [f"    {a} -> {b} (line {line})" for a in component for b, line in sorted(graph[a].items())
             if b in members]
    return "cycle among " + ", ".join(component) + ":\n" + "\n".join(edges)


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # storage.records and the monitoring batch import these only inside functions.
    assert "kinds.pipeline" in graph["storage.records"]
    assert "generators.monitoring" in graph["jobs.batchkinds.monitoring"]


def test_no_layer_imports_a_higher_one():
    problems = upward_imports(import_graph())
    assert not problems, "imports from a lower layer to a higher one:\n" + "\n".join(problems)


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "\n".join(_describe(c, graph) for c in found)


def test_the_checks_catch_what_they_should():
    graph = {"rules.a": {"forms.b": 3}, "forms.b": {"forms.c": 1}, "forms.c": {"forms.b": 2}}
    assert cycles(graph) == [["forms.b", "forms.c"]]
    assert upward_imports(graph) == ["rules.a (line 3) imports forms.b: rules is below forms"]
    assert _layer("service.api") > _layer("jobs.runner") > _layer("storage.db") > _layer("kinds")
