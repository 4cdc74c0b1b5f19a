"""A TPE sweep on Ray Tune: Optuna's TPE through Tune's ``OptunaSearch``, weak trials ended by ASHA.

The same spec as the local TPE engine (``method = "tpe"``, a ``[tpe]`` table): its space becomes Optuna
distributions (``tpe.distributions``), the budget Tune's ``num_samples``, and ASHA (one epoch grace) plays
the pruner. Trials are not known in advance, so each is stored as a run when Tune starts it (in the
driver's callback, which then writes its epochs live, as the grid engine does); trials ASHA ends early are
stored as "pruned" with their epochs. Imported only once Ray is installed.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from ray import tune

from experiments.config import RunConfig
from experiments.store import RunStore
from experiments.sweeps.local import create_trial_runs
from experiments.sweeps.ray_driver import DRIVER, EventStopper, StoreCallback, close_unfinished
from experiments.sweeps.spec import SweepSpec, Trial
from experiments.sweeps.tpe import check_space, distributions
from nn.status import RunStatus

METRIC = "val_acc"  # the accuracy Tune ranks and ASHA prunes by (never test: it would fit the test set)


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
    search = OptunaSearch(space=distributions(spec), metric=METRIC, mode="max", sampler=sampler, seed=spec.seed)
    callback = TpeStoreCallback(sweep_id, spec, base, source)
    DRIVER[sweep_id] = {"store": store, "stop": stop_event or threading.Event(), "progress": progress}
    storage = tempfile.mkdtemp(prefix="ray-tpe-")
    try:
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_trainable, base=base.to_dict(), train_one=train_one),
                                {"cpu": 1}),
            tune_config=tune.TuneConfig(metric=METRIC, mode="max", search_alg=search, num_samples=spec.tpe.trials,
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
