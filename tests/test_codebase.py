"""The codebase checks its own shape: complexity, the layers' seams, import circles, modules cut by concept.

DEVELOPERS.md sets the limits: no function above cyclomatic complexity 15 (radon's count, which also
counts boolean operators); ``nn/`` knows nothing of storage or UI and ``experiments/`` nothing of Streamlit;
no module imports itself back through others when it is loaded. Files and functions have no length limit:
a module is as long as its one concept needs (splitting one to meet a count scattered its concept), so
no module may say it was split off to keep another short.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("nn", "experiments", "ui")
MAX_COMPLEXITY = 15


def _sources() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [*files, ROOT / "dashboard.py", ROOT / "serve.py"]


def test_no_function_is_too_complex():
    offenders = [f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
                 for path in _sources() for block in cc_visit(path.read_text())
                 if block.complexity > MAX_COMPLEXITY]
    assert not offenders, offenders


SPLIT_FOR_LENGTH = ("length limit", "line limit", "under the limit", "stays under", "kept apart so")


def test_no_module_exists_only_to_split_another():
    """What the old limits produced: a module (or mixin) "kept apart so store.py stays under the length
    limit". Its text says so; a module cut by concept never does."""
    offenders = [f"{p.relative_to(ROOT)}: {phrase!r}" for p in _sources() for phrase in SPLIT_FOR_LENGTH
                 if phrase in p.read_text().lower()]
    assert not offenders, offenders


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("nn", {"experiments", "ui", "streamlit", "sqlite3", "pandas", "plotly"}),
    ("experiments", {"ui", "streamlit"}),
])
def test_layers_import_only_downwards(package, forbidden):
    offenders = [f"{p.relative_to(ROOT)} imports {sorted(_imports(p) & forbidden)}"
                 for p in (ROOT / package).rglob("*.py") if _imports(p) & forbidden]
    assert not offenders, offenders


# ------------------------------------------------------------------------------------------- import circles
def _module_name(path: Path) -> str:
    """``experiments/cli/entry.py`` -> ``experiments.cli.entry``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _loading_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is loaded: not those inside functions (lazy, run when
    called) nor under ``if TYPE_CHECKING:`` (never run); those in if/else, try, with and class bodies do."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            found += ([] if _is_type_checking(node.test) else _loading_imports(node.body))
            found += _loading_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                found += _loading_imports(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            found += _loading_imports(node.body)
    return found


def _import_graph() -> dict[str, set[str]]:
    """Each module of nn/, experiments/ and ui/ -> the project's modules it imports when it is loaded."""
    paths = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}

    def ours(name: str) -> str | None:  # the module itself, or the package that holds the imported name
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str | None] = set()
        for node in _loading_imports(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets |= {ours(alias.name) for alias in node.names}
                continue
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            targets |= {ours(f"{base}.{alias.name}") or ours(base) for alias in node.names}
        graph[name] = {t for t in targets if t and t != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per group of modules that import each other (a strongly connected component, Tarjan's
    algorithm), as the path ``a -> b -> ... -> a`` from its first module in alphabetical order."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            group = set()
            while not group or module not in group:
                group.add(stack.pop())
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return [_path_around(graph, group) for group in groups]


def _path_around(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest path from the group's first module back to itself, inside the group (breadth first)."""
    start = min(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(graph[module] & group):
                if target == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target not in came_from:
                    came_from[target] = module
                    following.append(target)
        frontier = following
    raise AssertionError(f"no circle through {start}")  # a strongly connected group always has one


def test_the_import_circle_finder_finds_and_names_a_circle():
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    assert sorted(_circles(graph)) == [["a", "b", "c", "a"], ["e", "e2", "e"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import lazy_a\n"
                     "def f():\n    import lazy_b\ntry:\n    import eager\nexcept ImportError:\n    pass\n")
    assert [a.name for node in _loading_imports(tree.body) for a in node.names] == ["TYPE_CHECKING", "eager"]


def test_no_module_imports_itself_back():
    """A circle works only while the modules happen to load in one order, and hides which one is the base.
    Imports inside functions are left out: they run later, when the modules are loaded whichever way."""
    circles = _circles(_import_graph())
    assert not circles, [" -> ".join(circle) for circle in circles]


def test_only_the_program_imports_the_command_line_entry():
    """The command modules import ``experiments.cli.common``, never the entry, not even inside a function:
    the entry imported the sub-commands lazily and they imported its helpers back, a circle the check above
    does not see."""
    program = ROOT / "experiments" / "__main__.py"
    offenders = []
    for path in [*_sources(), *(ROOT / "benchmarks").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if "experiments.cli.entry" in names and path != program:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
