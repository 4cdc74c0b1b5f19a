"""What the per-epoch extras cost, for benchmarks/bench_epoch.py: per-batch logging, per-layer statistics, checkpoints.

Each row trains the same epoch (784-128-10, batch 64, Adam, the test pass) through ``train_config`` with one extra
callback and compares it, interleaved, with the same epoch without it. A row whose feature does not exist
in this checkout says "n/a yet" rather than inventing one.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nn import Dataset

SIZES, BATCH = (784, 128, 10), 64


class BatchLossLog:
    """Per-batch logging as a callback does it: keep every batch's loss and accuracy (what a live chart reads)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float, float]] = []
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.rows.append((self.epoch, batch, logs["loss"], logs["correct"] / logs["size"]))


def _extras(folder: Path) -> dict[str, Callable[[], list[Any]] | None]:
    """Each extra's callbacks (made fresh per run), or None when this checkout does not have it."""
    extras: dict[str, Callable[[], list[Any]] | None] = {"per-batch logging": lambda: [BatchLossLog()]}
    try:
        from nn import SaveCheckpoint
    except ImportError:
        extras["checkpoint every epoch"] = None
    else:
        extras["checkpoint every epoch"] = lambda: [SaveCheckpoint(folder / "run.ckpt")]
    try:
        from nn import LayerStatistics  # type: ignore[attr-defined]
    except ImportError:
        extras["per-layer statistics"] = None
    else:
        extras["per-layer statistics"] = lambda: [LayerStatistics()]
    return extras


def _epoch(data: Dataset, seed: int, callbacks: list[Any]) -> float:
    """One epoch through the product's path (``train_config``: its BLAS threads, its callbacks)."""
    from experiments.config import RunConfig
    from experiments.runs.execute import train_config

    config = RunConfig(hidden=SIZES[1:-1], epochs=1, batch_size=BATCH, seed=seed)
    start = time.perf_counter()
    train_config(config, data, callbacks)
    return time.perf_counter() - start


def hook_costs(data: Dataset, repeats: int) -> dict[str, float | None]:
    """Each extra's cost as a fraction of the plain epoch (0.05 = 5% slower), or None when it does not exist."""
    with tempfile.TemporaryDirectory() as tmp:
        extras = _extras(Path(tmp))
        present = {name: make for name, make in extras.items() if make is not None}
        times: dict[str, list[float]] = {name: [] for name in ["plain", *present]}
        for r in range(repeats + 1):  # repeat 0 warms up: discarded
            order = [("plain", list), *present.items()]
            for name, make in order[::-1] if r % 2 else order:
                seconds = _epoch(data, r, make())
                if r:
                    times[name].append(seconds)
    plain = statistics.median(times["plain"])
    costs: dict[str, float | None] = {name: None for name in extras}
    costs.update({name: statistics.median(times[name]) / plain - 1 for name in present})
    print(f"\nPer-epoch extras (784-128-10 b64, epoch + test pass, {repeats} interleaved repeats): "
          f"plain {plain:.3f} s; "
          + "; ".join(f"{name} {'n/a yet' if cost is None else f'{cost:+.1%}'}" for name, cost in costs.items()))
    return costs
