"""User values into typed settings: the one parse of text (CLI flags, sidebar boxes, sweep grids, stored
JSON) into a RunConfig field's value, or a one-line ``ConfigError`` naming the field and what is accepted.

Each parser also states what it accepts (``describe``), so error messages, the CLI help and the sidebar's
tooltips say the same range. Quoted user text is cut to ``QUOTE_CHARS`` characters: an error message
never repeats a pasted 5,000-character input whole.
"""
from __future__ import annotations

import math
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from experiments.i18n import _

QUOTE_CHARS = 40
# Plain ASCII digits: no '1e2', no full-width '１２８'. At most 30 of them: every cap is far below, and
# Python refuses to convert text of over 4,300 digits (a pasted wall of nines would raise ValueError).
_WHOLE = re.compile(r"[+-]?[0-9]{1,30}")
_DIGITS = re.compile(r"[0-9]{1,30}")
_YES_NO = {"yes": True, "true": True, "on": True, "1": True, "no": False, "false": False, "off": False, "0": False}


class ConfigError(ValueError):
    """An invalid setting; the message is meant for the user, as it is."""


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` on one line, cut to about ``limit`` characters with an ellipsis and the full length."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = _(" ({count} characters)").format(count=len(value)) if isinstance(value, str) else ""
    return f"{text[:limit]}…{size}"


class Parser(ABC):
    """Turns one user value into a setting's typed value, or raises ConfigError."""

    @abstractmethod
    def __call__(self, name: str, value: Any) -> Any:
        """The typed value of setting ``name``; ConfigError (one line, naming ``name``) if it is invalid."""

    @abstractmethod
    def describe(self) -> str:
        """What is accepted, as the end of "NAME must be ...", e.g. "a whole number from 1 to 1000"."""

    def to_text(self, value: Any) -> str:
        """The value as a user would type it (the sidebar's text boxes, the CLI's defaults)."""
        return f"{value:g}" if isinstance(value, float) else str(value)

    def refuse(self, name: str, value: Any) -> ConfigError:
        return ConfigError(_("{name} must be {accepted} (got {value})").format(
            name=name, accepted=self.describe(), value=quote(value)))


@dataclass(frozen=True)
class WholeNumber(Parser):
    """An int in [low, high]; text must be plain digits (an optional sign), a float must be whole."""

    low: int
    high: int

    def __call__(self, name: str, value: Any) -> int:
        number = _whole(value)
        if number is None or not self.low <= number <= self.high:
            raise self.refuse(name, value)
        return number

    def describe(self) -> str:
        return _("a whole number from {low} to {high}").format(low=self.low, high=self.high)


@dataclass(frozen=True)
class RealNumber(Parser):
    """A finite float between ``low`` and ``high``, each end included or not (by default (low, high]); text
    must be ASCII (no full-width digits)."""

    low: float
    high: float
    low_inclusive: bool = False
    high_inclusive: bool = True

    def __call__(self, name: str, value: Any) -> float:
        number = _real(value)
        if number is None or not self._inside(number):
            raise self.refuse(name, value)
        return number

    def _inside(self, number: float) -> bool:
        above = number >= self.low if self.low_inclusive else number > self.low
        below = number <= self.high if self.high_inclusive else number < self.high
        return math.isfinite(number) and above and below

    def describe(self) -> str:
        return _("a number {above} {low} and {below} {high}").format(
            above=">=" if self.low_inclusive else ">", low=f"{self.low:g}",
            below="<=" if self.high_inclusive else "<", high=f"{self.high:g}")


@dataclass(frozen=True)
class Choice(Parser):
    """One of a few names; text is compared without case and surrounding spaces."""

    choices: tuple[str, ...]

    def __call__(self, name: str, value: Any) -> str:
        text = value.strip().lower() if isinstance(value, str) else value
        if text not in self.choices:
            raise self.refuse(name, value)
        return str(text)

    def describe(self) -> str:
        return _("one of {choices}").format(choices=", ".join(self.choices))


@dataclass(frozen=True)
class YesNo(Parser):
    """A switch: True/False, or text yes/no, true/false, on/off, 1/0 (without case)."""

    def __call__(self, name: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in _YES_NO:
            raise self.refuse(name, value)
        return _YES_NO[text]

    def describe(self) -> str:
        return _("yes or no")

    def to_text(self, value: Any) -> str:
        return "yes" if value else "no"


@dataclass(frozen=True)
class FolderPath(Parser):
    """A folder path as text ("" for the default)."""

    def __call__(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.refuse(name, value)
        return value.strip()

    def describe(self) -> str:
        return _("a folder path (text)")


@dataclass(frozen=True)
class Widths(Parser):
    """Hidden-layer widths from text such as ``"128, 64"`` (or "none"/"" for no hidden layer) or a list.

    Entries are separated by commas and written in plain ASCII digits; an empty entry ("128,,64") is
    refused rather than dropped.
    """

    max_depth: int
    max_width: int

    def __call__(self, name: str, value: Any) -> tuple[int, ...]:
        items = self._items(value)
        if len(items) > self.max_depth:
            raise ConfigError(_("at most {depth} hidden layers are allowed (got {count})").format(
                depth=self.max_depth, count=len(items)))
        return tuple(self._width(item) for item in items)

    def _items(self, value: Any) -> Sequence[Any]:
        if isinstance(value, str):
            text = value.strip()
            if not text or text.lower() == "none":
                return []
            parts = [p.strip() for p in text.split(",")]
            if not all(parts):
                raise ConfigError(_("hidden layers must be widths separated by commas, such as '128, 64' "
                                    "(got {value})").format(value=quote(value)))
            return parts
        if isinstance(value, (list, tuple)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        raise ConfigError(_("hidden layers must be widths such as '128, 64' (got {value})").format(
            value=quote(value)))

    def _width(self, item: Any) -> int:
        width = (int(item) if _DIGITS.fullmatch(item) else None) if isinstance(item, str) else _whole(item)
        if width is None or not 1 <= width <= self.max_width:
            raise ConfigError(_("hidden layer width must be {accepted} (got {value}); write widths such as "
                                "'128, 64'").format(accepted=self.describe_width(), value=quote(item)))
        return width

    def describe_width(self) -> str:
        return _("a whole number from 1 to {width} in digits").format(width=self.max_width)

    def describe(self) -> str:
        return _("up to {depth} widths from 1 to {width}, separated by commas, or none").format(
            depth=self.max_depth, width=self.max_width)

    def to_text(self, value: Any) -> str:
        return ", ".join(map(str, value))


def _whole(value: Any) -> int | None:
    """``value`` as an int if it is one (plain-digit text, a whole float, an int-like), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if _WHOLE.fullmatch(text) else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    try:
        return operator.index(value)  # int, numpy integers
    except TypeError:
        return None


def _real(value: Any) -> float | None:
    """``value`` as a float if it is a number or ASCII numeric text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii():
            return None
        value = text
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None
