"""The Ray engine: each trial runs our trainer inside Ray Tune, on this machine or on a cluster.

Optional (``pip install -r requirements-ray.txt``); Ray is imported only when a Ray sweep starts. Trials
are stored as queued runs up front, like the local engine's. Each trial reports every epoch with
``tune.report``; a driver-side ``tune.Callback`` writes each reported epoch into the store, so a cluster's
trials show up live in the dashboard though the workers never see the store. ASHA may stop weak trials
early (they end as "stopped"). Our code travels to the workers as ``py_modules``; each worker loads MNIST
from its own ``MNIST_DIR`` (passed on from the driver's environment) or downloads it. Ray's own results go
to a temporary folder that is removed afterwards: the store keeps everything we need.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from experiments.config import ConfigError, RunConfig
from experiments.i18n import _
from experiments.runs.epoch_stream import SendEpochs
from experiments.runs.ray_cluster import import_ray, join
from experiments.store import RunStore
from experiments.sweeps.local import create_trial_runs
from experiments.sweeps.spec import SweepSpec, Trial, new_sweep_id

# What Tune and ASHA rank trials by: validation accuracy (test accuracy only in a sweep whose trials hold out no
# validation set; a sweep mixing the two is refused, see ``_one_protocol``). Reported beside the epoch's metrics.
METRIC = "rank_acc"


@dataclass(frozen=True)
class RaySweepResult:
    """The sweep id, its run ids and the seconds Tuner.fit took (Ray start-up excluded)."""

    sweep_id: str
    run_ids: list[int]
    seconds: float


def run_ray_sweep(store: RunStore, spec: SweepSpec, trials: Sequence[Trial], *, address: str | None = None,
                  asha: bool = False, workers: int | None = None, sweep_id: str | None = None,
                  source: str = "sweep", stop_event: threading.Event | None = None,
                  progress: Callable[[str], None] | None = None) -> RaySweepResult:
    """Run the trials with Ray Tune (joining ``address``, else a local Ray), writing every epoch to the store.

    Blocks until the sweep ends. ``workers`` caps concurrent trials (and sizes a local Ray). A set
    ``stop_event`` stops every trial at its next epoch; trials that never ran end as "stopped". Ray is joined
    before any trial is stored: a head that cannot be joined is one line (``RayConnectionError``), nothing stored.
    """
    import time

    _one_protocol(trials)
    started_ray = join(address, workers)  # the head asked first, before Ray (slow to import) is imported
    ray = import_ray()
    from ray import tune

    sweep_id = sweep_id or new_sweep_id()
    if spec.is_tpe:  # Optuna's TPE through OptunaSearch, ASHA as the pruner (ray_tune.py)
        return _run_tpe(ray, started_ray, store, spec, sweep_id, workers, source, stop_event, progress)
    run_ids = create_trial_runs(store, spec, trials, sweep_id, source)
    storage = tempfile.mkdtemp(prefix="ray-sweep-")
    from experiments.sweeps.ray_tune import DRIVER, EventStopper, StoreCallback, close_unfinished
    DRIVER[sweep_id] = {"store": store, "stop": stop_event or threading.Event(), "progress": progress}
    try:
        configs = {r: t.config for r, t in zip(run_ids, trials)}
        param_space = {"trial": tune.grid_search([{"run_id": r, "config": t.config.to_dict()}
                                                  for r, t in zip(run_ids, trials)])}
        scheduler = None
        if asha:
            from ray.tune.schedulers import ASHAScheduler
            scheduler = ASHAScheduler(time_attr="training_iteration",
                                      max_t=max(t.config.epochs for t in trials), grace_period=1)
        tuner = tune.Tuner(
            tune.with_resources(_trainable, {"cpu": 1}),
            param_space=param_space,
            tune_config=tune.TuneConfig(metric=METRIC, mode="max", scheduler=scheduler,
                                        max_concurrent_trials=workers or None, reuse_actors=True),
            run_config=tune.RunConfig(name=sweep_id, storage_path=storage, verbose=0, stop=EventStopper(sweep_id),
                                      callbacks=[StoreCallback(sweep_id, configs)]),
        )
        begun = time.perf_counter()
        tuner.fit()
        seconds = time.perf_counter() - begun
    finally:
        close_unfinished(store, run_ids)
        DRIVER.pop(sweep_id, None)
        shutil.rmtree(storage, ignore_errors=True)
        if started_ray:
            ray.shutdown()
    return RaySweepResult(sweep_id, run_ids, seconds)


def _run_tpe(ray: Any, started_ray: bool, store: RunStore, spec: SweepSpec, sweep_id: str, workers: int | None,
             source: str, stop_event: threading.Event | None,
             progress: Callable[[str], None] | None) -> RaySweepResult:
    from experiments.sweeps.ray_tune import run_ray_tpe

    try:
        ids, seconds = run_ray_tpe(store, spec, sweep_id, train_one=_trainable, workers=workers, source=source,
                                   stop_event=stop_event, progress=progress)
    finally:
        if started_ray:
            ray.shutdown()
    return RaySweepResult(sweep_id, ids, seconds)


def _one_protocol(trials: Sequence[Trial]) -> None:
    """Refuse a sweep whose trials mix runs with and without a validation set: they cannot be ranked together."""
    if len({t.config.val_size > 0 for t in trials}) > 1:
        raise ConfigError(_("some trials hold out a validation set and some do not (val_size 0): a sweep ranks "
                            "its trials on one protocol, so give every trial the same val_size"))


# ---------------------------------------------------------------------- on a Ray worker
def _trainable(params: dict) -> None:
    """One trial: our trainer, reporting every epoch to Tune, then a final report if it did not finish."""
    from ray import tune

    from experiments.runs.lifecycle import check_fits
    from experiments.runs.training import load_data, train_config

    config = RunConfig.from_dict(params["trial"]["config"])
    reporter = _ReportEpochs()
    data = load_data(config)
    check_fits(config, data)
    _, result = train_config(config, data, [reporter])
    if result.status != "finished":
        tune.report({**reporter.last, METRIC: reporter.last.get(METRIC, 0.0), "final_status": result.status,
                     "final_message": result.message[:500]})


class _ReportEpochs(SendEpochs):
    """Each epoch's record (``epoch_stream``), with the accuracy Tune ranks by, reported to Tune."""

    def __init__(self) -> None:
        from ray import tune
        super().__init__(tune.report)

    def record(self, epoch: int, logs: dict) -> dict:
        record = super().record(epoch, logs)
        record[METRIC] = record.get("val_acc", record.get("test_acc", 0.0))
        return record
