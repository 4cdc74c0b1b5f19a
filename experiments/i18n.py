"""The language a person reads the lab in: gettext catalogs (compiled by Babel), plural forms and numbers.

Every text a person reads is written in English in the code, wrapped in ``_()`` (or ``ngettext`` where a count
decides the form; ``N_`` marks a text kept in a table and translated where it is shown), and looked up in the
current language's catalog, ``experiments/locale/<language>/LC_MESSAGES/messages.po``. Babel extracts the
marked texts (``babel.cfg``) and compiles each ``.po`` into the ``.mo`` gettext reads; the ``.mo`` is not
committed but built here on first use when it is missing or older than its ``.po`` (``compile_catalogs``), so
``pip install -r requirements.txt`` and a start are enough. A text without a translation reads in English.

The current language is a context variable: each Streamlit script run (a thread of its own) and each
command-line process sets it (``set_language``) and every function below reads it; a thread that never set it
asks ``set_fallback``'s function (the dashboard's: the session's choice), else reads English.

Numbers are formatted for the language only where a person reads a result (``decimal``, ``percent_sign``,
``whole``): "92.37%" in English, "92,37 %" in Spanish. Setting values stay as they are typed (``0.001``), the
same in every language, since the same text goes into the sidebar's boxes, links and the command line.
"""
from __future__ import annotations

import argparse
import gettext
import io
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from pathlib import Path

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
ENGLISH = "en"
LANGUAGES = {"en": "English", "es": "Español"}  # each language named in itself (the switch shows these)
DEFAULT = ENGLISH
# The environment variables that name the command line's language, in gettext's order of precedence.
LANGUAGE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")

_current: ContextVar[str | None] = ContextVar("language", default=None)
_fallback: Callable[[], str | None] | None = None
_compile_lock = threading.Lock()


# ---------------------------------------------------------------------- choosing the language
def supported(tag: object) -> str | None:
    """The offered language a tag names ("es", "es-419", "es_CR.UTF-8", "EN" ...), or None if none."""
    if not isinstance(tag, str):
        return None
    code = tag.strip().replace("_", "-").split(".")[0].split("-")[0].lower()
    return code if code in LANGUAGES else None


def preferred(accept: str | None) -> str | None:
    """The first offered language in a browser's list ("es-CR,es;q=0.9,en;q=0.8", or one tag), else None.

    Entries are taken in their ``q`` order (highest first, the written order among equals).
    """
    ranked: list[tuple[float, int, str]] = []
    for index, entry in enumerate((accept or "").split(",")):
        tag, _sep, params = entry.partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, index, tag))
    for weight, _index, tag in sorted(ranked):
        if weight < 0 and (code := supported(tag)):
            return code
    return None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language from LC_ALL, LC_MESSAGES or LANG (the first one set); English otherwise."""
    env = os.environ if environ is None else environ
    for name in LANGUAGE_ENV:
        if env.get(name):
            return supported(env[name]) or DEFAULT
    return DEFAULT


def set_language(tag: str | None) -> str:
    """Make ``tag``'s language the current one in this context; an unknown tag gives English. Returns it."""
    code = supported(tag) or DEFAULT
    _current.set(code)
    return code


def language() -> str:
    """The current language: this context's, else the fallback's (``set_fallback``), else English."""
    code = _current.get()
    if code is None and _fallback is not None:
        code = supported(_fallback())
    return code or DEFAULT


def set_fallback(resolver: Callable[[], str | None] | None) -> None:
    """Where a context that never set its language asks for it (the dashboard: the browser session's choice,
    for a fragment's rerun, which runs only the fragment)."""
    global _fallback
    _fallback = resolver


@contextmanager
def using(tag: str | None) -> Iterator[str]:
    """Read in ``tag``'s language inside the block (tests, a report written in a given language)."""
    token = _current.set(supported(tag) or DEFAULT)
    try:
        yield language()
    finally:
        _current.reset(token)



# ---------------------------------------------------------------------- catalogs
def catalog_paths(code: str) -> tuple[Path, Path]:
    """The source catalog (.po) of a language and its compiled form (.mo) beside it."""
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def compile_catalogs(force: bool = False) -> list[Path]:
    """Compile every language's .po into its .mo when the .mo is missing or older (or ``force``); the files
    written. Babel reads and writes them (``babel.messages.pofile`` / ``mofile``); fuzzy entries are left out,
    as msgfmt does, so an unchecked translation reads in English."""
    written = []
    with _compile_lock:
        for code in LANGUAGES:
            po, mo = catalog_paths(code)
            if not po.exists() or (not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
                continue
            partial = mo.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(_compiled(po, code))
            partial.replace(mo)  # atomic: another process never reads half a catalog
            written.append(mo)
    _translations.cache_clear()
    return written


def _compiled(po: Path, code: str) -> bytes:
    """The .mo bytes of a .po (Babel), fuzzy entries left out."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    target = io.BytesIO()
    write_mo(target, catalog, use_fuzzy=False)
    return target.getvalue()


@cache
def _translations(code: str) -> gettext.NullTranslations:
    if code == ENGLISH:
        return gettext.NullTranslations()
    po, mo = catalog_paths(code)
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        try:
            compile_catalogs()
        except OSError:  # a read-only install: compile into memory instead
            return gettext.GNUTranslations(io.BytesIO(_compiled(po, code)))
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[code], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language (itself where the catalog has no translation)."""
    return _translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the current language ("1 epoch" / "2 epochs", "1 época" / "2 épocas")."""
    return _translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalog without translating it here (a table's entry, translated where shown)."""
    return message


# ---------------------------------------------------------------------- numbers
def _locale() -> str:
    return language()


def decimal(value: float, digits: int = 2, sign: bool = False) -> str:
    """``value`` with ``digits`` places in the current language ("97.81" / "97,81"; ``sign``: "+1.23").

    Python rounds (as the English text always did), then Babel writes the digits with the language's
    decimal mark; no grouping, so the English text is unchanged.
    """
    from babel.numbers import format_decimal

    text = f"{value:{'+' if sign else ''}.{digits}f}"
    if not Decimal(text).is_finite():
        return text
    places = "0" + ("." + "0" * digits if digits else "")
    pattern = f"+{places};-{places}" if sign else places
    return format_decimal(Decimal(text), format=pattern, locale=_locale())


def percent_sign(number: str) -> str:
    """A percentage already rounded and written by Python (``analysis.rounding``'s "92.37") in the current
    language: "92.37%" / "92,37 %". The rounding is done once, in ``rounding``, so every language shows the
    same digits; only the decimal mark and the sign's place change."""
    from babel import Locale
    from babel.numbers import format_percent

    value = Decimal(number)
    if not value.is_finite():
        return f"{number}%"
    digits = len(number.partition(".")[2])
    pattern = Locale.parse(_locale()).percent_formats[None].pattern
    places = "0" + ("." + "0" * digits if digits else "")
    return format_percent(value / 100, format=pattern.replace("#,##0", places), locale=_locale())


def whole(number: int) -> str:
    """A count with the language's grouping: "60,000" / "60.000"."""
    from babel.numbers import format_decimal

    return format_decimal(number, format="#,##0", locale=_locale())


def localized(text: str) -> str:
    """A number already written by Python (e.g. ``rounded``'s "97.81") with the language's decimal mark."""
    from babel.numbers import get_decimal_symbol

    mark = get_decimal_symbol(_locale())
    return text if mark == "." else text.replace(".", mark)


def _translate_nns_messages() -> None:
    """nn knows nothing of languages (it imports nothing from experiments): its data and checkpoint errors are
    marked for the catalog and worded through the translator installed here, in the language of the moment."""
    from nn import translation

    translation.set_translator(_)


_translate_nns_messages()


# ---------------------------------------------------------------------- a command line's language
def add_language_option(parser: argparse.ArgumentParser) -> None:
    """A command line's ``--lang`` option (its help lists it; ``choose_command_line_language`` reads it first)."""
    parser.add_argument("--lang", choices=tuple(LANGUAGES), default=None,
                        help=_("the language of messages and help (default: from LC_ALL, LC_MESSAGES or LANG, "
                               "else en)"))


def choose_command_line_language(argv: Sequence[str]) -> list[str]:
    """Set a command line's language before its parser is built (its help is written in it): ``--lang`` anywhere
    on the line, else the environment (``from_environment``); argparse's own words follow. Returns the arguments
    without ``--lang``."""
    early = argparse.ArgumentParser(add_help=False)
    add_language_option(early)
    known, rest = early.parse_known_args(list(argv))
    set_language(known.lang or from_environment())
    speak_argparse()
    return rest


# argparse words these through the names ``_`` and ``ngettext`` it imported from gettext (Python 3.11-3.13), in the
# process-wide gettext domain, which knows nothing of the lab's language; ``speak_argparse`` points those names at
# the lab's translator instead. Listed here so that Babel extracts them into the catalog; "%(name)s" is argparse's
# own formatting. Only the words this command line can show are listed (it opens no files through argparse and
# has no fixed nargs count); a Python whose argparse words them differently simply shows its English.
ARGPARSE_TEXTS = (
    N_("usage: "), N_("options"), N_("positional arguments"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("invalid %(type)s value: %(value)r"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("expected one argument"), N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"), N_("ignored explicit argument %r"),
)


def speak_argparse() -> None:
    """argparse's own words in the current language, from now on in this process (the command line's)."""
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]
