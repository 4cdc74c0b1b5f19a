"""Every action that changes a run, checked against who is acting: stop, pause, unpause, resume, continue,
rename, tag, note, delete, export.

Why a layer of its own, below the pages: hiding a button protects nothing (a student who types
``/train?runs=3`` or a forged widget event still reaches the code behind it), so the check sits where the
action happens, and the pages call only these functions with the session's ``Identity``. Each checks
``Identity.may_change`` against the run's owner (``runs.student``) before anything changes, and refuses in
one line (``access.NotAllowed``). A laptop's user (``LOCAL_USER``) and the teacher may change every run; a
student only their own. The run manager and the store keep their plain methods for the CLI (a laptop's
user) and the runner's own work.

Exercise tags (``exercise:<id>``) rank runs on the teacher's leaderboard, so only the exercise flow sets them
(the Exercises page's queue, a link of an exercise that exists): the tag editor refuses to add or remove one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from experiments.access import Identity, NotAllowed, require_change
from experiments.i18n import _
from experiments.runs.lifecycle import ResumePlan
from experiments.runs.runner import RunManager
from experiments.store import RunRecord, RunStore
from experiments.store.export import export_csv as _export_csv
from experiments.store.records import clean_tags

EXERCISE_TAG_PREFIX = "exercise:"


def owned(store: RunStore, identity: Identity, run_id: int, verb: str) -> RunRecord:
    """The run, if ``identity`` may ``verb`` it; otherwise ``NotAllowed`` (``RunNotFoundError`` if none)."""
    run = store.get_run(run_id)
    require_change(identity, run.id, run.student, verb)
    return run


def stop(manager: RunManager, identity: Identity, run_id: int) -> None:
    owned(manager.store, identity, run_id, "stop")
    manager.stop(run_id)


def pause(manager: RunManager, identity: Identity, run_id: int) -> None:
    owned(manager.store, identity, run_id, "pause")
    manager.pause(run_id)


def unpause(manager: RunManager, identity: Identity, run_id: int) -> None:
    owned(manager.store, identity, run_id, "unpause")
    manager.unpause(run_id)


def resume(manager: RunManager, identity: Identity, run_id: int) -> ResumePlan:
    owned(manager.store, identity, run_id, "resume")
    return manager.resume_run(run_id)


def continue_run(manager: RunManager, identity: Identity, run_id: int, more_epochs: int) -> ResumePlan:
    owned(manager.store, identity, run_id, "continue")
    return manager.continue_run(run_id, more_epochs)


def exercise_tags(tags: Iterable[str]) -> set[str]:
    return {t for t in tags if t.lower().startswith(EXERCISE_TAG_PREFIX)}


def _checked_tags(run: RunRecord, tags: Iterable[str] | str) -> list[str]:
    """The new tags, refused in one line if they add or drop an exercise tag (see the module docstring)."""
    new = clean_tags(tags)
    added, dropped = exercise_tags(new) - set(run.tags), exercise_tags(run.tags) - set(new)
    if added or dropped:
        tag = sorted(added or dropped)[0]
        raise NotAllowed(_("the tag {tag} is set by the exercise itself: it cannot be added or removed here").format(
            tag=repr(tag)))
    return new


def edit(store: RunStore, identity: Identity, run_id: int, name: str, tags: Iterable[str] | str, notes: str) -> None:
    """Rename, retag and annotate one run (all three checked before any is written)."""
    run = owned(store, identity, run_id, "edit")
    store.edit_run(run_id, name, _checked_tags(run, tags), notes)


def rename(store: RunStore, identity: Identity, run_id: int, name: str) -> None:
    owned(store, identity, run_id, "rename")
    store.rename(run_id, name)


def set_tags(store: RunStore, identity: Identity, run_id: int, tags: Iterable[str] | str) -> None:
    run = owned(store, identity, run_id, "tag")
    store.set_tags(run_id, _checked_tags(run, tags))


def set_notes(store: RunStore, identity: Identity, run_id: int, notes: str) -> None:
    owned(store, identity, run_id, "annotate")
    store.set_notes(run_id, notes)


def delete(manager: RunManager, identity: Identity, run_ids: Sequence[int]) -> None:
    """Delete runs (stopping any still training): every one is checked before the first is deleted, so a
    refused run leaves the others too."""
    for run_id in run_ids:
        owned(manager.store, identity, run_id, "delete")
    for run_id in run_ids:
        progress = manager.progress(run_id)
        if progress is not None and progress.active:
            manager.stop(run_id)
        manager.store.delete_run(run_id)


def export_csv(store: RunStore, identity: Identity, run_ids: Sequence[int], epochs: bool = False) -> str:
    """CSV of runs ``identity`` may export (its own; every run for the teacher or a laptop's user)."""
    for run_id in run_ids:
        owned(store, identity, run_id, "export")
    return _export_csv(store, list(run_ids), epochs=epochs)


def changeable(identity: Identity, runs: Iterable[RunRecord]) -> list[RunRecord]:
    """The runs among ``runs`` that ``identity`` may change (and export)."""
    return [r for r in runs if identity.may_change(r.student)]


def visible(identity: Identity, others_visible: bool, run: RunRecord) -> bool:
    """Whether ``identity`` may look at ``run``: its own, or anyone's when the teacher lets students see the
    class's runs (``ClassSettings.others_visible``), or any run for the teacher and a laptop's user."""
    return others_visible or identity.may_change(run.student)


__all__ = ["NotAllowed", "owned", "stop", "pause", "unpause", "resume", "continue_run", "edit", "rename",
           "set_tags", "set_notes", "delete", "export_csv", "changeable", "visible", "exercise_tags"]
