"""Optimizers in the PyTorch style: hyperparameters in the constructor, ``step(params, grads)``.

Each optimizer updates the parameter arrays in place and keeps its own state per parameter (keyed by
the parameter's position in the list). Pass ``[model.flat_params]`` and ``[model.flat_grads]`` to update a
whole network in a few vectorized operations, or ``model.params()`` and ``model.grads()`` layer by layer:
the result is the same.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class Optimizer:
    """Base class: per-parameter state and the ``step`` loop; subclasses write ``_update``."""

    name = "optimizer"

    def __init__(self, lr: float):
        if not lr > 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self.steps = 0

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every parameter, in place."""
        self.steps += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            state = self.state.get(i)
            if state is None or next(iter(state.values()), p).shape != p.shape:
                state = self.state[i] = self._init_state(p)
            self._update(p, g, state)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: p -= lr * g."""

    name = "sgd"

    def _update(self, p, g, state):
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum (PyTorch convention): v = momentum * v + g; p -= lr * v."""

    name = "momentum"

    def __init__(self, lr: float, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = float(momentum)

    def _init_state(self, p):
        return {"velocity": np.zeros_like(p)}

    def _update(self, p, g, state):
        v = state["velocity"]
        v *= self.momentum
        v += g
        p -= self.lr * v


class RMSprop(Optimizer):
    """Divide the step by a running root-mean-square of the gradient: s = rho s + (1 - rho) g^2."""

    name = "rmsprop"

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def _init_state(self, p):
        return {"square_avg": np.zeros_like(p), "scratch": np.zeros_like(p)}

    def _update(self, p, g, state):
        s, scratch = state["square_avg"], state["scratch"]
        s *= self.rho
        np.multiply(g, g, out=scratch)
        scratch *= 1 - self.rho
        s += scratch
        np.sqrt(s, out=scratch)
        scratch += self.eps
        np.divide(g, scratch, out=scratch)
        scratch *= self.lr
        p -= scratch


class Adam(Optimizer):
    """Adam with bias correction: momentum on the gradient and RMSprop-style scaling.

    Textbook:  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr * m_hat / (sqrt(v_hat) + eps),
    with m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t). To make fewer passes over the parameters
    (10 instead of 15), the state keeps m / (1 - b1) and v / (1 - b2), which updates as ``m = b1 m + g``
    without a scaled copy of g, and every constant factor is folded into two scalars per step. The
    result is algebraically the textbook update (tests check it to 1e-12).
    """

    name = "adam"

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _init_state(self, p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p), "scratch": np.zeros_like(p)}

    def _update(self, p, g, state):
        m, v, scratch = state["m"], state["v"], state["scratch"]
        m *= self.beta1                       # m = b1 m + g          (= textbook m / (1 - b1))
        m += g
        v *= self.beta2                       # v = b2 v + g^2        (= textbook v / (1 - b2))
        np.multiply(g, g, out=scratch)
        v += scratch
        # sqrt(v_hat) = root * sqrt(v), so lr m_hat / (sqrt(v_hat) + eps) = step * m / (sqrt(v) + eps / root).
        # Python floats, not NumPy float64 scalars: under NumPy 2's promotion rules a float64 scalar would
        # send each float32 pass below through float64 and a cast back, several times slower.
        t = self.steps
        root = math.sqrt((1 - self.beta2) / (1 - self.beta2 ** t))
        step = self.lr * (1 - self.beta1) / (1 - self.beta1 ** t) / root
        np.sqrt(v, out=scratch)
        scratch += self.eps / root
        np.divide(m, scratch, out=scratch)
        scratch *= step
        p -= scratch


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam)}


def get_optimizer(name: str, lr: float, **hyperparameters: float) -> Optimizer:
    """Build an optimizer by name (case-insensitive): sgd, momentum, rmsprop or adam."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    return cls(lr, **hyperparameters)
