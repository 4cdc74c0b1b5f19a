"""Class runs on a Ray cluster: the run manager hands each queued run to a Ray worker instead of training it in
its own thread, and writes what the worker sends back into the store as it comes.

A class server sets ``MNIST_LAB_RAY_ADDRESS`` (HOST:PORT of a Ray head, or "local" for a Ray instance started
in the server's process) and ``class_execution`` gives the dashboard's ``RunManager`` a ``RayExecutor``; its
interface is ``execute_run``'s (``lifecycle.RunExecutor``), so the manager, its fair queue, its live
progress and every page stay as they are. The manager trains as many runs at once as the cluster has CPUs
(``MNIST_LAB_WORKERS`` overrides).

One run on Ray, seen from the server (one thread of the manager per run):

1. as ``execute_run``: stopped before it started ends "stopped"; mark it running; when resuming, read and
   check its checkpoint here (``resume_start``), which travels to the worker;
2. a Ray actor of its own (one CPU; ended with the run, so an idle server holds none of the cluster's CPUs)
   loads MNIST from its own ``MNIST_DIR`` and trains the run with ``train_config``, the same callbacks and
   controls as a local run; what a local run writes into the store goes into the actor's ``Outbox`` instead
   (``epoch_stream``: epochs, within-epoch points, layer stats, the checkpoint after every epoch);
3. every ``POLL_SECONDS`` the server takes the outbox and writes each message into the store (``deliver``),
   hands each epoch to the run's callbacks (the live progress, a CLI's printer), and forwards Stop and Pause
   to the actor, where they are the flags ``StopOnEvent`` and ``PauseOnEvent`` watch;
4. the actor returns the final status and the model; the weights are saved here with ``save_weights`` and the
   status recorded with ``finish_run``, exactly as for a local run. A run deleted meanwhile (its next epoch
   cannot be stored) ends the actor's training; a worker lost with its node ends the run "failed" (resumable
   from its last checkpoint).

Callbacks given to a run on Ray see ``on_epoch_end`` only (with the epoch's record), not batch-level hooks.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.config import RunConfig
from experiments.runs.checkpoints import ResumeError
from experiments.runs.completion import NOT_RESUMED, RAY_NODE_LOST, STOPPED_BEFORE_START, UNEXPECTED_ERROR
from experiments.runs.epoch_stream import Message, Outbox, Sent, deliver
from experiments.runs.lifecycle import (
    USER_ERRORS,
    DataLoader,
    Phase,
    RunControls,
    RunExecutor,
    RunOutcome,
    check_fits,
    execute_run,
    failure_reason,
    finish_run,
    resume_start,
    save_weights,
)
from experiments.runs.ray_cluster import RayConnectionError, first_line, import_ray, join
from experiments.runs.runner import WORKERS_ENV, runs_at_once
from experiments.runs.training import load_data, train_config
from experiments.store import RunStore
from nn import MLP, Checkpoint, CheckpointError, RunStatus

RAY_ADDRESS_ENV = "MNIST_LAB_RAY_ADDRESS"
POLL_SECONDS = 0.2  # how often the server takes a run's messages and forwards Stop and Pause


@dataclass(frozen=True)
class RemoteEnd:
    """How a run ended on its Ray worker: the status and message to record, and the model to save (None when
    no epoch finished and none was restored: a local run saves no weights then either)."""

    status: RunStatus
    message: str
    model: MLP | None


@dataclass(frozen=True)
class Execution:
    """Where a run manager's runs train: its executor, how many runs at once, and the words for it."""

    executor: RunExecutor
    runs_at_once: int
    where: str


def class_execution(env: Mapping[str, str] | None = None) -> Execution:
    """The class server's choice: on the Ray cluster at ``MNIST_LAB_RAY_ADDRESS`` when it is set and can be
    joined, else in this process's threads. A cluster that cannot be joined is said in one line on stderr
    and the server trains here, so no run is lost."""
    env = os.environ if env is None else env
    address = env.get(RAY_ADDRESS_ENV, "").strip()
    if not address:
        return Execution(execute_run, runs_at_once(), "this machine")
    try:
        executor = RayExecutor(address)
    except RayConnectionError as exc:
        print(f"{RAY_ADDRESS_ENV}={address}: {exc}; training on this machine instead", file=sys.stderr)
        return Execution(execute_run, runs_at_once(), "this machine")
    at_once = runs_at_once() if env.get(WORKERS_ENV, "").strip() else executor.cpus()
    return Execution(executor, at_once, f"the Ray cluster at {address}")


class RayExecutor:
    """Trains stored runs on Ray (``lifecycle.RunExecutor``): joins the cluster at ``address`` ("local" or None:
    a Ray instance in this process with ``cpus`` CPUs) when made; RayConnectionError (one line) if it cannot."""

    def __init__(self, address: str | None = None, cpus: int | None = None):
        self.address = address or "local"
        self.ray = import_ray()
        self.started = join(address, cpus)
        self._actor_class = self.ray.remote(num_cpus=1, max_concurrency=4)(RemoteRun)  # threaded: calls meet

    def cpus(self) -> int:
        """The cluster's CPUs: one run each."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def shutdown(self) -> None:
        """Leave Ray (stopping it if this executor started it)."""
        if self.started:
            self.ray.shutdown()

    def __call__(self, store: RunStore, run_id: int, config: RunConfig, *, controls: RunControls | None = None,
                 load: DataLoader = load_data, callbacks: Sequence[object] = (), phase: Phase | None = None,
                 train_eval_epochs: Sequence[int] = (), resume: bool = False) -> RunOutcome:
        """Train run ``run_id`` on Ray into ``store`` (``execute_run``'s contract; ``load`` is not used: each
        worker loads its own data); never raises for the run's failure."""
        controls = controls or RunControls()
        phase = phase or Phase()
        if controls.stop.is_set():
            return finish_run(store, run_id, RunStatus.STOPPED, STOPPED_BEFORE_START)
        try:
            store.set_status(run_id, RunStatus.RUNNING)
            phase.loading()
            start = resume_start(store, run_id) if resume else None
            end = self._follow(store, run_id, config, controls, phase, callbacks, tuple(train_eval_epochs), start)
            if end.model is not None:
                save_weights(store, run_id, end.model)
            return finish_run(store, run_id, end.status, end.message)
        except (ResumeError, CheckpointError) as exc:
            return finish_run(store, run_id, RunStatus.INTERRUPTED, NOT_RESUMED.format(reason=exc))
        except self.ray.exceptions.RayError as exc:
            return finish_run(store, run_id, RunStatus.FAILED,
                              RAY_NODE_LOST.format(address=self.address, reason=first_line(exc)))
        except USER_ERRORS as exc:
            return finish_run(store, run_id, RunStatus.FAILED, failure_reason(exc))
        except Exception as exc:  # a bug: recorded on the run, its traceback in the server log
            traceback.print_exc()
            return finish_run(store, run_id, RunStatus.FAILED,
                              UNEXPECTED_ERROR.format(reason=f"{type(exc).__name__}: {exc}"))

    def _follow(self, store: RunStore, run_id: int, config: RunConfig, controls: RunControls, phase: Phase,
                callbacks: Sequence[object], train_eval_epochs: tuple[int, ...],
                start: Checkpoint | None) -> RemoteEnd:
        """Start the run on an actor of its own and write what it sends until it returns; Stop and Pause go
        to it as they change. The actor ends with the run, also when something goes wrong here (a run deleted
        meanwhile, the server stopping): its training ends with it."""
        ray = self.ray
        actor = self._actor_class.remote()  # its own worker process, for this run only (its CPU freed after)
        sent = (False, False)
        finished = actor.train.remote(run_id, config.to_dict(), train_eval_epochs, start)
        try:
            while True:
                ready, _ = ray.wait([finished], timeout=POLL_SECONDS)
                for message in ray.get(actor.take.remote()):
                    self._deliver(store, run_id, message, phase, callbacks)
                wanted = (controls.stop.is_set(), controls.pause.is_set())
                if wanted != sent:
                    ray.get(actor.control.remote(*wanted))
                    sent = wanted
                if ready:
                    return ray.get(finished)
        finally:
            ray.kill(actor)

    @staticmethod
    def _deliver(store: RunStore, run_id: int, message: Message, phase: Phase, callbacks: Sequence[object]) -> None:
        if message.kind is Sent.TRAINING:
            phase.training()
            return
        deliver(store, run_id, message)
        if message.kind is Sent.EPOCH and message.record is not None:
            for callback in callbacks:
                on_epoch_end = getattr(callback, "on_epoch_end", None)
                if on_epoch_end is not None:
                    on_epoch_end(int(message.record["epoch"]), dict(message.record))


class RemoteRun:
    """On a Ray worker (a threaded actor): trains one run with the controls the server forwards, its
    results put into an outbox the server takes. Made a Ray actor by ``RayExecutor``."""

    def __init__(self) -> None:
        self.outbox = Outbox()
        self.controls = RunControls()
        self.folder = Path(tempfile.mkdtemp(prefix="mnist-lab-run-"))  # where each checkpoint is written, then sent

    def control(self, stop: bool, pause: bool) -> None:
        """Set or clear the run's Stop and Pause flags."""
        for flag, on in ((self.controls.stop, stop), (self.controls.pause, pause)):
            (flag.set if on else flag.clear)()

    def take(self) -> list[Message]:
        return self.outbox.take()

    def train(self, run_id: int, config_dict: dict[str, Any], train_eval_epochs: tuple[int, ...],
              start: Checkpoint | None) -> RemoteEnd:
        """``execute_run``'s steps 2-3 on this worker; failures become the status and message it would record."""
        try:
            config = RunConfig.from_dict(config_dict)
            data = load_data(config)
            check_fits(config, data)
            self.outbox.put(Message(Sent.TRAINING))
            model, result = train_config(config, data, self.outbox.recorders(config.seed),
                                         stop_event=self.controls.stop, pause_event=self.controls.pause,
                                         train_eval_epochs=train_eval_epochs, start=start,
                                         backup=self.outbox.backup(run_id, self.folder))
            return RemoteEnd(RunStatus(result.status), result.message, model if result.history or start else None)
        except CheckpointError as exc:
            return RemoteEnd(RunStatus.INTERRUPTED, NOT_RESUMED.format(reason=exc), None)
        except USER_ERRORS as exc:
            return RemoteEnd(RunStatus.FAILED, failure_reason(exc), None)
        except Exception as exc:  # a bug: its traceback in the worker's log
            traceback.print_exc()
            return RemoteEnd(RunStatus.FAILED, UNEXPECTED_ERROR.format(reason=f"{type(exc).__name__}: {exc}"), None)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
