"""The one rounding of a shown number: every text and figure that shows a value formats it here.

Accuracies are shown in percent with two decimals (``acc_percent``) on every page, chart and command: they
were written at one decimal on some pages and two on others, so the same run read 80.0% on Train and 80.04%
on Sweep, and a reader took the difference for a difference. Figures put the same text in their hover (as
``customdata``) rather than Plotly's own ``%{y:.2%}``, which rounds half to even where the text rounds half up.

Apart from ``stats`` (which needs SciPy) so that the command line's start-up, which builds the report's
presets, stays light.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from experiments.i18n import percent_sign


def rounded(value: float, digits: int = 2) -> str:
    """``value`` to ``digits`` places, half up, after clearing float noise: the one rounding of a shown number.

    The mean of 68.38% and 68.39% is 68.38499999999999 in floating point: Python's format gave "68.38"
    while the chart showed 68.385 (read as 68.39). Rounding the value to 9 significant places first and
    then half up gives "68.39" from either float, so every text and figure that formats through here agrees.
    """
    if not math.isfinite(value):
        return str(value)
    clean = Decimal(f"{value:.9g}")
    return str(clean.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def percent_text(fraction: float, digits: int = 2) -> str:
    """A fraction as a percentage in the reader's language, e.g. 0.68385 -> "68.39%" / "68,39 %" (rounded
    once, by ``rounded``)."""
    return percent_sign(rounded(fraction * 100, digits))


MISSING = "-"


def acc_percent(fraction: float | None, missing: str = MISSING) -> str:
    """An accuracy (a fraction in [0, 1]) as ``"92.37%"``; ``missing`` when there is none (None or NaN)."""
    if fraction is None or not math.isfinite(fraction):
        return missing
    return percent_text(fraction)
