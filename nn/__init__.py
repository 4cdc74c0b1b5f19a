"""A multilayer perceptron for MNIST in plain NumPy, readable end to end.

    from nn import MLP, load_mnist, fit
    from nn.optim import Adam

    data = load_mnist()
    model = MLP([784, 128, 10], activation="relu", seed=0)
    result = fit(model, Adam(1e-3), data, epochs=10, batch_size=64)
"""
from .data import DataError, Dataset, load_mnist
from .mlp import MLP
from .optim import OPTIMIZERS, get_optimizer
from .status import RunStatus
from .train import DIVERGED, FINISHED, STOPPED, TrainResult, evaluate, fit

__all__ = ["MLP", "Dataset", "DataError", "load_mnist", "fit", "evaluate", "TrainResult", "get_optimizer",
           "OPTIMIZERS", "RunStatus", "FINISHED", "STOPPED", "DIVERGED"]
