"""The project's imports follow the data flow: collectors -> store -> controls -> reports.

Read from the source (ast), so nothing is imported to check it:
- no import cycle among module-level imports (a function-level import is a lazy one,
  kept to start fast or to reach "up" at run time, and is not an edge of a cycle);
- no module imports an underscore-prefixed name from another project module;
- collectors never import controls or reports, controls never import collectors or
  reports, reports never import collectors (lazy imports included: "never" is never).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Source directory -> the package it installs as (pyproject.toml's package-dir).
PACKAGES = {
    "auditpack": "auditpack",
    "collectors": "auditpack.collectors",
    "controls": "auditpack.controls",
    "reports": "auditpack.reports",
    "lab/auditpack_lab": "auditpack_lab",
}

LAYER_RULES = {  # modules under the key never import a module under any of the values
    "auditpack.collectors": ("auditpack.controls", "auditpack.reports"),
    "auditpack.controls": ("auditpack.collectors", "auditpack.reports"),
    "auditpack.reports": ("auditpack.collectors",),
    "auditpack": ("auditpack_lab",),  # the product never needs the demo lab: an audit machine installs it without
}


@dataclass(frozen=True)
class Import:
    importer: str
    module: str  # the project module imported (a package's __init__ included)
    names: tuple[str, ...]  # the names taken from it by `from module import ...`
    line: int
    lazy: bool  # inside a function: runs when called, not when the module loads


def project_modules() -> dict[str, Path]:
    found = {}
    for directory, package in PACKAGES.items():
        for path in sorted((ROOT / directory).rglob("*.py")):
            parts = path.relative_to(ROOT / directory).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = project_modules()


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def absolute(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if is_package(importer) else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(node: ast.AST, lazy: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, lazy
        elif isinstance(child, ast.If) and is_type_checking(child):
            continue  # never runs
        else:
            yield from import_nodes(child, lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))


def imports_of(importer: str) -> Iterator[Import]:
    tree = ast.parse(MODULES[importer].read_text(), str(MODULES[importer]))
    for node, lazy in import_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    yield Import(importer, alias.name, (), node.lineno, lazy)
            continue
        source = absolute(importer, node)
        if source not in MODULES:
            continue
        names = tuple(a.name for a in node.names)
        taken = tuple(n for n in names if f"{source}.{n}" not in MODULES)
        if taken or not names:
            yield Import(importer, source, taken, node.lineno, lazy)
        for name in names:
            if f"{source}.{name}" in MODULES:  # `from package import module`
                yield Import(importer, f"{source}.{name}", (), node.lineno, lazy)


def private_attributes(importer: str) -> Iterator[tuple[str, str, int]]:
    """`module._name` where `module` is a project module bound by an import: as private as importing `_name`."""
    tree = ast.parse(MODULES[importer].read_text(), str(MODULES[importer]))
    bound: dict[str, str] = {}
    for node, _ in import_nodes(tree):
        if isinstance(node, ast.Import):
            bound.update({a.asname: a.name for a in node.names if a.asname and a.name in MODULES})
        else:
            source = absolute(importer, node)
            bound.update({a.asname or a.name: f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in MODULES})
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and is_private(node.attr)
        ):
            yield bound[node.value.id], node.attr, node.lineno


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


ALL_IMPORTS = [imp for module in MODULES for imp in imports_of(module)]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit on a deep chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(component)
    return found


def test_the_source_is_read():
    assert {
        "auditpack.runner",
        "auditpack.collectors.transports.ssh",
        "auditpack.controls.evaluators.t_fwp",
        "auditpack.reports.html",
    } <= set(MODULES)
    assert any(
        i.importer == "auditpack.collectors.ssh" and i.module == "auditpack.collectors.transports.ssh" for i in ALL_IMPORTS
    )


def test_no_import_cycle_among_module_level_imports():
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for imp in ALL_IMPORTS:
        if not imp.lazy and imp.module != imp.importer:
            graph[imp.importer].add(imp.module)
    cycles = [sorted(c) for c in strongly_connected(graph)]
    assert cycles == []


def test_no_underscore_name_is_imported_from_another_module():
    private = [
        f"{i.importer}:{i.line} takes {name} from {i.module}"
        for i in ALL_IMPORTS
        for name in i.names
        if is_private(name) and i.module != i.importer
    ]
    private += [
        f"{module}:{line} reads {source}.{name}"
        for module in MODULES
        for source, name, line in private_attributes(module)
        if source != module
    ]
    assert private == []


def test_layers_import_only_along_the_data_flow():
    def under(module: str, package: str) -> bool:
        return module == package or module.startswith(package + ".")

    crossing = [
        f"{i.importer}:{i.line} imports {i.module}"
        for i in ALL_IMPORTS
        for layer, forbidden in LAYER_RULES.items()
        if under(i.importer, layer) and any(under(i.module, f) for f in forbidden)
    ]
    assert crossing == []


def test_the_cycle_finder_and_the_private_name_rule_on_made_up_cases():
    assert [sorted(c) for c in strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})] == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []
    assert is_private("_x") and not is_private("__version__") and not is_private("x")
