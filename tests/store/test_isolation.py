"""The test suite never touches the user's run store: every test gets a temporary RESULTS_DB, and a guard
fails the whole session if anything under results/ was created or changed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from experiments.store import DEFAULT_DB, RunStore
from tests.conftest import ROOT


def test_every_test_gets_a_temporary_store(tmp_path):
    assert os.environ.get("RESULTS_DB"), "RESULTS_DB is not set for this test"
    path = Path(os.environ["RESULTS_DB"])
    assert path.is_relative_to(tmp_path) and not path.is_relative_to(DEFAULT_DB.parent)
    store = RunStore()  # what the command line and the dashboard open when given no --db
    assert store.path == path
    store.close()


def test_subprocesses_inherit_the_temporary_store(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('RESULTS_DB', ''))"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert Path(out.stdout.strip()).is_relative_to(tmp_path)


def test_the_session_fails_when_a_test_writes_under_results(tmp_path):
    """A copy of this conftest guards a scratch project whose one test writes into its results/."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "results").mkdir()
    (project / "results" / "README.md").write_text("kept\n")
    shutil.copy(ROOT / "tests" / "conftest.py", project / "tests" / "conftest.py")
    (project / "tests" / "__init__.py").write_text("")
    (project / "tests" / "test_leak.py").write_text(
        "from pathlib import Path\n\n"
        "def test_passes_but_leaks():\n"
        "    (Path(__file__).resolve().parent.parent / 'results' / 'runs.sqlite').write_text('x')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    leak = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                          capture_output=True, text=True, env=env, timeout=120)
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "1 passed" in leak.stdout and "created runs.sqlite" in leak.stdout
    (project / "results" / "runs.sqlite").unlink()
    (project / "tests" / "test_leak.py").write_text("def test_clean():\n    pass\n")
    clean = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                           capture_output=True, text=True, env=env, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
