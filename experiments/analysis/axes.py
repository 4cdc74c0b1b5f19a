"""How a setting is laid out on an axis: categories, a linear scale or a log scale, decided by RunConfig's schema.

The learning rate and L2 are declared with log-scale sliders, so they get log axes (the request users of
MLflow, Aim and TensorBoard keep making); choices and layer widths are categories; other numbers are linear,
or log when they span two decades or more (batch sizes 16 to 1024). A log axis cannot show 0 (L2 = 0 turns
weight decay off): such a value is placed one decade below the smallest positive one and labelled "0".
Importance, slice and contour plots all use this one layout, so they agree.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from experiments.config import setting_of
from experiments.settings.parsers import Choice, Widths
from experiments.settings.setting import Widget

LOG_SPAN = 100.0  # numbers whose largest / smallest reaches this get a log axis


class AxisKind(StrEnum):
    CATEGORICAL = "categorical"
    LINEAR = "linear"
    LOG = "log"


@dataclass(frozen=True)
class Axis:
    """A setting's axis: its kind, each run's position on it, and for categories their order."""

    name: str
    kind: AxisKind
    positions: list[Any]          # numbers on the axis (LOG: the raw values, zero replaced) or category text
    categories: list[str]
    zero_at: float | None = None  # LOG: where a 0 is drawn

    @property
    def numeric(self) -> bool:
        return self.kind is not AxisKind.CATEGORICAL


def axis_for(name: str, values: Sequence[Any]) -> Axis:
    """The axis of setting ``name`` for these values (one per run)."""
    parse = setting_of(name).parse
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if isinstance(parse, (Choice, Widths)) or not numbers:
        texts = [str(v) for v in values]
        order = sorted(set(texts), key=_category_order)
        return Axis(name, AxisKind.CATEGORICAL, texts, order)
    floats = [float(v) for v in values]
    positive = [v for v in floats if v > 0]
    if not _log_scale(name, floats, positive):
        return Axis(name, AxisKind.LINEAR, floats, [])
    zero_at = min(positive) / 10 if len(positive) < len(floats) else None
    return Axis(name, AxisKind.LOG, [v if v > 0 else zero_at for v in floats], [], zero_at)


def _log_scale(name: str, floats: Sequence[float], positive: Sequence[float]) -> bool:
    """Log for settings declared with a log slider, or numbers that span LOG_SPAN and are all positive."""
    if not positive:
        return False
    if setting_of(name).widget is Widget.LOG_SLIDER:
        return True
    return len(positive) == len(floats) and max(floats) / min(floats) >= LOG_SPAN


def _category_order(text: str) -> tuple[float, str]:
    """Widths such as "64" or "128-64" by total units, then alphabetically; other text alphabetically."""
    parts = text.split("-")
    if all(p.isdigit() for p in parts):
        return float(sum(int(p) for p in parts)), text
    return math.inf, text
