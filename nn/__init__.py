"""A multilayer perceptron for MNIST in plain NumPy, readable end to end.

    from nn import MLP, FitOptions, load_mnist, fit
    from nn.optim import Adam

    data = load_mnist()
    model = MLP([784, 128, 10], activation="relu", seed=0)
    result = fit(model, Adam(1e-3), data, FitOptions(epochs=10, batch_size=64))
"""
from .callbacks import Callback, DivergenceGuard, PauseOnEvent, StopOnEvent, TrainingLoop
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .data import DataError, Dataset, load_mnist, split_validation
from .early_stopping import EarlyStopping, best_epoch
from .evaluate import evaluate
from .mlp import MLP
from .optim import OPTIMIZERS, get_optimizer
from .status import RunStatus
from .train import DIVERGED, FINISHED, STOPPED, FitOptions, TrainResult, fit

__all__ = ["MLP", "Dataset", "DataError", "load_mnist", "fit", "FitOptions", "evaluate", "TrainResult",
           "get_optimizer", "OPTIMIZERS", "RunStatus", "FINISHED", "STOPPED", "DIVERGED", "Callback",
           "TrainingLoop", "StopOnEvent", "PauseOnEvent", "DivergenceGuard", "Checkpoint", "CheckpointError",
           "save_checkpoint", "load_checkpoint", "split_validation", "EarlyStopping", "best_epoch"]
