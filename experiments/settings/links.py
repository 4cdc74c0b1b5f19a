"""Shareable links: the run settings, the page and the teacher's lock/hide flags as a URL query string.

Derived from RunConfig's schema like the CLI and the sidebar: every setting shown in the sidebar is one
query parameter named after its field (``lr=0.1&optimizer=sgd&hidden=128``), written as a user would type
it. ``lock=lr,optimizer`` disables those controls, ``hide=l2`` leaves them out, ``page=compare`` names the
page, ``exercise=ID`` tags the runs queued from the link with that exercise (for the teacher's
leaderboard), ``lang=es`` opens it in that language (``lock=lang`` keeps it there). Reading a link never
fails: each bad or unknown parameter becomes a one-line notice and the valid rest applies (``lr=abc`` or
``lr=1e9`` keep the default learning rate and say why).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from experiments import i18n
from experiments.config import ConfigError, RunConfig, schema
from experiments.i18n import _
from experiments.settings.parsers import quote

PAGE, LOCK, HIDE, EXERCISE, LANG = "page", "lock", "hide", "exercise", "lang"
FLAGS = (PAGE, LOCK, HIDE, EXERCISE, LANG)
MAX_EXERCISE_ID = 30  # "exercise:" + id fits a run tag (40 characters)


def linked_settings() -> tuple[str, ...]:
    """The settings a link carries: those with a sidebar widget, in schema order."""
    return tuple(e.name for e in schema() if e.setting.in_sidebar)


def lockable() -> tuple[str, ...]:
    """What ``lock=`` may name: the linked settings and the language switch (``lang``)."""
    return (*linked_settings(), LANG)


@dataclass(frozen=True)
class LinkState:
    """What a link asks for: typed setting values (only the valid ones), flags, and one notice per problem."""

    values: dict[str, Any] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    page: str | None = None
    notices: tuple[str, ...] = ()
    exercise: str = ""
    language: str | None = None   # the offered language ``lang=`` names (None: the link names none)


def link_keys() -> tuple[str, ...]:
    """Every query parameter a link owns (the settings and the flags); pages may keep others of their own."""
    return (*linked_settings(), *FLAGS)


def read_link(params: Mapping[str, str], pages: Collection[str], others: Collection[str] = (),
              exercises: Collection[str] | None = None) -> LinkState:
    """Parse a link's query parameters; ``pages`` are the valid page names, ``others`` parameters that pages
    keep for themselves (e.g. Train's ``runs``), neither applied nor noticed here; ``exercises`` the ids of
    the exercises that exist (a link's ``exercise=`` tags runs for the teacher's leaderboard, so an id that is
    well formed but names no exercise is ignored with a notice; None: not checked)."""
    notices: list[str] = []
    values: dict[str, Any] = {}
    known = linked_settings()
    entries = {e.name: e for e in schema()}
    for key, raw in params.items():
        if key in FLAGS or key in others:
            continue
        if key not in known:
            notices.append(_("The link's parameter {name} is not a setting and was ignored.").format(name=quote(key)))
            continue
        try:
            values[key] = entries[key].setting.parse(key, raw)
        except ConfigError as exc:
            notices.append(_("The link's {name} was not applied: {reason}.").format(name=key, reason=exc))
    _check_together(values, notices)
    locked = _names(params.get(LOCK, ""), LOCK, notices, lockable())
    hidden = _names(params.get(HIDE, ""), HIDE, notices, linked_settings())
    page = _page(params.get(PAGE), pages, notices)
    exercise = _exercise(params.get(EXERCISE, ""), notices)
    if exercise and exercises is not None and exercise not in exercises:
        notices.append(_("The link's exercise {exercise} is not one of this class's exercises and was ignored.").format(
            exercise=quote(exercise)))
        exercise = ""
    return LinkState(values, locked, hidden, page, tuple(notices), exercise, _language(params.get(LANG), notices))


def _language(tag: str | None, notices: list[str]) -> str | None:
    if tag is None:
        return None
    code = i18n.supported(tag)
    if code is None:
        notices.append(_("The link's language {tag} is not offered; choose one of {codes}.").format(
            tag=quote(tag), codes=", ".join(i18n.LANGUAGES)))
    return code


def is_exercise_id(text: str) -> bool:
    """Letters, digits, '_' and '-' only, at most MAX_EXERCISE_ID characters (it becomes a run tag)."""
    return 0 < len(text) <= MAX_EXERCISE_ID and all(c.isascii() and (c.isalnum() or c in "_-") for c in text)


def _exercise(text: str, notices: list[str]) -> str:
    if text and not is_exercise_id(text):
        notices.append(_("The link's exercise {id} is not an exercise id and was ignored.").format(id=quote(text)))
        return ""
    return text


def _check_together(values: dict[str, Any], notices: list[str]) -> None:
    """Cross-setting checks (e.g. the batch larger than the training set): the link's values are dropped."""
    try:
        RunConfig.from_dict(values)
    except ConfigError as exc:
        notices.append(_("The link's settings do not fit together and were not applied: {reason}.").format(
            reason=exc))
        values.clear()


def _names(text: str, flag: str, notices: list[str], allowed: tuple[str, ...]) -> frozenset[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        notices.append(_("The link's {flag}= names no setting {name}; it was ignored.").format(
            flag=flag, name=quote(unknown[0])))
    return frozenset(n for n in names if n in allowed)


def _page(name: str | None, pages: Collection[str], notices: list[str]) -> str | None:
    if name is None:
        return None
    if name not in pages:
        notices.append(_("The link's page {name} does not exist; choose one of {pages}.").format(
            name=quote(name), pages=", ".join(pages)))
        return None
    return name


def setting_text(name: str, value: Any) -> str:
    """A setting's value as it goes into a link (typed values as a user would write them; text as typed)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)  # all digits: a link restores the value exactly (%g would round 0.00012345678)
    entry = next(e for e in schema() if e.name == name)
    return entry.setting.parse.to_text(value)


def write_link(values: Mapping[str, Any], page: str | None = None, locked: Collection[str] = (),
               hidden: Collection[str] = (), exercise: str = "", language: str | None = None) -> dict[str, str]:
    """The query parameters of a link showing these setting values (typed or as typed), page, flags and
    language (written only when one is given)."""
    params = {name: setting_text(name, values[name]) for name in linked_settings() if name in values}
    if page:
        params[PAGE] = page
    for flag, names in ((LOCK, locked), (HIDE, hidden)):
        if names:
            params[flag] = ",".join(n for n in lockable() if n in set(names))
    if exercise:
        params[EXERCISE] = exercise
    if language:
        params[LANG] = language
    return params


def config_link(config: RunConfig, page: str | None = None, locked: Collection[str] = (),
                hidden: Collection[str] = (), exercise: str = "") -> dict[str, str]:
    """The query parameters of a link to ``config``."""
    return write_link({n: getattr(config, n) for n in linked_settings()}, page, locked, hidden, exercise)

