"""The epoch benchmark still runs end to end on a sliver of MNIST (its timings are not checked here: timing
goals live in benchmarks/, never in tests), so a change to the product cannot silently break it."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.mnist


def bench(*args: str) -> str:
    done = subprocess.run([sys.executable, "benchmarks/bench_epoch.py", "--repeats", "1", "--fraction", "0.02",
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_headline_table_and_goals_print(mnist_dir):
    out = bench("--contenders", "ours,floor", "--epochs", "2", "--no-memory", "--no-load", "--no-long-run",
                "--no-reproduction")
    assert "| 784-128-10 b64 |" in out and "Goals of issue 21" in out
    for goal in ("ours / floor", "ours (runner) / bare train_config", "per-layer statistics", "checkpoint every epoch"):
        line = next(line for line in out.splitlines() if goal in line and line.startswith("- "))
        assert "n/a" not in line or "JAX" in line or "PyTorch" in line, line  # measured, not skipped


def test_the_steps_table_prints(mnist_dir):
    out = bench("--steps")
    assert "| BLAS 2 threads, whole | BLAS 1 thread, whole | blocks, 1 worker | blocks, 2 workers |" in out
    assert "| flushed |" in out and "| kept |" in out


def test_the_class_server_benchmark_prints_its_rounds(mnist_dir):
    done = subprocess.run([sys.executable, "benchmarks/bench_class_server.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for row in ("| alone |", "| hog just queued |", "| hog training |"):
        assert row in done.stdout, done.stdout
    assert "max delay ratio" in done.stdout and "load after" in done.stdout
