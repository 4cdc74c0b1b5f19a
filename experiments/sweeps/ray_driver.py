"""Driver side of a Ray sweep: the Tune callback that writes epochs into the store, and the stop switch.

Imported only once Ray is installed (it imports Ray). Tune pickles its run configuration, callbacks and
stopper included, into its results folder; these classes are importable and hold only a sweep id, so the
store, the stop event and the progress printer stay in ``DRIVER``, in the driver process.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray import tune
from ray.tune.stopper import Stopper

from experiments.config import RunConfig
from experiments.store import EPOCH_METRICS, RunStore
from nn.status import RunStatus

METRIC = "rank_acc"  # as ray_engine.METRIC: validation accuracy, else test accuracy
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
        self._store().log_epoch(run_id, {k: result.get(k) for k in ("epoch", *EPOCH_METRICS)})
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
                  f"the trial raised an error on Ray (details: {error or 'the Ray log'})")

    def _early_end(self, run_id: int) -> tuple[str, str]:
        if DRIVER[self.sweep_id]["stop"].is_set() or self.early_status is RunStatus.STOPPED:
            return RunStatus.STOPPED, "stopped early by the sweep (ASHA or a stop request)"
        return self.early_status, f"pruned by ASHA after epoch {self.epochs.get(run_id, 0)}"

    def _end(self, run_id: int, status: str, message: str) -> None:
        self._store().set_status(run_id, status, message)
        self._say(f"run {run_id} {status}{': ' + message if message else ''}")


def close_unfinished(store: RunStore, run_ids: Sequence[int]) -> None:
    """Runs Tune never ended (never started, or the sweep was interrupted) become "stopped"."""
    for run_id in run_ids:
        if store.get_run(run_id).status in ("queued", "running"):
            store.set_status(run_id, "stopped", "the sweep ended before this trial finished")
