"""Resume and Continue buttons for a stored run (Train's progress rows, History), and the checkpoint-size note.

Only for a run the session may change (its own; any for the teacher or a laptop), and checked again where
the work is queued (``experiments/run_actions.py``). Both queue work, so both call ``common.first_click``
first; a request that cannot be met (see experiments/runs/lifecycle.py) shows its one-line reason and changes nothing.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from experiments import run_actions
from experiments.access import NotAllowed
from experiments.config import MAX_EPOCHS, RunConfig
from experiments.i18n import _, decimal
from experiments.runs.checkpoints import estimated_checkpoint_bytes
from experiments.runs.lifecycle import can_continue, can_resume
from experiments.store import RunRecord, StoreError
from ui import common

LARGE_CHECKPOINT = 100e6  # bytes: from here on, say how much disk each run's checkpoint takes
DEFAULT_MORE = 5


def checkpoint_note(config: RunConfig) -> str:
    """A sentence on the disk a run of ``config`` keeps for its checkpoint, "" when it is small."""
    size = estimated_checkpoint_bytes(config)
    if size < LARGE_CHECKPOINT:
        return ""
    return _("Each run of this network keeps a checkpoint of about {size} (weights and optimizer state, rewritten "
             "after every epoch) so that it can be resumed or continued; deleting the run in History deletes "
             "it.").format(size=_megabytes(size))


def _megabytes(size: float) -> str:
    return f"{decimal(size / 1e9, 1)} GB" if size >= 1e9 else f"{decimal(size / 1e6, 0)} MB"


def resume_button(run: RunRecord, column: Any, key: str) -> None:
    """A Resume button for a run that ended early: it goes on from its last finished epoch, in the same run."""
    if not can_resume(run) or not common.identity().may_change(run.student):
        return
    if column.button(_("Resume"), key=f"{key}_resume_{run.id}", icon=":material/replay:",
                     help=_("Go on from epoch {done} to {planned}, appending to this run (the result equals a run "
                            "trained without the break).").format(done=run.epochs_done, planned=run.planned_epochs)):
        if not common.first_click("resume run", run.id):
            return
        _queue(lambda: run_actions.resume(common.manager(), common.identity(), run.id), run,
               _("Run {id} not resumed: {reason}"))


def continue_control(run: RunRecord, column: Any, key: str) -> None:
    """Continue (a popover: how many more epochs) for a finished run, appending to it."""
    if not can_continue(run) or not common.identity().may_change(run.student):
        return
    room = MAX_EPOCHS - run.epochs_done
    if room < 1:
        return
    with column.popover(_("Continue"), icon=":material/more_time:", help=_("Train this finished run for more epochs"),
                        key=f"{key}_continue_popover_{run.id}"):
        more = st.number_input(_("More epochs"), min_value=1, max_value=room, value=min(DEFAULT_MORE, room), step=1,
                               key=f"{key}_more_{run.id}")
        if st.button(_("Train {n} more").format(n=int(more)), key=f"{key}_continue_{run.id}",
                     icon=":material/play_arrow:"):
            if not common.first_click("continue run", (run.id, int(more))):
                return
            _queue(lambda: run_actions.continue_run(common.manager(), common.identity(), run.id, int(more)),
                   run, _("Run {id} not continued: {reason}"))


def _queue(action: Any, run: RunRecord, refusal: str) -> None:
    """Queue the run again; watch it on the Train page; its one-line ``refusal`` ({id}, {reason}) otherwise."""
    try:
        plan = action()
    except (StoreError, NotAllowed) as exc:  # ResumeError, "there is no run N", another's run alike
        st.error(refusal.format(id=run.id, reason=common.message_text(exc)), icon=":material/block:")
        return
    watched = st.session_state.setdefault("watched", [])
    if run.id not in watched:
        watched.append(run.id)
    st.toast(_("Run {id} queued: epochs {first}-{last}").format(id=run.id, first=plan.from_epoch + 1,
                                                                 last=plan.config.epochs), icon=":material/schedule:")
    st.rerun()
