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
    return (f"Each run of this network keeps a checkpoint of about {_megabytes(size)} (weights and optimizer "
            f"state, rewritten after every epoch) so that it can be resumed or continued; deleting the run in "
            f"History deletes it.")


def _megabytes(size: float) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def resume_button(run: RunRecord, column: Any, key: str) -> None:
    """A Resume button for a run that ended early: it goes on from its last finished epoch, in the same run."""
    if not can_resume(run) or not common.identity().may_change(run.student):
        return
    if column.button("Resume", key=f"{key}_resume_{run.id}", icon=":material/replay:",
                     help=f"Go on from epoch {run.epochs_done} to {run.planned_epochs}, appending to this run "
                          f"(the result equals a run trained without the break)."):
        if not common.first_click("resume run", run.id):
            return
        _queue(lambda: run_actions.resume(common.manager(), common.identity(), run.id), run, "resumed")


def continue_control(run: RunRecord, column: Any, key: str) -> None:
    """Continue (a popover: how many more epochs) for a finished run, appending to it."""
    if not can_continue(run) or not common.identity().may_change(run.student):
        return
    room = MAX_EPOCHS - run.epochs_done
    if room < 1:
        return
    with column.popover("Continue", icon=":material/more_time:", help="Train this finished run for more epochs"):
        more = st.number_input("More epochs", min_value=1, max_value=room, value=min(DEFAULT_MORE, room), step=1,
                               key=f"{key}_more_{run.id}")
        if st.button(f"Train {int(more)} more", key=f"{key}_continue_{run.id}", icon=":material/play_arrow:"):
            if not common.first_click("continue run", (run.id, int(more))):
                return
            _queue(lambda: run_actions.continue_run(common.manager(), common.identity(), run.id, int(more)),
                   run, "continued")


def _queue(action: Any, run: RunRecord, verb: str) -> None:
    """Queue the run again; watch it on the Train page; its one-line refusal otherwise."""
    try:
        plan = action()
    except (StoreError, NotAllowed) as exc:  # ResumeError, "there is no run N", another's run alike
        st.error(f"Run {run.id} not {verb}: {common.message_text(exc)}", icon=":material/block:")
        return
    watched = st.session_state.setdefault("watched", [])
    if run.id not in watched:
        watched.append(run.id)
    st.toast(f"Run {run.id} queued: epochs {plan.from_epoch + 1}-{plan.config.epochs}", icon=":material/schedule:")
    st.rerun()
