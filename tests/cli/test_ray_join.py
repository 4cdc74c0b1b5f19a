"""The README's Ray recipe against a real ``ray start --head`` with Ray's default (token) authentication
(``ray_head`` in tests/conftest.py): with the head's token the sweep runs on the cluster; without it, with a
wrong one, or at an address where no head answers, the command says so in one line naming the address and
exits 2, well within 30 seconds (the deadline of each call), with nothing stored.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from experiments.store import RunStore
from tests.conftest import ROOT
from tests.ray_head import free_port

pytestmark = [pytest.mark.ray, pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                 reason="Ray is not installed: pip install -r requirements-ray.txt")]
SPEC = """
name = "on the cluster"
engine = "ray"
[base]
epochs = 1
train_size = 2000
hidden = "16"
[grid]
lr = [0.01, 0.001]
"""


def sweep(tmp_path, address: str, timeout: float, **token: str) -> subprocess.CompletedProcess:
    """``python -m experiments sweep`` on Ray at ``address`` from a machine whose only token is the given
    ``RAY_AUTH_TOKEN``/``RAY_AUTH_TOKEN_PATH`` (its home has no ~/.ray/auth_token)."""
    spec = tmp_path / "sweep.toml"
    spec.write_text(SPEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH") and k != "RAY_ADDRESS"}
    env.update(HOME=str(tmp_path), RAY_USAGE_STATS_ENABLED="0", **token)
    return subprocess.run([sys.executable, "-m", "experiments", "--db", str(tmp_path / "runs.sqlite"), "sweep",
                           str(spec), "--engine", "ray", "--address", address], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def refused(done: subprocess.CompletedProcess, address: str, *words: str) -> str:
    """The one line of a refused join (exit 2, naming the address and the cause), and nothing stored."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
    assert address in lines[0] and all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.mark.mnist
def test_the_recipe_runs_a_sweep_on_a_head_with_token_authentication(tmp_path, ray_head, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    done = sweep(tmp_path, ray_head.address, 600, RAY_AUTH_TOKEN_PATH=str(ray_head.token_file))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "InvalidAuthToken" not in done.stderr
    runs = RunStore(tmp_path / "runs.sqlite").search_runs()
    assert sorted(r.status for r in runs) == ["finished", "finished"] and all(r.epochs_done == 1 for r in runs)


def test_a_machine_without_the_token_is_told_in_one_line(tmp_path, ray_head):
    line = refused(sweep(tmp_path, ray_head.address, 30), ray_head.address, "requires its token", "none")
    assert "auth_token" in line
    assert not (tmp_path / "runs.sqlite").exists() or not RunStore(tmp_path / "runs.sqlite").search_runs()


def test_a_wrong_token_is_told_in_one_line(tmp_path, ray_head):
    refused(sweep(tmp_path, ray_head.address, 30, RAY_AUTH_TOKEN="0" * 64), ray_head.address,
            "refused this machine's token", "RAY_AUTH_TOKEN")


def test_an_address_where_no_head_answers_is_told_in_one_line(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    refused(sweep(tmp_path, address, 30), address, "no Ray head answers")


def test_an_address_without_a_port_is_told_in_one_line(tmp_path):
    refused(sweep(tmp_path, "head-without-port", 30), "head-without-port", "HOST:PORT")
