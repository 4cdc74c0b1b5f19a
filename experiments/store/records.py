"""What the run store hands out (RunRecord) and what it accepts (user text checked, statuses parsed).

A stored config that this version cannot read (a setting from a newer version, a hand-edited row) is kept
as unreadable: ``config`` is None and ``config_error`` says why. It is never replaced by ``RunConfig()``
defaults, which would show and export settings the run never had.
"""
from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from experiments.config import ConfigError, RunConfig
from experiments.i18n import N_, _
from experiments.store.best import EpochSummary, SummaryBy
from experiments.store.errors import StoreError
from nn.status import RunStatus

STATUSES: tuple[RunStatus, ...] = tuple(RunStatus)
# full_train_*: one pass over the whole training set after the epoch (only on the epochs a run asked for;
# train_acc is the running accuracy over the epoch's batches while the weights were still changing).
# val_*: on the validation split (None for runs without one, e.g. every run stored before it existed).
# Losses are cross-entropies; l2_penalty is the L2 term of the objective (runs stored before schema 4 had it
# inside their losses and leave it empty).
EPOCH_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "seconds", "elapsed",
                 "lr", "majority_fraction", "dead_fraction", "full_train_loss", "full_train_acc", "l2_penalty")
SETTINGS = tuple(f.name for f in fields(RunConfig))
MAX_NAME = 200
MAX_NOTES = 10_000
MAX_MESSAGE = 2000
MAX_TAGS = 20
MAX_TAG = 40
MAX_STUDENT = 60
UNREADABLE_NOTE = "settings unreadable"
# The texts ``clean_text`` checks, named with their article for its refusals (marked for the catalog).
TEXT_NAMES = {"run name": N_("the run name"), "notes": N_("the notes"), "tag": N_("the tag"),
              "student name": N_("the student name"), "search text": N_("the search text"),
              "exercise id": N_("the exercise id"), "message": N_("the message")}


# Where a run came from (its stored ``source``, a code like its status), in words where a page shows it; "cli" is
# the program's name in every language.
SOURCE_WORDS = {"dashboard": N_("dashboard"), "notebook": N_("notebook"), "sweep": N_("sweep"),
                "insights": N_("insights"), "exercise": N_("exercise")}


def source_word(source: str) -> str:
    """A run's source in the current language ("dashboard" / "panel"); "cli" or an unknown one as stored."""
    return _(SOURCE_WORDS[source]) if source in SOURCE_WORDS else source


def _text_name(what: str) -> str:
    """``what`` with its article, in the current language ("the run name")."""
    return _(TEXT_NAMES[what]) if what in TEXT_NAMES else f"the {what}"


@dataclass
class RunRecord:
    """One stored run: its settings, state and summary metrics: those of its last finished epoch, and of its
    best epoch by validation (``best_*`` and ``*_at_best``; None without validation). ``best_test_acc`` is the
    highest test accuracy of any epoch, kept from older versions: an epoch chosen by it was chosen on test."""

    id: int
    name: str
    created: str
    config: RunConfig | None  # None: the stored settings cannot be read by this version (see config_error)
    status: RunStatus
    message: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    group_id: str | None = None
    source: str = ""
    student: str = ""        # the classroom name of the student who queued it ("" outside a class)
    epochs_done: int = 0
    train_loss: float | None = None
    train_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    best_test_acc: float | None = None
    seconds: float | None = None
    val_loss: float | None = None
    val_acc: float | None = None
    best_epoch: int | None = None
    best_val_loss: float | None = None
    best_val_acc: float | None = None
    train_loss_at_best: float | None = None
    train_acc_at_best: float | None = None
    test_loss_at_best: float | None = None
    test_acc_at_best: float | None = None
    config_error: str = ""  # why ``config`` is None; "" when it was read

    @property
    def planned_epochs(self) -> int:
        """The epochs the run was asked for (its finished ones when the settings are unreadable)."""
        return self.config.epochs if self.config is not None else self.epochs_done

    @property
    def has_validation(self) -> bool:
        """Whether the run holds out a validation set (by its settings; by its epochs when unreadable)."""
        return self.config.val_size > 0 if self.config is not None else self.val_acc is not None

    def summary(self, by: SummaryBy = SummaryBy.BEST) -> EpochSummary:
        """The run's metrics at its best epoch (``by`` BEST) or its last; a run with no best epoch (no
        validation, or no epoch yet) is summarised by its last, and the summary says so."""
        if by is SummaryBy.BEST and self.best_epoch is not None:
            return EpochSummary(self.best_epoch, SummaryBy.BEST, self.train_loss_at_best, self.train_acc_at_best,
                                self.best_val_loss, self.best_val_acc, self.test_loss_at_best, self.test_acc_at_best)
        return EpochSummary(self.epochs_done or None, SummaryBy.LAST, self.train_loss, self.train_acc,
                            self.val_loss, self.val_acc, self.test_loss, self.test_acc)

    @property
    def settings_note(self) -> str:
        """One line for an unreadable config ("settings unreadable: ..."), "" for a readable one."""
        return f"{UNREADABLE_NOTE}: {self.config_error}" if self.config is None else ""

    def flat(self) -> dict[str, Any]:
        """Run fields plus one key per setting (tags a list; settings None when the config is unreadable).

        The shape of ``list --json`` and ``show --json``; the CSV export joins the tags into one cell.
        """
        d = asdict(self)
        d.pop("config")
        d["status"] = self.status.value
        if self.config is None:
            return {**d, **dict.fromkeys(SETTINGS)}
        settings = self.config.to_dict()
        settings["hidden"] = ",".join(map(str, self.config.hidden))
        return {**d, **settings}

    def to_json_dict(self) -> dict[str, Any]:
        """Run fields with the settings nested under "config" (None when unreadable): the JSON export's shape."""
        d = asdict(self)
        d["status"] = self.status.value
        d["config"] = self.config.to_dict() if self.config is not None else None
        return d


def record_from_row(row: Mapping[str, Any]) -> RunRecord:
    """A RunRecord from a ``runs`` row; an unreadable config is marked so, never defaulted."""
    d = dict(row)
    d.pop("owner", None)
    try:
        d["config"], d["config_error"] = RunConfig.from_stored(d["config"]), ""
    except (ConfigError, TypeError) as exc:
        d["config"], d["config_error"] = None, " ".join(str(exc).split())[:300]
    d["status"] = parse_status(d["status"])
    try:
        d["tags"] = [str(t) for t in json.loads(d["tags"] or "[]")]
    except (ValueError, TypeError):
        d["tags"] = []
    return RunRecord(**d)


def parse_status(status: str) -> RunStatus:
    """The RunStatus named by ``status``; a StoreError naming the known ones otherwise."""
    try:
        return RunStatus.parse(status)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def clean_text(value: Any, limit: int, what: str, strip: bool = False) -> str:
    """User text as stored: valid Unicode, no NUL characters, at most ``limit`` characters (counted after
    stripping surrounding spaces when ``strip``, so the space after a comma in "baseline, <40 characters>"
    does not count against a tag)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).replace("\x00", "")
    try:  # undecodable bytes of a command line (surrogateescape) become U+FFFD, as bytes do above
        text = text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    except UnicodeEncodeError:  # other lone surrogates
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    if strip:
        text = text.strip()
    if len(text) > limit:
        raise StoreError(_("{what} is too long ({n} characters; at most {limit})").format(
            what=_text_name(what), n=len(text), limit=limit))
    return text


ALLOWED_FORMAT = frozenset("\u200c\u200d")  # zero-width (non-)joiners: part of emoji and of Persian or Indic words
LINE_BREAKS = frozenset("\n\r\t")


def hidden_characters(text: str, multiline: bool = False) -> list[str]:
    """The invisible characters of ``text`` that may make it read as something else, as ``U+202E``: format
    characters (bidi overrides and isolates such as U+202E, which shows "exe.txt" for "txt.exe", zero-width
    spaces, soft hyphens; not the joiners emoji need) and control characters (line breaks and tabs only
    where ``multiline``). Empty when the text shows what it is."""
    allowed = LINE_BREAKS if multiline else frozenset()
    found = [ch for ch in text if ch not in allowed and ch not in ALLOWED_FORMAT
             and unicodedata.category(ch) in ("Cf", "Cc")]
    return [f"U+{ord(ch):04X}" for ch in dict.fromkeys(found)]


def clean_shown_text(value: Any, limit: int, what: str, *, strip: bool = False, multiline: bool = False) -> str:
    """Text a user types that others are shown (run names, tags, notes): ``clean_text``, and refused (one line)
    when it holds a character that hides what it says (``hidden_characters``), as student names are."""
    text = clean_text(value, limit, what, strip=strip)
    hidden = hidden_characters(text, multiline)
    if hidden:
        raise StoreError(_("{what} holds invisible control characters ({characters}): remove them; nothing was "
                           "changed").format(what=_text_name(what), characters=", ".join(hidden[:5])))
    return text


def clean_notes(notes: Any) -> str:
    """A run's notes as stored: several lines allowed, no other hidden characters."""
    return clean_shown_text(notes, MAX_NOTES, "notes", multiline=True)


def clean_name(name: Any) -> str:
    """A run name as stored: cleaned, stripped, one line without hidden characters, not empty."""
    text = clean_shown_text(name, MAX_NAME, "run name", strip=True)
    if not text:
        raise StoreError(_("a run name cannot be empty"))
    return text


def clean_tags(tags: Any) -> list[str]:
    """Tags as stored: text is split at commas; each is stripped before its length is checked; blanks and
    duplicates are dropped."""
    if isinstance(tags, str):
        tags = tags.split(",")
    clean = list(dict.fromkeys(t for t in (clean_shown_text(t, MAX_TAG, "tag", strip=True) for t in tags) if t))
    if len(clean) > MAX_TAGS:
        raise StoreError(_("at most {max} tags per run (got {n})").format(max=MAX_TAGS, n=len(clean)))
    return clean



def clean_student(name: Any) -> str:
    """A classroom student name as stored: cleaned, stripped, one line, 1 to MAX_STUDENT characters.

    Markup such as ``<b>`` is allowed and kept literally: every page shows names as plain text.
    """
    text = clean_text(name, MAX_STUDENT, "student name", strip=True)
    if not text:
        raise StoreError(_("a student name cannot be empty"))
    if any(ch in text for ch in "\r\n\t") or not text.isprintable():
        raise StoreError(_("a student name must be one line of printable characters"))
    return text
