"""What the per-epoch extras cost, for benchmarks/bench_epoch.py: per-batch logging, per-layer statistics, checkpoints.

Each row trains the same run (784-128-10, batch 64, Adam, the test pass; epochs 2-3 timed) through
``train_config`` with one of the product's own recorders (storing into a scratch store, as a dashboard run
does) and compares it, interleaved, with the same run without it.
"""
from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nn import Dataset

SIZES, BATCH = (784, 128, 10), 64


def _extras(folder: Path) -> dict[str, Callable[[], list[Any]]]:
    """Each extra as the product records it (made fresh per run): the within-epoch curve and the per-layer
    monitor writing into a scratch run store (``experiments.store.dynamics``, each measured alone), and a
    checkpoint saved after every epoch."""
    from experiments.config import RunConfig
    from experiments.store import RunStore
    from experiments.store.dynamics import dynamics_callbacks, log_dynamics
    from nn import BackupAndRestore
    from nn.batch_curve import BatchCurve
    from nn.dynamics import LayerMonitor

    store = RunStore(folder / "runs.sqlite")

    def curve() -> list[Any]:
        run_id = store.create_run(RunConfig(), source="benchmark")
        return [cb for cb in dynamics_callbacks(store, run_id) if isinstance(cb, BatchCurve)]

    def layers() -> list[Any]:
        run_id = store.create_run(RunConfig(), source="benchmark")
        return [LayerMonitor(lambda epoch, stats: log_dynamics(store, run_id, (), stats))]

    return {"per-batch logging": curve, "per-layer statistics": layers,
            "checkpoint every epoch": lambda: [BackupAndRestore(folder / "run.ckpt")]}


def _epochs(data: Dataset, seed: int, callbacks: list[Any]) -> list[float]:
    """Epochs 2-3 of a run through the product's path (``train_config``), each with the previous epoch's
    callbacks: the steady state a long run lives in, not the first epoch's set-up."""
    from benchmarks.user_path import epoch_seconds
    from experiments.config import RunConfig
    from experiments.runs.training import train_config

    config = RunConfig(hidden=SIZES[1:-1], epochs=3, batch_size=BATCH, seed=seed, val_size=0)
    _, result = train_config(config, data, callbacks)
    return epoch_seconds([h["elapsed"] for h in result.history])


def hook_costs(data: Dataset, repeats: int) -> dict[str, float]:
    """Each extra's cost as a fraction of the plain epoch (0.05 = 5% slower)."""
    with tempfile.TemporaryDirectory() as tmp:
        present = _extras(Path(tmp))
        times: dict[str, list[float]] = {name: [] for name in ["plain", *present]}
        for r in range(repeats + 1):  # repeat 0 warms up: discarded
            order = [("plain", list), *present.items()]
            for name, make in order[::-1] if r % 2 else order:
                seconds = _epochs(data, r, make())
                if r:
                    times[name] += seconds
    plain = statistics.median(times["plain"])
    costs = {name: statistics.median(times[name]) / plain - 1 for name in present}
    print(f"\nPer-epoch extras (784-128-10 b64, epochs 2-3 + test pass, {repeats} interleaved repeats): "
          f"plain {plain:.3f} s; " + "; ".join(f"{name} {cost:+.1%}" for name, cost in costs.items()))
    return costs
