"""What the README and the CLI say ASHA prunes on is what the Ray engine reports to it: validation accuracy."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from experiments.cli.entry import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_says_asha_prunes_on_validation_accuracy():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if "ASHA" in line]
    assert lines
    assert not [line for line in lines if re.search(r"\bon test accuracy", line)], lines
    assert any("validation accuracy" in line for line in lines)


def test_the_asha_flag_help_names_validation_accuracy(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["sweep", "--help"])
    assert "validation accuracy" in " ".join(capsys.readouterr().out.split())
