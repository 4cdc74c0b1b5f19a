"""Turn a RunConfig into a trained network: the one place where experiments/ calls into nn/."""
from __future__ import annotations

import threading
from typing import Iterable

from nn import MLP, Dataset, TrainResult, fit, get_optimizer, load_mnist
from nn.data import ProgressCallback

from .config import RunConfig


def load_data(config: RunConfig, progress: ProgressCallback | None = None) -> Dataset:
    """The dataset a run trains on (shared read-only within the process), cut to ``train_size``."""
    data = load_mnist(config.data_dir or None, progress)
    if config.train_size and config.train_size < len(data.y_train):
        data = data.subset(config.train_size, len(data.y_test))
    return data


def build_model(config: RunConfig, num_features: int = 784) -> MLP:
    return MLP(config.sizes(num_features), activation=config.activation, seed=config.seed, dtype=config.dtype)


def train_config(config: RunConfig, data: Dataset, callbacks: Iterable = (),
                 stop_event: threading.Event | None = None,
                 pause_event: threading.Event | None = None) -> tuple[MLP, TrainResult]:
    """Build the network and optimizer the config describes and train it on ``data``."""
    model = build_model(config, data.num_features)
    optimizer = get_optimizer(config.optimizer, config.lr)
    result = fit(model, optimizer, data, epochs=config.epochs, batch_size=config.batch_size, l2=config.l2,
                 seed=config.seed, reduction=config.reduction, callbacks=callbacks,
                 stop_event=stop_event, pause_event=pause_event)
    return model, result
