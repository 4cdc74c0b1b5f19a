"""The one rounding of a shown number: accuracies in percent, two decimals, on every page, chart and command."""
from __future__ import annotations

import math
import re
from pathlib import Path

from experiments.analysis.rounding import acc_percent, percent_text

ROOT = Path(__file__).resolve().parents[2]
# an f-string field that formats an accuracy as a percent by itself, e.g. {run.test_acc:.1%} or {acc:.2%}
OWN_PERCENT = re.compile(r"\{[^{}\n]*acc[^{}\n]*:[^{}\n]*%\}")


def test_an_accuracy_has_two_decimals_and_a_missing_one_a_dash():
    assert acc_percent(0.9237) == "92.37%"
    assert acc_percent(0.8) == "80.00%"
    assert acc_percent(1.0) == "100.00%"
    assert acc_percent(None) == "-" and acc_percent(math.nan) == "-" and acc_percent(None, "") == ""
    assert acc_percent(0.68385) == percent_text(0.68385) == "68.39%"  # half up, as every figure's hover text


def test_no_page_chart_or_command_formats_an_accuracy_in_percent_by_itself():
    """Train wrote 80.0% where Sweep wrote 80.04% for the same run: every accuracy goes through acc_percent."""
    offenders = []
    for path in sorted([*ROOT.glob("ui/*.py"), *ROOT.glob("experiments/**/*.py"), ROOT / "dashboard.py"]):
        if path.name == "rounding.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OWN_PERCENT.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
