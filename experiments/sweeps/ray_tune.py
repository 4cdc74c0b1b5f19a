"""What runs with Ray imported, on the driver: the Tune callback that writes epochs into the store, the stop
switch, and the TPE search (Optuna's TPE through Tune's ``OptunaSearch``, weak trials ended by ASHA).

Imported only once Ray is installed (it imports Ray; ``ray_engine`` is the entry that checks). Tune pickles
its run configuration, callbacks and stopper included, into its results folder; these classes are
importable and hold only a sweep id, so the store, the stop event and the progress printer stay in
``DRIVER``, in the driver process.

The TPE search takes the same spec as the local TPE engine (``method = "tpe"``, a ``[tpe]`` table): its space
becomes Optuna distributions (``tpe.distributions``), the budget Tune's ``num_samples``, and ASHA (one epoch
grace) plays the pruner. Trials are not known in advance, so each is stored as a run when Tune starts it (in
the driver's callback, which then writes its epochs live, as the grid engine does); trials ASHA ends early
are stored as "pruned" with their epochs.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ray import tune
from ray.tune.stopper import Stopper

from experiments.config import RunConfig
from experiments.runs.completion import PRUNED_BY_ASHA, RAY_TRIAL_ERROR, STOPPED_BY_SWEEP, SWEEP_ENDED_BEFORE
from experiments.runs.epoch_stream import store_epoch
from experiments.store import RunStore
from experiments.sweeps.local import create_trial_runs
from experiments.sweeps.spec import SweepSpec, Trial
from experiments.sweeps.tpe import check_space, distributions
from nn.status import RunStatus

METRIC = "rank_acc"  # as ray_engine.METRIC: validation accuracy, else test accuracy
TPE_METRIC = "val_acc"  # the accuracy Tune ranks TPE trials and ASHA prunes them by (never test: it would fit it)
DRIVER: dict[str, dict[str, Any]] = {}  # sweep id -> {"store": RunStore, "stop": Event, "progress": callable}


class EventStopper(Stopper):
    """Ends every trial once the sweep's stop event is set."""

    def __init__(self, sweep_id: str):
        self.sweep_id = sweep_id

    def __call__(self, trial_id: str, result: dict) -> bool:
        return self.stop_all()

    def stop_all(self) -> bool:
        return DRIVER[self.sweep_id]["stop"].is_set()


class StoreCallback(tune.Callback):
    """Writes each reported epoch, and each trial's end, into the store (in the driver process)."""

    early_status = RunStatus.STOPPED  # how a trial ASHA ended early is stored (TPE sweeps: pruned)

    def __init__(self, sweep_id: str, configs: dict[int, RunConfig]):
        self.sweep_id, self.configs = sweep_id, configs
        self.final: dict[int, tuple[str, str]] = {}
        self.epochs: dict[int, int] = {}

    def run_id(self, trial: Any) -> int:
        """The stored run of a Tune trial (grid sweeps pass it in the trial's config)."""
        return int(trial.config["trial"]["run_id"])

    def _store(self) -> RunStore:
        return DRIVER[self.sweep_id]["store"]

    def _say(self, text: str) -> None:
        progress = DRIVER[self.sweep_id]["progress"]
        if progress:
            progress(text)

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._store().set_status(self.run_id(trial), RunStatus.RUNNING)

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        run_id = self.run_id(trial)
        if "final_status" in result:
            self.final[run_id] = (result["final_status"], str(result.get("final_message", "")))
            return
        if "epoch" not in result:
            return
        store_epoch(self._store(), run_id, result)  # the record the trial's SendEpochs reported
        self.epochs[run_id] = int(result["epoch"])
        self._say(f"run {run_id}: epoch {result['epoch']}/{self.configs[run_id].epochs}  "
                  f"{'val' if result.get('val_acc') is not None else 'test'} acc {result.get(METRIC, 0):.2%}")

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        run_id = self.run_id(trial)
        status, message = self.final.get(run_id, ("finished", ""))
        if status == "finished" and self.epochs.get(run_id, 0) < self.configs[run_id].epochs:
            status, message = self._early_end(run_id)
        self._end(run_id, status, message)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        error = getattr(trial, "error_file", None)
        self._end(self.run_id(trial), "failed",
                  RAY_TRIAL_ERROR.format(where=error or "the Ray log"))

    def _early_end(self, run_id: int) -> tuple[str, str]:
        if DRIVER[self.sweep_id]["stop"].is_set() or self.early_status is RunStatus.STOPPED:
            return RunStatus.STOPPED, STOPPED_BY_SWEEP
        return self.early_status, PRUNED_BY_ASHA.format(epoch=self.epochs.get(run_id, 0))

    def _end(self, run_id: int, status: str, message: str) -> None:
        self._store().set_status(run_id, status, message)
        self._say(f"run {run_id} {status}{': ' + message if message else ''}")


def close_unfinished(store: RunStore, run_ids: Sequence[int]) -> None:
    """Runs Tune never ended (never started, or the sweep was interrupted) become "stopped"."""
    for run_id in run_ids:
        if store.get_run(run_id).status in ("queued", "running"):
            store.set_status(run_id, "stopped", SWEEP_ENDED_BEFORE)


# ---------------------------------------------------------------------- TPE on Tune
class TpeStoreCallback(StoreCallback):
    """Stores each trial as a run when Tune starts it, then its epochs and end like the grid callback."""

    early_status = RunStatus.PRUNED

    def __init__(self, sweep_id: str, spec: SweepSpec, base: RunConfig, source: str):
        super().__init__(sweep_id, {})
        self.spec, self.base, self.source = spec, base, source
        self.run_ids: dict[str, int] = {}
        self.ordered: list[int] = []

    def run_id(self, trial: Any) -> int:
        if trial.trial_id not in self.run_ids:
            params = dict(trial.config)
            config = self.base.replace(**params)
            index = len(self.ordered)
            [run_id] = create_trial_runs(self._store(), self.spec, [Trial(index, config, params)], self.sweep_id,
                                         self.source)
            self._store().set_tags(run_id, [f"sweep:{self.sweep_id}", "sweep", "tpe"])
            self.run_ids[trial.trial_id], self.configs[run_id] = run_id, config
            self.ordered.append(run_id)
        return self.run_ids[trial.trial_id]


def run_ray_tpe(store: RunStore, spec: SweepSpec, sweep_id: str, *, train_one: Callable[[dict], None],
                workers: int | None, source: str, stop_event: threading.Event | None,
                progress: Callable[[str], None] | None) -> tuple[list[int], float]:
    """Run the TPE spec on the Ray instance already initialised; returns the run ids and Tuner.fit's seconds.
    ``train_one`` is the grid engine's trainable (ray_engine.py), which each sampled trial runs."""
    import optuna
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    assert spec.tpe is not None
    base = check_space(spec)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(n_startup_trials=spec.tpe.startup_trials, seed=spec.seed,
                                         constant_liar=True)
    search = OptunaSearch(space=distributions(spec), metric=TPE_METRIC, mode="max", sampler=sampler, seed=spec.seed)
    callback = TpeStoreCallback(sweep_id, spec, base, source)
    DRIVER[sweep_id] = {"store": store, "stop": stop_event or threading.Event(), "progress": progress}
    storage = tempfile.mkdtemp(prefix="ray-tpe-")
    try:
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_trainable, base=base.to_dict(), train_one=train_one),
                                {"cpu": 1}),
            tune_config=tune.TuneConfig(metric=TPE_METRIC, mode="max", search_alg=search, num_samples=spec.tpe.trials,
                                        scheduler=ASHAScheduler(time_attr="training_iteration", max_t=base.epochs,
                                                                grace_period=1),
                                        max_concurrent_trials=workers or None),
            run_config=tune.RunConfig(name=sweep_id, storage_path=storage, verbose=0, stop=EventStopper(sweep_id),
                                      callbacks=[callback]))
        begun = time.perf_counter()
        tuner.fit()
        seconds = time.perf_counter() - begun
    finally:
        close_unfinished(store, callback.ordered)
        DRIVER.pop(sweep_id, None)
        shutil.rmtree(storage, ignore_errors=True)
    return callback.ordered, seconds


def _trainable(params: dict, base: dict | None = None, train_one: Callable[[dict], None] | None = None) -> None:
    """One TPE trial on a Ray worker: the base settings with the sampled ones, trained like a grid trial."""
    assert train_one is not None, "run_ray_tpe passes the grid engine's trainable"
    config = RunConfig.from_dict({**(base or {}), **params})
    train_one({"trial": {"config": config.to_dict()}})
