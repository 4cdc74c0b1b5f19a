"""Synthetic run histories in a temporary store, for the insights tests (no training: epochs are written)."""
from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from experiments.config import RunConfig
from experiments.store import RunStore
from nn.status import RunStatus

LRS = (0.1, 0.01, 0.001)
BATCHES = (32, 128)
WIDTHS = ((64,), (128,))


def make_history(store: RunStore, score: Callable[[RunConfig], float], seeds: int = 3, noise: float = 0.002,
                 rng_seed: int = 0, tag: str = "hist", epochs: int = 3, train_size: int = 1000) -> list[int]:
    """One finished run per (lr, batch, width, seed); accuracy per epoch rises to ``score(config)`` + noise."""
    rng = np.random.default_rng(rng_seed)
    ids = []
    for lr, batch, hidden, seed in itertools.product(LRS, BATCHES, WIDTHS, range(seeds)):
        config = RunConfig(lr=lr, batch_size=batch, hidden=hidden, seed=seed, epochs=epochs, train_size=train_size)
        run_id = store.create_run(config, tags=[tag])
        final = score(config) + rng.normal(0, noise)
        for epoch in range(1, epochs + 1):
            acc = final - 0.01 * (epochs - epoch)
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.1, "train_acc": acc, "test_loss": 0.1,
                                     "test_acc": acc, "val_loss": 0.1, "val_acc": acc, "seconds": 0.1,
                                     "elapsed": 0.1 * epoch})
        store.set_status(run_id, RunStatus.FINISHED)
        ids.append(run_id)
    return ids


def only_lr(config: RunConfig) -> float:
    return 0.95 if config.lr == 0.01 else 0.90


def nothing(config: RunConfig) -> float:
    return 0.93
