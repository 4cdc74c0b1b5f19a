"""The codebase checks its own shape: complexity, function length, and the layers' seams.

DEVELOPERS.md sets the limits: no function above cyclomatic complexity 15 (radon's count, which also
counts boolean operators), none over 60 lines without a one-line reason in its docstring ("Long: ...");
``nn/`` knows nothing of storage or UI and ``experiments/`` nothing of Streamlit. Files have no length
limit: a module is as long as its one concept needs (splitting one to meet a count scatters the concept).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("nn", "experiments", "ui")
MAX_COMPLEXITY = 15
MAX_FUNCTION_LINES = 60


def _sources() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [*files, ROOT / "dashboard.py"]


def test_no_function_is_too_complex():
    offenders = [f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
                 for path in _sources() for block in cc_visit(path.read_text())
                 if block.complexity > MAX_COMPLEXITY]
    assert not offenders, offenders


def test_long_functions_say_why():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and "Long:" not in (ast.get_docstring(node) or ""):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
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
