"""Fixtures of the export tests: runs really trained into the test's store (synthetic images of MNIST's width,
with a validation split, so every kind of stored value is there to export)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from experiments.config import RunConfig
from experiments.runs.lifecycle import execute_run
from experiments.store import RunStore
from nn import Dataset
from nn.status import RunStatus
from tests.conftest import make_blobs

TrainRun = Callable[..., int]


def blobs_784() -> Dataset:
    """Learnable Gaussian blobs, 784 features in [0, 1] like MNIST's scaled pixels, with a validation split."""
    blobs = make_blobs(n_train=500, n_test=300, features=784, seed=3)
    return Dataset(blobs.x_train[:400], blobs.y_train[:400], blobs.x_test, blobs.y_test, source="blobs",
                   x_val=blobs.x_train[400:], y_val=blobs.y_train[400:])


@pytest.fixture
def train_run(store: RunStore) -> TrainRun:
    """Train a run with the given settings on ``blobs_784`` (or ``data``) through the lab's one path for runs
    (epochs, within-epoch points and final weights stored); its id."""
    def train(data: Dataset | None = None, name: str = "exported", **settings: Any) -> int:
        config = RunConfig(**{"hidden": (16,), "epochs": 2, "batch_size": 32, "val_size": 100, **settings})
        run_id = store.create_run(config, name=name, source="test")
        outcome = execute_run(store, run_id, config, load=lambda _config: data or blobs_784())
        assert outcome.status == RunStatus.FINISHED, outcome.message
        return run_id
    return train


def float32_equal(stored: float, read_back: float) -> bool:
    """TensorBoard keeps scalars as float32: equal to the stored double once rounded to float32."""
    return bool(np.float32(stored) == np.float32(read_back))
