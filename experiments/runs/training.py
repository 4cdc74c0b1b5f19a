"""RunConfig to nn: the dataset a run trains on and the network, optimizer and callbacks its settings describe."""
from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from experiments.config import ConfigError, RunConfig
from experiments.i18n import _
from experiments.runs import threads
from experiments.runs.completion import RESTORED_AT_END
from nn import (
    MLP,
    OPTIMIZERS,
    BackupAndRestore,
    Callback,
    Checkpoint,
    Dataset,
    EarlyStopping,
    FitOptions,
    LearningRateScheduler,
    Order,
    PauseOnEvent,
    RunClock,
    StopOnEvent,
    TrainResult,
    evaluate,
    fit,
    get_optimizer,
    load_mnist,
    make_schedule,
)
from nn.callbacks import Flag
from nn.data import ProgressCallback
from nn.optim import Optimizer
from nn.schedules import Schedule


def load_data(config: RunConfig, progress: ProgressCallback | None = None) -> Dataset:
    """The dataset a run trains on (shared read-only within the process): ``val_size`` training images held out
    for validation (the same ones for every run, whatever its seed), then the first ``train_size`` of the rest."""
    directory = config.data_dir or None
    full = load_mnist(directory, progress)
    available = len(full.y_train)
    if config.val_size >= available:  # RunConfig checks MNIST's 60,000; another dataset may hold fewer
        raise ConfigError(_("val_size ({val_size}) must be fewer than the {available} training images of this "
                            "dataset").format(val_size=config.val_size, available=available))
    data = load_mnist(full.source, progress, validation=config.val_size)  # the folder just checked
    if config.train_size and config.train_size < len(data.y_train):
        data = data.subset(config.train_size, len(data.y_test))
    return data


def build_model(config: RunConfig, num_features: int = 784) -> MLP:
    init = None if config.init == "auto" else config.init
    return MLP(config.sizes(num_features), activation=config.activation, seed=config.seed, dtype=config.dtype,
               init=init, dropout=config.dropout)


def build_optimizer(config: RunConfig) -> Optimizer:
    """The optimizer with its own constants from the config (momentum, rho, beta1/beta2: those it takes)."""
    takes = OPTIMIZERS[config.optimizer].HYPERPARAMETERS
    constants = {name: getattr(config, name) for name in ("momentum", "rho", "beta1", "beta2") if name in takes}
    return get_optimizer(config.optimizer, config.lr, **constants)


def build_schedule(config: RunConfig) -> Schedule:
    """The learning-rate schedule of the config; cosine decays over the epochs after the warm-up."""
    parameters: dict[str, float | int] = {
        "constant": {},
        "step": {"factor": config.step_factor, "every": config.step_every},
        "exponential": {"gamma": config.gamma},
        "cosine": {"epochs": max(1, config.epochs - config.warmup_epochs), "min_factor": config.cosine_min},
    }[config.schedule]
    return make_schedule(config.schedule, config.lr, warmup_epochs=config.warmup_epochs, **parameters)


def protocol_callbacks(config: RunConfig) -> list[Callback]:
    """The callbacks that are settings: the lr schedule and, if on, early stopping."""
    callbacks: list[Callback] = [LearningRateScheduler(build_schedule(config))]
    if config.early_stopping != "off":
        callbacks.append(EarlyStopping(config.early_stopping, patience=config.patience, min_delta=config.min_delta,
                                       restore_best_weights=config.restore_best))
    return callbacks


def train_config(config: RunConfig, data: Dataset, callbacks: Iterable[Any] = (),
                 stop_event: Flag | None = None,
                 pause_event: Flag | None = None,
                 train_eval_epochs: Collection[int] = (), *,
                 start: Checkpoint | None = None,
                 backup: BackupAndRestore | None = None) -> tuple[MLP, TrainResult]:
    """Build the network, optimizer and callbacks the config describes, once, and train them on ``data``.

    ``pause_event``/``stop_event`` become the ``PauseOnEvent``/``StopOnEvent`` controls. After each epoch in
    ``train_eval_epochs`` the whole training set is also evaluated, before the given callbacks see the logs,
    as ``full_train_loss``/``full_train_acc`` (a full pass costs about a third of an epoch, so only runs that
    need it ask, e.g. to compare with the course report's training accuracies).

    ``start``: a checkpoint to go on from: the model, optimizer and every stateful callback (schedule, early
    stopping, the epochs with a full pass, the clock, the given ones) load their state from it, and training
    goes on after its epoch (CheckpointError, one line, if it does not fit them). ``backup`` checkpoints the
    run after every epoch (it runs after every other callback, so it saves their state of the epoch too).
    """
    model = build_model(config, data.num_features)
    optimizer = build_optimizer(config)
    controls: list[Callback] = []
    if pause_event is not None:
        controls.append(PauseOnEvent(pause_event, stop_event))
    if stop_event is not None:
        controls.append(StopOnEvent(stop_event))
    controls += [TrainSetPass(data, train_eval_epochs, config.l2), RunClock()]
    protocol = protocol_callbacks(config)
    callbacks = list(callbacks)
    last: list[Callback] = [backup] if backup is not None else []
    if start is not None:
        start.restore(model, optimizer, [*controls, *protocol, *callbacks, *last])
    options = FitOptions(epochs=config.epochs, batch_size=config.batch_size, l2=config.l2, seed=config.seed,
                         reduction=config.reduction, initial_epoch=start.epoch if start else 0)
    # threads by context (experiments/runs/threads.py): every core when the run trains alone, a share when
    # others train too; they change the time, never the numbers (nn/compute.py)
    with threads.training_threads():
        result = fit(model, optimizer, data, options,
                     [*controls, *protocol, *callbacks, *last])
    return model, _say_restored(result, protocol)


def _say_restored(result: TrainResult, protocol: list[Callback]) -> TrainResult:
    """A run that ran all its epochs but ends with an earlier epoch's weights (restored by early stopping)
    says so in its message: its saved weights are not its last epoch's."""
    stopper = next((cb for cb in protocol if isinstance(cb, EarlyStopping)), None)
    last = result.history[-1]["epoch"] if result.history else 0
    if (stopper is None or not stopper.restore_best_weights or stopper.stopped_epoch or result.message
            or stopper.best_weights is None or stopper.best_epoch == last):
        return result
    result.message = RESTORED_AT_END.format(epoch=stopper.best_epoch, monitor=stopper.monitor)
    return result


class TrainSetPass(Callback):
    """Adds loss and accuracy on the whole training set, with the epoch's final weights, to chosen epochs' logs.

    The chosen epochs are its state, so a resumed run goes on making the passes it was queued with.
    """

    order = Order.MEASURE

    def __init__(self, data: Dataset, epochs: Collection[int], l2: float = 0.0):
        self.data, self.epochs, self.l2 = data, {int(e) for e in epochs}, l2

    def state_dict(self) -> dict[str, Any]:
        return {"epochs": sorted(self.epochs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.epochs = {int(e) for e in state["epochs"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a training-set pass state ({type(exc).__name__}: {exc})") from None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if epoch in self.epochs:
            result = evaluate(self.loop.model, self.data.x_train, self.data.y_train)
            logs["full_train_loss"], logs["full_train_acc"] = result["loss"], result["acc"]
