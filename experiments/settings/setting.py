"""One setting's declaration: what the user sees (label, help, widget) and how its value is parsed.

A ``Setting`` is attached once to a RunConfig field through ``setting(default, ...)`` (dataclass field
metadata); ``schema_of`` lists the fields with their settings, in declaration order, for the command line,
the sidebar, validation and legend labels to derive from.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from experiments.i18n import _
from experiments.settings.parsers import Choice, Parser

METADATA_KEY = "setting"


class Widget(StrEnum):
    """How the dashboard's sidebar shows a setting.

    Numbers are text boxes, not ``st.number_input``: a number box clamps or turns red on an out-of-range
    value while keeping the last valid one, so Train could queue a value other than the one shown. A text
    box holds exactly what was typed, and RunConfig's parse accepts or refuses it with a message.
    """

    TEXT = "text"              # a text box, parsed by the setting's parser
    CHOICE = "choice"          # a select box over the parser's choices
    LOG_SLIDER = "log_slider"  # a slider over ``Setting.options`` (log-spaced values)
    CHECKBOX = "checkbox"      # a check box (a YesNo setting)
    NONE = "none"              # not in the sidebar (command line and sweep specs only)


@dataclass(frozen=True)
class Setting:
    """Everything the interfaces know about one RunConfig field besides its name and default."""

    label_text: str        # the sidebar's label, in English (the catalog's msgid; ``label`` reads it translated)
    help_text: str         # the sidebar's tooltip and the CLI's help, in English (``help``: translated)
    parse: Parser          # user value -> typed value, or ConfigError
    short: str             # the name in legend labels, e.g. "batch" in "batch=64"
    widget: Widget = Widget.TEXT
    options: tuple[float, ...] = ()   # LOG_SLIDER: the values offered
    more: bool = False     # under the sidebar's "More settings"
    flag: str = ""         # the CLI flag; default "--" + the field name with dashes

    @property
    def label(self) -> str:
        """The sidebar's label in the current language."""
        return _(self.label_text)

    @property
    def help(self) -> str:
        """The tooltip and the CLI's help in the current language."""
        return _(self.help_text)

    def cli_flag(self, name: str) -> str:
        return self.flag or "--" + name.replace("_", "-")

    @property
    def choices(self) -> tuple[Any, ...]:
        """The values a CHOICE or LOG_SLIDER widget offers."""
        if isinstance(self.parse, Choice):
            return self.parse.choices
        return self.options

    @property
    def in_sidebar(self) -> bool:
        return self.widget is not Widget.NONE


@dataclass(frozen=True)
class SettingField:
    """A schema entry: field name, default value and its Setting."""

    name: str
    default: Any
    setting: Setting


def setting(default: Any, label: str, help: str, parse: Parser, short: str, **hints: Any) -> Any:
    """A dataclass field with ``default`` carrying its ``Setting`` (``hints``: widget, options, more, flag).

    ``label`` and ``help`` are English, marked for the catalog with ``N_``; they are read translated."""
    declared = Setting(label_text=label, help_text=help, parse=parse, short=short, **hints)
    return dataclasses.field(default=default, metadata={METADATA_KEY: declared})


def schema_of(cls: type) -> tuple[SettingField, ...]:
    """The fields of dataclass ``cls`` that carry a Setting, in declaration order."""
    return tuple(SettingField(f.name, f.default, f.metadata[METADATA_KEY])
                 for f in dataclasses.fields(cls) if METADATA_KEY in f.metadata)
