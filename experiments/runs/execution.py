"""The one path that takes a stored run from "queued" to its final status.

The dashboard's run manager (worker threads), the local sweep pool (worker processes) and the command
line (through the run manager) all call ``execute_run``; nothing else trains a stored run. The sequence:

1. a run stopped before it started ends "stopped" without loading anything;
2. mark the run "running" (a worker has it), load the dataset and check that the config fits it
   (``check_fits``, the one such check);
3. train it, each finished epoch committed by ``StoreEpochs``, its within-epoch points and per-layer
   dynamics by ``dynamics_callbacks``, and then checkpointed (``RunCheckpointer``: model, optimizer and
   RNG state, so it can be resumed); with ``resume=True`` the run goes on from its latest checkpoint
   instead of from scratch (see experiments/runs/resume.py);
4. save the weights, but only if at least one epoch finished and only while the run still exists
   (``RunStore.attach_artifact``: a run deleted while it trained leaves no file behind; checkpoints alike);
5. record the final status and message. A run that goes wrong numerically ends "diverged" (a result);
   one that cannot train (missing data, a full disk, a bug) ends "failed" with a one-line reason. The
   function itself never raises for a run's failure.
"""
from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from experiments.config import ConfigError, RunConfig
from experiments.runs.checkpoints import (
    ElapsedFrom,
    ResumeError,
    ResumePoint,
    RunCheckpointer,
    latest_path,
    load_resume_point,
)
from experiments.runs.record_dynamics import dynamics_callbacks
from experiments.runs.training import load_data, train_config
from experiments.store import RunStore, StoreError
from nn import MLP, DataError, Dataset, RunStatus

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


class Switch(Protocol):
    """A threading.Event or a multiprocessing Event (the sweep pool's stop is shared across processes)."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...


@dataclass
class RunControls:
    """The switches a user holds over one run: stop (within one batch) and pause (between batches)."""

    stop: Switch = field(default_factory=threading.Event)
    pause: Switch = field(default_factory=threading.Event)


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended, as recorded in the store."""

    run_id: int
    status: RunStatus
    message: str = ""


class StoreEpochs:
    """The trainer callback that commits each finished epoch to the store (the only one there is)."""

    def __init__(self, store: RunStore, run_id: int):
        self.store, self.run_id = store, run_id

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.store.log_epoch(self.run_id, logs)


def check_fits(config: RunConfig, data: Dataset) -> None:
    """Refuse a config its data cannot serve (one batch larger than the whole training set)."""
    n_train = len(data.y_train)
    if config.batch_size > n_train:
        raise ConfigError(f"batch_size ({config.batch_size}) is larger than the training set ({n_train} images)")


def execute_run(store: RunStore, run_id: int, config: RunConfig, *, controls: RunControls | None = None,
                load: DataLoader = load_data, callbacks: Sequence[object] = (), phase: Phase | None = None,
                train_eval_epochs: Sequence[int] = (), resume: bool = False) -> RunOutcome:
    """Train stored run ``run_id`` with ``config`` into ``store``; return how it ended (never raises for it).

    ``callbacks`` see every epoch after it is stored; at the epochs in ``train_eval_epochs`` the whole
    training set is evaluated too (see ``train_config``). ``resume``: go on from the run's latest checkpoint
    (its stored epochs after the checkpoint's are trained again); a checkpoint that cannot be used leaves
    the run "interrupted" with the reason, its epochs untouched.
    """
    controls = controls or RunControls()
    phase = phase or Phase()
    if controls.stop.is_set():
        return _finish(store, run_id, RunStatus.STOPPED, "stopped before it started")
    try:
        store.set_status(run_id, RunStatus.RUNNING)  # taken by a worker: no longer counts as waiting
        phase.loading()
        start = _resume_point(store, run_id, config) if resume else None
        data = load(config)
        check_fits(config, data)
        phase.training()
        keeper = RunCheckpointer(store, run_id, start, train_eval_epochs or (start.train_eval_epochs if start else ()))
        before = [ElapsedFrom(start.elapsed)] if start else []
        recorders = [*before, StoreEpochs(store, run_id), *dynamics_callbacks(store, run_id, config.seed)]
        model, result = train_config(config, data, [*recorders, *callbacks],
                                     stop_event=controls.stop, pause_event=controls.pause,
                                     train_eval_epochs=keeper.train_eval_epochs, checkpoints=keeper)
        if result.history or start:
            save_weights(store, run_id, model)
        return _finish(store, run_id, RunStatus(result.status), result.message)
    except ResumeError as exc:  # the checkpoint went bad after the run was queued: nothing was trained
        return _finish(store, run_id, RunStatus.INTERRUPTED, f"could not resume: {exc}")
    except USER_ERRORS as exc:
        return _finish(store, run_id, RunStatus.FAILED, _reason(exc))
    except Exception as exc:  # a bug: record it on the run instead of losing it, and log the traceback
        traceback.print_exc()
        return _finish(store, run_id, RunStatus.FAILED, f"unexpected error: {type(exc).__name__}: {exc}")


def _resume_point(store: RunStore, run_id: int, config: RunConfig) -> ResumePoint | None:
    """The run's latest checkpoint, its stored epochs after it dropped (they are trained again); None for a
    run with neither a checkpoint nor a stored epoch (it starts from scratch)."""
    if not latest_path(store, run_id).is_file() and store.get_run(run_id).epochs_done == 0:
        return None
    start = load_resume_point(store, run_id, config)
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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "out of memory: choose a smaller network or batch size"
    if isinstance(exc, OSError) and not isinstance(exc, DataError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc)


def _finish(store: RunStore, run_id: int, status: RunStatus, message: str) -> RunOutcome:
    try:
        store.set_status(run_id, status, message)
    except StoreError as exc:
        message = f"{message} (and the store could not be updated: {exc})"
    return RunOutcome(run_id, status, message)
