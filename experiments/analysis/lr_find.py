"""The learning-rate finder for a run's settings: a RunConfig and its dataset in, the sweep and its
suggestions out (for the command line's ``lr-find`` and the Train page's "Find a learning rate").

The network swept is built from the config (same architecture, activation, seed and dtype as the run
would start from) and thrown away afterwards; no run is stored.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from experiments.config import MAX_LR, RunConfig
from experiments.runs import threads
from experiments.runs.training import build_model
from nn import Dataset, get_optimizer
from nn.lr_finder import END_LR, START_LR, find_lr

TABLE_ROWS = 12


@dataclass(frozen=True)
class LRFindReport:
    """One finder sweep for one config: the curve, the two suggested learning rates, and its cost."""

    config: RunConfig
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: float | None      # lr where the smoothed loss falls fastest
    minimum: float | None       # lr at the smoothed loss's minimum, / 10
    stopped_early: bool
    seconds: float

    @property
    def suggestion(self) -> float | None:
        """The one lr to offer first: the minimum / 10, else the steepest descent.

        Measured on MNIST's 784-128-10 (benchmarks/bench_lr_finder.py, 5 epochs, validation on the last
        10,000 training images): the minimum / 10 came within half a point of the best lr of a grid from
        1e-4 to 1 for both Adam and SGD, while the steepest descent fell 1.3 points short for SGD.
        """
        return self.minimum if self.minimum is not None else self.steepest

    def table(self, rows: int = TABLE_ROWS) -> list[tuple[float, float, float]]:
        """About ``rows`` (lr, loss, smoothed loss) points spread evenly over the sweep, for printing."""
        picks = np.unique(np.linspace(0, len(self.lrs) - 1, min(rows, len(self.lrs))).round().astype(int))
        return [(float(self.lrs[i]), float(self.losses[i]), float(self.smoothed[i])) for i in picks]

    def to_dict(self) -> dict:
        """JSON-ready (non-finite losses become None)."""
        def clean(values: np.ndarray) -> list[float | None]:
            return [float(v) if math.isfinite(v) else None for v in values]
        return {"config": self.config.to_dict(), "steepest": self.steepest, "minimum": self.minimum,
                "suggestion": self.suggestion, "stopped_early": self.stopped_early, "seconds": self.seconds,
                "lrs": clean(self.lrs), "losses": clean(self.losses), "smoothed": clean(self.smoothed)}


def rounded_lr(lr: float) -> float:
    """An lr to type or pick: two significant digits, within the settings' limit."""
    return min(float(f"{lr:.2g}"), MAX_LR)


def find_learning_rate(config: RunConfig, data: Dataset, steps: int | None = None,
                       start_lr: float = START_LR, end_lr: float = END_LR) -> LRFindReport:
    """Sweep the lr from ``start_lr`` to ``end_lr`` over at most one epoch of ``config``'s batches (or
    ``steps``) on a fresh copy of the network ``config`` describes; ``config.lr`` itself is not used."""
    began = time.perf_counter()
    model = build_model(config, data.num_features)
    with threads.training_threads():  # BLAS threads as training decides them (experiments/runs/threads.py)
        result = find_lr(model, get_optimizer(config.optimizer, config.lr), data.x_train, data.y_train,
                         batch_size=config.batch_size, steps=steps, start_lr=start_lr, end_lr=end_lr, l2=config.l2,
                         reduction=config.reduction, seed=config.seed)
    return LRFindReport(config, result.lrs, result.losses, result.smoothed, result.steepest, result.minimum,
                        result.stopped_early, time.perf_counter() - began)
