"""The hook through which nn's messages for a person (data and checkpoint errors) read in that person's language.

nn knows nothing of languages and imports nothing from the layers above. The few messages it writes for a person
to read (``nn.data``'s DataError, ``nn.checkpoint``'s CheckpointError, which the lab shows as they are) are
written in English and marked with ``_()`` for the lab's catalog (``babel.cfg`` reads those files); the layer that
knows the language installs its translator here (``set_translator``; the lab's ``experiments.i18n`` does on
import), and until then a message reads as written.
"""
from __future__ import annotations

from collections.abc import Callable

_translator: Callable[[str], str] = str


def set_translator(translate: Callable[[str], str]) -> None:
    """Word nn's messages through ``translate`` (a gettext-like function: English text in, text out), read at
    the moment each message is written, so each reads in the language of that moment."""
    global _translator
    _translator = translate


def _(message: str) -> str:
    """``message`` through the installed translator (itself until one is installed)."""
    return _translator(message)
