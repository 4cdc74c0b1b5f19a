"""A multilayer perceptron for MNIST in plain NumPy, readable end to end.

    from nn import MLP, EarlyStopping, FitOptions, fit, load_mnist
    from nn.optim import Adam

    data = load_mnist(validation=10_000)              # 50,000 train / 10,000 validation / 10,000 test
    model = MLP([784, 128, 10], activation="relu", seed=0, dropout=0.2)
    result = fit(model, Adam(1e-3), data, FitOptions(epochs=10, batch_size=64), [EarlyStopping("val_loss")])

Modules: ``mlp`` (the network), ``optim`` (optimizers with ``state_dict``), ``loop`` (the training loop:
``fit``, ``FitOptions``), ``callbacks`` (the hooks and their order, stop/pause/divergence controls),
``batch_curve`` (within-epoch points), ``dynamics`` (per-layer norms, update ratios, unit health, histograms),
``early_stopping``, ``schedules`` (learning-rate schedules), ``checkpoint`` (``BackupAndRestore``: save and
resume), ``evaluate``, ``losses``, ``metrics``, ``data`` (MNIST and the validation split), ``pixels`` (stored
uint8 images to network inputs), ``kernels`` (optional Numba passes behind the optimizers, activations and
loss; the NumPy code stays the reference), ``compute`` (products in fixed blocks, the same numbers on any
thread count; subnormals flushed), ``lr_finder``, ``status`` (``RunStatus``).
"""
from .callbacks import Callback, DivergenceGuard, Flag, Order, PauseOnEvent, RunState, Stateful, StopOnEvent
from .checkpoint import BackupAndRestore, Checkpoint, CheckpointError, RunClock, load_checkpoint, save_checkpoint
from .data import DataError, Dataset, load_mnist, split_validation
from .early_stopping import EarlyStopping, best_epoch
from .evaluate import evaluate
from .loop import DIVERGED, FINISHED, STOPPED, FitOptions, TrainResult, fit
from .mlp import MLP
from .optim import OPTIMIZERS, get_optimizer
from .schedules import SCHEDULES, LearningRateScheduler, make_schedule
from .status import RunStatus

__all__ = ["MLP", "Dataset", "DataError", "load_mnist", "split_validation", "fit", "FitOptions", "evaluate",
           "TrainResult", "get_optimizer", "OPTIMIZERS", "RunStatus", "FINISHED", "STOPPED", "DIVERGED",
           "Callback", "Order", "Stateful", "Flag", "RunState", "StopOnEvent", "PauseOnEvent", "DivergenceGuard",
           "EarlyStopping", "best_epoch", "LearningRateScheduler", "make_schedule", "SCHEDULES", "Checkpoint",
           "CheckpointError", "BackupAndRestore", "RunClock", "save_checkpoint", "load_checkpoint"]
