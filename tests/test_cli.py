"""The headless command line, run as a real subprocess."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "experiments", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args,message", [
    (["--lr", "0"], "lr must be"),
    (["--hidden", "128,,x"], "hidden layers"),
    (["--optimizer", "lbfgs"], "optimizer must be one of"),
    (["--batch-size", "-3"], "batch_size"),
    (["--epochs", "1000000000"], "epochs"),
    (["--hidden", "1e2"], "hidden layer width must be"),
    (["--hidden", "9" * 5083], "(5083 characters)"),
    (["--epochs", "-5", "--batch-size", "99999999"], "epochs must be a whole number from 1 to 1000 (got '-5'); "
                                                     "batch_size must be"),
])
def test_invalid_settings_exit_nonzero_with_one_line_before_training(args, message):
    proc = run_cli("run", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""  # no epoch ran
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and len(proc.stderr) < 300


@pytest.mark.mnist
def test_json_mode_prints_one_object_per_epoch(mnist_dir):
    proc = run_cli("run", "--hidden", "32", "--epochs", "2", "--train-size", "2000", "--json",
                   env={"MNIST_DIR": mnist_dir})
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert {"train_loss", "train_acc", "test_loss", "test_acc", "seconds", "lr"} <= set(lines[0])


def test_missing_data_is_a_one_line_message(tmp_path):
    proc = run_cli("run", "--epochs", "1", env={"MNIST_DIR": str(tmp_path / "none")})
    assert proc.returncode == 2 and "MNIST_DIR" in proc.stderr and "Traceback" not in proc.stderr
