"""One way to write an accuracy in percent, on every page, chart and command: two decimals ("92.37%").

Accuracies were written at one decimal on some pages and two on others, so the same run read 80.0% on Train
and 80.04% on Sweep; a reader took the difference for a difference. Every accuracy shown as text goes
through ``acc_percent``, every chart's hover and bar text through ``ACC_HOVER`` / ``acc_percent``.
"""
from __future__ import annotations

import math

ACC_DECIMALS = 2
MISSING = "-"
ACC_FORMAT = f".{ACC_DECIMALS}%"  # Python's and Plotly's (d3) format for a fraction shown in percent


def acc_percent(fraction: float | None, missing: str = MISSING) -> str:
    """An accuracy (a fraction in [0, 1]) as ``"92.37%"``; ``missing`` when there is none (None or NaN)."""
    if fraction is None or not math.isfinite(fraction):
        return missing
    return f"{fraction:{ACC_FORMAT}}"


def acc_hover(axis: str = "y") -> str:
    """A Plotly hover template field for an accuracy on ``axis``, e.g. ``%{y:.2%}``."""
    return f"%{{{axis}:{ACC_FORMAT}}}"
