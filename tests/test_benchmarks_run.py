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
    out = bench("--contenders", "ours,floor", "--no-memory", "--no-runner", "--no-reproduction")
    assert "| 784-128-10 b64 |" in out and "Goals of issue 17" in out
    for goal in ("ours / floor", "per-layer statistics", "checkpoint every epoch"):
        line = next(line for line in out.splitlines() if goal in line and line.startswith("- "))
        assert "n/a" not in line or "JAX" in line or "PyTorch" in line, line  # measured, not skipped


def test_the_steps_table_prints(mnist_dir):
    out = bench("--steps")
    assert "| before | + fused Adam | + batch kernels | + threads by context | + uint8 pixels |" in out
