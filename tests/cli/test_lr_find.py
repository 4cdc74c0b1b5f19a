"""``python -m experiments lr-find`` on the real MNIST: the suggestions printed, JSON, a bad setting refused."""
from __future__ import annotations

import json

import pytest

from experiments.cli.entry import main


@pytest.mark.mnist
def test_command_line(mnist_dir, capsys):
    assert main(["lr-find", "--optimizer", "sgd", "--train-size", "3000", "--data-dir", mnist_dir]) == 0
    out = capsys.readouterr().out
    assert "suggested lr (steepest descent):" in out and "suggested lr (minimum / 10):" in out
    assert main(["lr-find", "--train-size", "3000", "--steps", "100", "--json", "--data-dir", mnist_dir]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert len(parsed["lrs"]) <= 100 and parsed["suggestion"] > 0
    assert main(["lr-find", "--lr", "-1"]) == 2
    assert "lr must be" in capsys.readouterr().err
