"""Resume a run that ended early, or continue a finished one for more epochs: the checks and the re-queueing.

Both go through the one execution path: the run is queued again (same id, same store rows) and
``execute_run(..., resume=True)`` loads its latest checkpoint and trains the epochs after it, appending to
the run. Training is a pure function of (config, seed, epoch) once the model and optimizer state are
restored, so a resumed run's history equals that of the same config trained without a break.

Every refusal is a ``ResumeError`` with one line, raised before anything is changed: a run that does not
exist, is still queued or running, finished (continue it instead), diverged, has unreadable settings, or
whose checkpoint is missing, truncated or of another network.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from experiments.config import MAX_EPOCHS, RunConfig
from experiments.runs.checkpoints import ResumeError, checked_meta, latest_path
from experiments.store import RunStore
from experiments.store.records import RunRecord
from nn.status import RunStatus

# Ended before their last epoch, for a reason that another try can get past.
RESUMABLE = frozenset({RunStatus.INTERRUPTED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.PRUNED})


@dataclass(frozen=True)
class ResumePlan:
    """A checked request to train a stored run further: the config to train (more epochs when continuing),
    the epoch its checkpoint reached (0: no epoch yet, train from the start) and the status it had."""

    run_id: int
    config: RunConfig
    from_epoch: int
    status: RunStatus


def can_resume(run: RunRecord) -> bool:
    """Whether a Resume button makes sense for this run (the full check is ``plan_resume``)."""
    return run.status in RESUMABLE and run.config is not None


def can_continue(run: RunRecord) -> bool:
    """Whether a Continue button makes sense for this run (the full check is ``plan_continue``)."""
    return run.status == RunStatus.FINISHED and run.config is not None


def plan_resume(store: RunStore, run_id: int, busy: Collection[int] = ()) -> ResumePlan:
    """Check that run ``run_id`` can resume from its last finished epoch (ResumeError, one line, if not).

    ``busy``: ids the caller's run manager is still working on (they are active whatever the store says).
    """
    run = store.get_run(run_id)  # RunNotFoundError: "there is no run N"
    config = _readable(run)
    if run.status.is_active or run_id in busy:
        raise ResumeError(f"run {run_id} is still {run.status}: stop it first, or wait for it to end")
    if run.status == RunStatus.FINISHED:
        raise ResumeError(f"run {run_id} has finished all its {config.epochs} epochs: continue it for more "
                          f"epochs instead (python -m experiments continue {run_id} --epochs N)")
    if run.status == RunStatus.DIVERGED:
        raise ResumeError(f"run {run_id} diverged: resumed, it would diverge again at the same point; train it "
                          f"again with a lower learning rate")
    if run.status not in RESUMABLE:
        raise ResumeError(f"run {run_id} is {run.status} and cannot be resumed")
    return ResumePlan(run_id, config, _checkpoint_epoch(store, run, config), run.status)


def plan_continue(store: RunStore, run_id: int, more_epochs: int, busy: Collection[int] = ()) -> ResumePlan:
    """Check that finished run ``run_id`` can train ``more_epochs`` more epochs; the plan's config has them."""
    if int(more_epochs) != more_epochs or more_epochs < 1:
        raise ResumeError(f"continue needs a whole number of more epochs, at least 1 (got {more_epochs})")
    run = store.get_run(run_id)
    config = _readable(run)
    if run.status.is_active or run_id in busy:
        raise ResumeError(f"run {run_id} is still {run.status}: wait for it to finish before continuing it")
    if run.status != RunStatus.FINISHED:
        advice = "resume it first" if run.status in RESUMABLE else "train it again"
        raise ResumeError(f"run {run_id} is {run.status} after {run.epochs_done} of {config.epochs} epochs, not "
                          f"finished: {advice}")
    epoch = _checkpoint_epoch(store, run, config)
    if epoch != run.epochs_done:
        raise ResumeError(f"run {run_id}'s checkpoint is of epoch {epoch}, but {run.epochs_done} epochs are "
                          f"stored: it cannot be continued exactly; train it again")
    if epoch + more_epochs > MAX_EPOCHS:
        raise ResumeError(f"run {run_id} has {epoch} epochs and a run has at most {MAX_EPOCHS}: continue it "
                          f"for at most {MAX_EPOCHS - epoch} more")
    return ResumePlan(run_id, config.replace(epochs=epoch + int(more_epochs)), epoch, run.status)


def requeue(store: RunStore, plan: ResumePlan) -> None:
    """Queue the planned run again for this process (with the grown config when continuing). ResumeError
    if its status changed since the plan was made (e.g. a second click already queued it)."""
    changed = plan.config if plan.status == RunStatus.FINISHED else None
    if not store.requeue_run(plan.run_id, plan.status, changed):
        raise ResumeError(f"run {plan.run_id} changed meanwhile (it is {store.get_run(plan.run_id).status} now): "
                          f"nothing was queued")


def _readable(run: RunRecord) -> RunConfig:
    if run.config is None:
        raise ResumeError(f"run {run.id}'s settings cannot be read by this version ({run.config_error}): it "
                          f"cannot be trained further")
    return run.config


def _checkpoint_epoch(store: RunStore, run: RunRecord, config: RunConfig) -> int:
    """The epoch the run's checkpoint reached, after checking it; 0 for a run with no epoch and no checkpoint."""
    path = latest_path(store, run.id)
    if not path.is_file():
        if run.epochs_done == 0:
            return 0
        why = (f"its checkpoint file {path.name} is missing from {path.parent}" if path.parent.is_dir()
               else "it has no checkpoint (trained before checkpoints were kept, or its files were removed)")
        raise ResumeError(f"run {run.id} cannot go on: {why}; its {run.epochs_done} stored epochs are kept, "
                          f"train it again to go further")
    return int(checked_meta(store, run.id, config)["epoch"])
