"""The one rounding of a shown number: every text and figure that shows a value formats it here.

Apart from ``stats`` (which needs SciPy) so that the command line's start-up, which builds the report's
presets, stays light.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


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
    """A fraction as a percentage, e.g. 0.68385 -> "68.39%" (rounded once, by ``rounded``)."""
    return f"{rounded(fraction * 100, digits)}%"
