"""A TPE sweep on the local pool: Optuna chooses each trial from the results so far and prunes weak ones.

Optuna's own pattern, spread over processes: the study lives in a shared storage (a ``JournalStorage`` on a
file in a temporary folder, removed when the sweep ends; never beside the user's run store). The parent's
driver thread asks the study for each trial (``study.ask``), stores it as a run (group = sweep id, tag
``sweep:<id>``) and hands it to a pool worker, which trains it through the one execution path
(``execute_run``). In the worker, ``ReportToTrial`` loads the study from the storage and, after every stored
epoch, reports the epoch's validation accuracy to the trial (``trial.report``) and asks the study's pruner
(``trial.should_prune``); told to stop, it ends the run "pruned" at once, its finished epochs kept. When the
run has ended the driver tells the study its outcome (``study.tell``): the best epoch's accuracy for a
finished (or diverged) run, PRUNED or FAIL otherwise.

Trials are judged on validation accuracy (``PRUNE_COLUMN``; a spec without a validation split is refused:
pruning or choosing on test accuracy would fit the test set), the value told to the study is the trial's best
epoch, and the sampler is TPE with ``constant_liar`` so that trials running side by side are not drawn on top
of each other.
"""
from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.config import ConfigError, RunConfig, quote
from experiments.i18n import _
from experiments.runs.completion import PRUNED_BY_PRUNER, WORKER_DIED
from experiments.runs.lifecycle import RunOutcome
from experiments.store import RunStore
from experiments.sweeps import local
from experiments.sweeps.local import default_workers
from experiments.sweeps.spec import TAG_PREFIX, Pruner, SweepSpec, Trial, new_sweep_id, run_name
from nn.callbacks import Callback
from nn.status import RunStatus

PRUNE_COLUMN = "val_acc"
STUDY_FILE = "study.journal"


def distributions(spec: SweepSpec) -> dict[str, Any]:
    """Optuna distributions for the spec's space: grid lists become categories, random tables distributions."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space: dict[str, Any] = {k: CategoricalDistribution([_choice(v) for v in values])
                             for k, values in spec.grid.items()}
    for key, dist in spec.random.items():
        kind, args = next(iter(dist.items()))
        if kind == "choice":
            space[key] = CategoricalDistribution([_choice(v) for v in args])
        elif kind == "int_uniform":
            space[key] = IntDistribution(int(args[0]), int(args[1]))
        else:
            space[key] = FloatDistribution(float(args[0]), float(args[1]), log=kind == "log_uniform")
    return space


def _choice(value: Any) -> Any:
    """A category Optuna can store: widths given as a list become text such as "128,64"."""
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def check_space(spec: SweepSpec) -> RunConfig:
    """The base config, after checking that every category and both ends of every range make a valid config."""
    try:
        base = RunConfig.from_dict(spec.base)
    except ConfigError as exc:
        raise ConfigError(_("base: {reason}").format(reason=exc)) from None
    if base.val_size == 0 or "val_size" in spec.grid or "val_size" in spec.random:
        raise ConfigError(_("a TPE sweep chooses and prunes trials on validation accuracy: hold out validation "
                            "images with a fixed base.val_size above 0 (e.g. 10000)"))
    for key, dist in distributions(spec).items():
        ends = list(dist.choices) if hasattr(dist, "choices") else [dist.low, dist.high]
        for value in ends:
            try:
                base.replace(**{key: value})
            except ConfigError as exc:
                raise ConfigError(f"{key}={quote(value)}: {exc}") from None
    return base


@dataclass(frozen=True)
class StudyPlace:
    """Where a sweep's study lives and how it prunes: what a worker process needs to load it (picklable).

    The pruner is not kept in the storage, so each process that loads the study builds the same one."""

    path: str                # the journal file
    name: str                # the study's name in it (the sweep id)
    pruner: Pruner
    startup_trials: int      # the spec's tpe.startup_trials
    epochs: int              # each trial's epochs: Hyperband's maximum resource

    def storage(self) -> Any:
        """The shared storage: Optuna's journal on a file, safe for several processes on one machine."""
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(self.path))

    def make_pruner(self) -> Any:
        """The spec's pruner: the median of earlier trials at the same epoch, or Hyperband's brackets."""
        import optuna

        if self.pruner is Pruner.MEDIAN:
            return optuna.pruners.MedianPruner(n_startup_trials=min(4, self.startup_trials), n_warmup_steps=0)
        if self.pruner is Pruner.HYPERBAND:
            return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(self.epochs, 1),
                                                  reduction_factor=3)
        return optuna.pruners.NopPruner()

    def create_study(self, seed: int | None) -> Any:
        """The study, new in the storage: TPE (seeded by the spec) and the pruner, maximising accuracy."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(n_startup_trials=self.startup_trials, seed=seed, constant_liar=True)
        return optuna.create_study(storage=self.storage(), study_name=self.name, direction="maximize",
                                   sampler=sampler, pruner=self.make_pruner())

    def load_trial(self, trial_id: int) -> Any:
        """Trial ``trial_id`` of the study, loaded from the storage in this process, to report to and ask
        the pruner. (Optuna builds a ``Trial`` itself in ``optimize``; with ask-and-tell across processes the
        worker builds it from the id the driver's ``study.ask`` gave.)"""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(study_name=self.name, storage=self.storage(), pruner=self.make_pruner())
        return optuna.trial.Trial(study, trial_id)


@dataclass
class _Running:
    trial: Any              # optuna.Trial from study.ask
    run_id: int
    future: Future


class TpeSweep:
    """A TPE sweep in a process pool; the same controls as ``LocalSweep`` (start, stop, done, wait)."""

    def __init__(self, store: RunStore, spec: SweepSpec, workers: int | None = None, sweep_id: str | None = None,
                 source: str = "sweep"):
        if spec.tpe is None:
            raise ConfigError(_('a TPE sweep needs method = "tpe" and a [tpe] table'))
        self.store, self.spec, self.source = store, spec, source
        self.base = check_space(spec)
        self.sweep_id = sweep_id or new_sweep_id()
        self.workers = max(1, min(int(workers or default_workers()), spec.tpe.trials))
        self.run_ids: list[int] = []
        self._ctx = local.multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._pool: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.error = ""

    # ------------------------------------------------------------------ controls
    def start(self) -> list[int]:
        """Start the driver thread (it stores and hands out trials as the pool frees up); returns at once."""
        self._pool = ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=local.init_worker,
                                         initargs=(self._stop,))
        self._thread = threading.Thread(target=self._drive, name=f"tpe-{self.sweep_id}", daemon=True)
        self._thread.start()
        return self.run_ids

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def outcomes(self) -> list[RunOutcome]:
        """Each trial's status as stored (live: running while the sweep goes on)."""
        return local.stored_outcomes(self.store, self.run_ids)

    # ------------------------------------------------------------------ the driver thread
    def _drive(self) -> None:
        """Keep every worker busy until the budget is spent; tell the study each trial's outcome as it ends."""
        assert self.spec.tpe is not None and self._pool is not None
        folder = tempfile.mkdtemp(prefix=f"tpe-{self.sweep_id}-")
        place = StudyPlace(str(Path(folder) / STUDY_FILE), self.sweep_id, self.spec.tpe.pruner,
                           self.spec.tpe.startup_trials, self.base.epochs)
        running: dict[Future, _Running] = {}
        started = 0
        try:
            study = place.create_study(self.spec.seed)
            space = distributions(self.spec)
            with self.store.thread_connection():
                while True:
                    while len(running) < self.workers and started < self.spec.tpe.trials and not self.stopping:
                        item = self._launch(study, space, place, started)
                        started += 1
                        if item is not None:
                            running[item.future] = item
                    if not running:
                        break
                    ended, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in ended:
                        self._finish(study, running.pop(future))
        except Exception as exc:  # a bug: say so on the sweep, stop the trials, never hang the page
            self.error = f"{type(exc).__name__}: {exc}"
            self._stop.set()
            raise
        finally:
            self._pool.shutdown(wait=True)
            shutil.rmtree(folder, ignore_errors=True)
            self._done.set()

    def _launch(self, study: Any, space: Mapping[str, Any], place: StudyPlace, slot: int) -> _Running | None:
        trial = study.ask(dict(space))
        try:
            config = self.base.replace(**trial.params)
        except ConfigError as exc:  # a combination the space allows but RunConfig refuses (e.g. batch > data)
            import optuna
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self.error = f"trial {slot} skipped: {exc}"
            return None
        name = run_name(self.spec, Trial(slot, config, dict(trial.params)))
        run_id = self.store.create_run(config, name=name, group_id=self.sweep_id, source=self.source,
                                       tags=[TAG_PREFIX + self.sweep_id, "sweep", "tpe"])
        self.run_ids.append(run_id)
        assert self._pool is not None
        callbacks = functools.partial(_report_to_trial, place, trial._trial_id)  # the id Optuna's Trial is built on
        with local.spawning(self.workers):  # a worker process may start now: its BLAS share, no __main__ re-run
            future = self._pool.submit(local.run_trial, str(self.store.path), run_id, config.to_json(), callbacks)
        return _Running(trial, run_id, future)

    def _finish(self, study: Any, item: _Running) -> None:
        """Tell the study how the trial ended: pruned, its best epoch's accuracy, or failed."""
        import optuna

        crash = item.future.exception()
        if crash is not None and self.store.get_run(item.run_id).status.is_active:  # a worker died under it
            died = isinstance(crash, BrokenProcessPool)
            reason = WORKER_DIED if died else f"{type(crash).__name__}: {crash}"
            self.store.set_status(item.run_id, RunStatus.FAILED, reason)
        status = self.store.get_run(item.run_id).status
        best = self._best_value(item.run_id)
        if status == RunStatus.PRUNED:
            study.tell(item.trial, state=optuna.trial.TrialState.PRUNED)
        elif best is not None and status in (RunStatus.FINISHED, RunStatus.DIVERGED):
            study.tell(item.trial, best)
        else:
            study.tell(item.trial, state=optuna.trial.TrialState.FAIL)

    def _best_value(self, run_id: int) -> float | None:
        """The trial's value: its best epoch's validation accuracy, as reported epoch by epoch (None without)."""
        values = [float(e[PRUNE_COLUMN]) for e in self.store.get_epochs(run_id) if e.get(PRUNE_COLUMN) is not None]
        return max(values) if values else None


# ---------------------------------------------------------------------- in the worker process
class ReportToTrial(Callback):
    """After each stored epoch: report its validation accuracy to the Optuna trial and, when the study's
    pruner says so, end the run "pruned" (its finished epochs kept). The last epoch is reported but never
    pruned: the run has finished by then."""

    def __init__(self, trial: Any, pruner: Pruner):
        self.trial, self.pruner = trial, pruner

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        value = logs.get(PRUNE_COLUMN)
        if value is None:
            return
        self.trial.report(float(value), epoch)
        if epoch < self.loop.options.epochs and self.trial.should_prune():
            self.loop.request_stop(RunStatus.PRUNED, PRUNED_BY_PRUNER.format(pruner=self.pruner, epoch=epoch))


def _report_to_trial(place: StudyPlace, trial_id: int) -> list[object]:
    """The worker's callbacks for one trial (called in the worker, where the study is loaded)."""
    return [ReportToTrial(place.load_trial(trial_id), place.pruner)]
