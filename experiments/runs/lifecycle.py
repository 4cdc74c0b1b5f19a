"""The one path that takes a stored run from "queued" to its final status, and back to "queued" to go on.

The dashboard's run manager (worker threads), the local sweep pool (worker processes) and the command
line (through the run manager) all call ``execute_run``; nothing else trains a stored run. The sequence:

1. a run stopped before it started ends "stopped" without loading anything;
2. mark the run "running" (a worker has it), load the dataset and check that the config fits it
   (``check_fits``, the one such check);
3. train it, each finished epoch committed by ``StoreEpochs``, its within-epoch points and per-layer
   dynamics by ``dynamics_callbacks``, and then checkpointed (``RunBackup``: model, optimizer, RNG state and
   every stateful callback, so it can be resumed); with ``resume=True`` the run goes on from its
   checkpoint instead of from scratch, its stored epochs after the checkpoint's trained again;
4. save the weights, but only if at least one epoch finished and only while the run still exists
   (``RunStore.attach_artifact``: a run deleted while it trained leaves no file behind; checkpoints alike);
5. record the final status and message. A run that goes wrong numerically ends "diverged" (a result);
   one that cannot train (missing data, a full disk, a bug) ends "failed" with a one-line reason. The
   function itself never raises for a run's failure.

An ended run goes on through the same path: ``plan_resume`` (a run that ended early goes on from its last
finished epoch) or ``plan_continue`` (a finished run gets more epochs) checks the request, ``requeue`` queues
it again (same id, same rows), and ``execute_run(..., resume=True)`` trains the epochs after its checkpoint,
appending to the run. Training is a pure function of (config, seed, epoch) once the model, optimizer and
callbacks' state are restored, so the result equals the same config trained without a break. Every refusal
is a ``ResumeError`` with one line, raised before anything is changed: a run that does not exist, is still
queued or running, finished (continue it instead), diverged, has unreadable settings, or whose checkpoint is
missing, truncated, another run's or ahead of its stored epochs.
"""
from __future__ import annotations

import errno
import threading
import traceback
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from experiments.config import MAX_EPOCHS, ConfigError, RunConfig
from experiments.i18n import _
from experiments.runs.checkpoints import ResumeError, RunBackup, checkpoint_epoch, load_start
from experiments.runs.completion import (
    DISK_FULL,
    NOT_RESUMED,
    OUT_OF_MEMORY,
    STOPPED_BEFORE_START,
    STORE_NOT_UPDATED,
    UNEXPECTED_ERROR,
    status_word,
)
from experiments.runs.training import load_data, train_config
from experiments.store import RunStore, StoreError
from experiments.store.dynamics import dynamics_callbacks
from experiments.store.records import RunRecord
from nn import MLP, Callback, Checkpoint, CheckpointError, DataError, Dataset, Flag, RunStatus

DataLoader = Callable[[RunConfig], Dataset]
# Errors a user can act on: recorded on the run as they are worded. Anything else is a bug: recorded as
# "unexpected error" with the exception's type, and its traceback printed to the server log.
USER_ERRORS = (DataError, ConfigError, StoreError, OSError, MemoryError)


class Phase:
    """Hooks ``execute_run`` calls as the run moves on; the run manager turns them into live progress."""

    def loading(self) -> None:
        """The dataset is being loaded."""

    def training(self) -> None:
        """The run is marked running and training starts."""


# Ended before their last epoch, for a reason that another try can get past.
RESUMABLE = frozenset({RunStatus.INTERRUPTED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.PRUNED})


@dataclass
class RunControls:
    """The flags a user holds over one run: stop (within one batch) and pause (between batches). A
    multiprocessing Event serves too (the sweep pool's stop is shared across processes)."""

    stop: Flag = field(default_factory=threading.Event)
    pause: Flag = field(default_factory=threading.Event)


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended, as recorded in the store."""

    run_id: int
    status: RunStatus
    message: str = ""


class StoreEpochs(Callback):
    """The trainer callback that commits each finished epoch to the store (the only one there is)."""

    def __init__(self, store: RunStore, run_id: int):
        self.store, self.run_id = store, run_id

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.store.log_epoch(self.run_id, logs)


class RunExecutor(Protocol):
    """Takes one stored, queued run to its final status: ``execute_run`` (here, in the calling thread) or a
    ``RayExecutor`` (on a Ray cluster, its results written here as they come). The run manager calls one."""

    def __call__(self, store: RunStore, run_id: int, config: RunConfig, *, controls: RunControls | None = None,
                 load: DataLoader = ..., callbacks: Sequence[object] = (), phase: Phase | None = None,
                 train_eval_epochs: Sequence[int] = (), resume: bool = False) -> RunOutcome: ...


def check_fits(config: RunConfig, data: Dataset) -> None:
    """Refuse a config its data cannot serve (one batch larger than the whole training set)."""
    n_train = len(data.y_train)
    if config.batch_size > n_train:
        raise ConfigError(_("batch_size ({batch_size}) is larger than the training set ({n} images)").format(
            batch_size=config.batch_size, n=n_train))


def execute_run(store: RunStore, run_id: int, config: RunConfig, *, controls: RunControls | None = None,
                load: DataLoader = load_data, callbacks: Sequence[object] = (), phase: Phase | None = None,
                train_eval_epochs: Sequence[int] = (), resume: bool = False) -> RunOutcome:
    """Train stored run ``run_id`` with ``config`` into ``store``; return how it ended (never raises for it).

    ``callbacks`` see every epoch after it is stored; at the epochs in ``train_eval_epochs`` the whole
    training set is evaluated too (see ``train_config``; a resumed run keeps the epochs it was queued with).
    ``resume``: go on from the run's checkpoint (its stored epochs after the checkpoint's are trained
    again); a checkpoint that cannot be used leaves the run "interrupted" with the reason, its epochs untouched.
    """
    controls = controls or RunControls()
    phase = phase or Phase()
    if controls.stop.is_set():
        return finish_run(store, run_id, RunStatus.STOPPED, STOPPED_BEFORE_START)
    try:
        store.set_status(run_id, RunStatus.RUNNING)  # taken by a worker: no longer counts as waiting
        phase.loading()
        start = resume_start(store, run_id) if resume else None
        data = load(config)
        check_fits(config, data)
        phase.training()
        recorders = [StoreEpochs(store, run_id), *dynamics_callbacks(store, run_id, config.seed)]
        model, result = train_config(config, data, [*recorders, *callbacks],
                                     stop_event=controls.stop, pause_event=controls.pause,
                                     train_eval_epochs=train_eval_epochs, start=start,
                                     backup=RunBackup(store, run_id))
        if result.history or start:
            save_weights(store, run_id, model)
        return finish_run(store, run_id, RunStatus(result.status), result.message)
    except (ResumeError, CheckpointError) as exc:  # the checkpoint went bad after the run was queued
        return finish_run(store, run_id, RunStatus.INTERRUPTED, NOT_RESUMED.format(reason=exc))
    except USER_ERRORS as exc:
        return finish_run(store, run_id, RunStatus.FAILED, failure_reason(exc))
    except Exception as exc:  # a bug: record it on the run instead of losing it, and log the traceback
        traceback.print_exc()
        return finish_run(store, run_id, RunStatus.FAILED,
                          UNEXPECTED_ERROR.format(reason=f"{type(exc).__name__}: {exc}"))


def resume_start(store: RunStore, run_id: int) -> Checkpoint | None:
    """The run's checkpoint to go on from, its stored epochs after it dropped (they are trained again); None
    for a run with neither a checkpoint nor a stored epoch (it starts from scratch)."""
    start = load_start(store, store.get_run(run_id))
    if start is not None:
        store.trim_epochs(run_id, start.epoch)
    return start


def save_weights(store: RunStore, run_id: int, model: MLP) -> bool:
    """Write the model to a temporary file, then move it into place only if the run still exists."""
    final = store.weights_path(run_id)
    tmp = store.temp_path_for(final)
    try:
        model.save(tmp)
        return store.attach_artifact(run_id, tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def failure_reason(exc: BaseException) -> str:
    """The one line a failed run records for a user-facing error (``USER_ERRORS``)."""
    if isinstance(exc, MemoryError):
        return OUT_OF_MEMORY
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DISK_FULL.format(where=exc.filename or "writing its files")
    if isinstance(exc, OSError) and not isinstance(exc, DataError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc)


def finish_run(store: RunStore, run_id: int, status: RunStatus, message: str) -> RunOutcome:
    """Record the run's final status and message (saying so in the message if the store refused it)."""
    try:
        store.set_status(run_id, status, message)
    except StoreError as exc:
        message = STORE_NOT_UPDATED.format(message=message, reason=exc)
    return RunOutcome(run_id, status, message)


@dataclass(frozen=True)
class ResumePlan:
    """A checked request to train a stored run further: the config to train (more epochs when continuing),
    the epoch its checkpoint reached (0: no epoch yet, train from the start) and the status it had."""

    run_id: int
    config: RunConfig
    from_epoch: int
    status: RunStatus
    student: str = ""  # whose turn in the queue it waits for


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
        raise ResumeError(_("run {id} is still {status}: stop it first, or wait for it to end").format(
            id=run_id, status=status_word(run.status)))
    if run.status == RunStatus.FINISHED:
        raise ResumeError(_("run {id} has finished all its {epochs} epochs: continue it for more epochs instead "
                            "(python -m experiments continue {id} --epochs N)").format(id=run_id,
                                                                                     epochs=config.epochs))
    if run.status == RunStatus.DIVERGED:
        raise ResumeError(_("run {id} diverged: resumed, it would diverge again at the same point; train it "
                            "again with a lower learning rate").format(id=run_id))
    if run.status not in RESUMABLE:
        raise ResumeError(_("run {id} is {status} and cannot be resumed").format(
            id=run_id, status=status_word(run.status)))
    return ResumePlan(run_id, config, checkpoint_epoch(store, run), run.status, run.student)


def plan_continue(store: RunStore, run_id: int, more_epochs: int, busy: Collection[int] = ()) -> ResumePlan:
    """Check that finished run ``run_id`` can train ``more_epochs`` more epochs; the plan's config has them."""
    if int(more_epochs) != more_epochs or more_epochs < 1:
        raise ResumeError(_("continue needs a whole number of more epochs, at least 1 (got {value})").format(
            value=more_epochs))
    run = store.get_run(run_id)
    config = _readable(run)
    if run.status.is_active or run_id in busy:
        raise ResumeError(_("run {id} is still {status}: wait for it to finish before continuing it").format(
            id=run_id, status=status_word(run.status)))
    if run.status != RunStatus.FINISHED:
        unfinished = (_("run {id} is {status} after {done} of {epochs} epochs, not finished: resume it first")
                      if run.status in RESUMABLE else
                      _("run {id} is {status} after {done} of {epochs} epochs, not finished: train it again"))
        raise ResumeError(unfinished.format(id=run_id, status=status_word(run.status), done=run.epochs_done,
                                            epochs=config.epochs))
    epoch = checkpoint_epoch(store, run)
    if epoch != run.epochs_done:
        raise ResumeError(_("run {id}'s checkpoint is of epoch {epoch}, but {done} epochs are stored: it cannot "
                            "be continued exactly; train it again").format(id=run_id, epoch=epoch,
                                                                           done=run.epochs_done))
    if epoch + more_epochs > MAX_EPOCHS:
        raise ResumeError(_("run {id} has {epoch} epochs and a run has at most {limit}: continue it for at most "
                            "{more} more").format(id=run_id, epoch=epoch, limit=MAX_EPOCHS, more=MAX_EPOCHS - epoch))
    return ResumePlan(run_id, config.replace(epochs=epoch + int(more_epochs)), epoch, run.status, run.student)


def requeue(store: RunStore, plan: ResumePlan) -> None:
    """Queue the planned run again for this process (with the grown config when continuing). ResumeError
    if its status changed since the plan was made (e.g. a second click already queued it)."""
    changed = plan.config if plan.status == RunStatus.FINISHED else None
    if not store.requeue_run(plan.run_id, plan.status, changed):
        raise ResumeError(_("run {id} changed meanwhile (it is {status} now): nothing was queued").format(
            id=plan.run_id, status=status_word(store.get_run(plan.run_id).status)))


def _readable(run: RunRecord) -> RunConfig:
    if run.config is None:
        raise ResumeError(_("run {id}'s settings cannot be read by this version ({reason}): it cannot be trained "
                            "further").format(id=run.id, reason=run.config_error))
    return run.config
