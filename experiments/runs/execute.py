"""Turn a RunConfig into a trained network: the one place where experiments/ calls into nn/."""
from __future__ import annotations

import os
from collections.abc import Collection, Iterable

from threadpoolctl import threadpool_limits

from experiments.config import RunConfig
from nn import (
    MLP,
    Callback,
    Dataset,
    FitOptions,
    PauseOnEvent,
    StopOnEvent,
    TrainResult,
    evaluate,
    fit,
    get_optimizer,
    load_mnist,
)
from nn.callbacks import Flag
from nn.data import ProgressCallback

# BLAS threads per process while training. One is the default: at this network's sizes a second thread
# gains little on an idle machine, but when anything else wants the cores (the browser drawing charts,
# a second run, a test suite) OpenBLAS's spinning threads made epochs 10-40x slower here. Set
# MLP_BLAS_THREADS to use more on a machine with cores to spare.
BLAS_THREADS = max(1, int(os.environ.get("MLP_BLAS_THREADS", "1") or 1))


def load_data(config: RunConfig, progress: ProgressCallback | None = None) -> Dataset:
    """The dataset a run trains on (shared read-only within the process), cut to ``train_size``."""
    data = load_mnist(config.data_dir or None, progress)
    if config.train_size and config.train_size < len(data.y_train):
        data = data.subset(config.train_size, len(data.y_test))
    return data


def build_model(config: RunConfig, num_features: int = 784) -> MLP:
    return MLP(config.sizes(num_features), activation=config.activation, seed=config.seed, dtype=config.dtype)


def train_config(config: RunConfig, data: Dataset, callbacks: Iterable = (),
                 stop_event: Flag | None = None,
                 pause_event: Flag | None = None,
                 train_eval_epochs: Collection[int] = ()) -> tuple[MLP, TrainResult]:
    """Build the network and optimizer the config describes and train it on ``data``.

    ``pause_event``/``stop_event`` become the ``PauseOnEvent``/``StopOnEvent`` controls, run before the
    given callbacks. After each epoch in ``train_eval_epochs`` the whole training set is also evaluated,
    before any given callback sees the logs, as ``full_train_loss``/``full_train_acc`` (a full pass costs
    about a third of an epoch, so only runs that need it ask, e.g. to compare with the course report's
    training accuracies).
    """
    threadpool_limits(BLAS_THREADS, user_api="blas")  # process-wide; see BLAS_THREADS
    model = build_model(config, data.num_features)
    optimizer = get_optimizer(config.optimizer, config.lr)
    controls: list[Callback] = []
    if pause_event is not None:
        controls.append(PauseOnEvent(pause_event, stop_event))
    if stop_event is not None:
        controls.append(StopOnEvent(stop_event))
    if train_eval_epochs:
        controls.append(TrainSetPass(model, data, train_eval_epochs, config.l2))
    options = FitOptions(epochs=config.epochs, batch_size=config.batch_size, l2=config.l2, seed=config.seed,
                         reduction=config.reduction)
    result = fit(model, optimizer, data, options, [*controls, *callbacks])
    return model, result


class TrainSetPass(Callback):
    """Adds loss and accuracy on the whole training set, with the epoch's final weights, to chosen epochs' logs."""

    def __init__(self, model: MLP, data: Dataset, epochs: Collection[int], l2: float = 0.0):
        self.model, self.data, self.epochs, self.l2 = model, data, set(int(e) for e in epochs), l2

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if epoch in self.epochs:
            result = evaluate(self.model, self.data.x_train, self.data.y_train, self.l2)
            logs["full_train_loss"], logs["full_train_acc"] = result["loss"], result["acc"]
