"""Optimizers in the PyTorch style: hyperparameters in the constructor, ``step(params, grads)``.

Each optimizer updates the parameter arrays in place and keeps its own state per parameter (keyed by
the parameter's position in the list); ``state_dict``/``load_state_dict`` save and restore it (the
PyTorch shape), so a checkpointed run continues exactly. Pass ``[model.flat_params]`` and
``[model.flat_grads]`` to update a whole network in a few vectorized operations, or ``model.params()`` and
``model.grads()`` layer by layer: the result is the same.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import compute, kernels


class Optimizer:
    """Base class: hyperparameters, per-parameter state, the ``step`` loop and ``state_dict``.

    Subclasses name their hyperparameters in ``HYPERPARAMETERS`` (constructor argument names, ``lr`` first)
    and their saved per-parameter arrays in ``STATE``, and write ``_update``. ``SCRATCH`` asks for one work
    buffer per parameter, which is never saved.
    """

    name = "optimizer"
    # Run the compiled one-pass update (nn/kernels.py, bit-identical) where there is one and Numba is
    # installed; False runs the NumPy code below, the readable reference (set it per optimizer or class).
    fused: bool = kernels.AVAILABLE
    HYPERPARAMETERS: tuple[str, ...] = ("lr",)
    STATE: tuple[str, ...] = ()
    SCRATCH = False

    def __init__(self, lr: float):
        if not lr > 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self.steps = 0
        self._scratch: dict[int, np.ndarray] = {}

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every parameter, in place. ValueError if the parameters are not the ones the
        state was built for (another count or shape): state is never silently re-initialised."""
        if self.state and len(params) != len(self.state):
            raise ValueError(f"step got {len(params)} parameter arrays but the optimizer's state holds "
                             f"{len(self.state)}: use a fresh optimizer for another network")
        self.steps += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            state = self.state.get(i)
            if state is None:
                state = self.state[i] = {key: np.zeros_like(p) for key in self.STATE}
            elif state and next(iter(state.values())).shape != p.shape:
                raise ValueError(f"parameter {i} has shape {p.shape} but the optimizer's state was built for "
                                 f"{next(iter(state.values())).shape}: use a fresh optimizer for another network")
            scratch = self._scratch.get(i)
            if self.SCRATCH and (scratch is None or scratch.shape != p.shape or scratch.dtype != p.dtype):
                scratch = self._scratch[i] = np.empty_like(p)
            self._update(p, g, state, scratch)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray],
                scratch: np.ndarray | None) -> None:
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, float]:
        """The constructor arguments that rebuild this optimizer, e.g. ``{"lr": 0.001, "beta1": 0.9, ...}``."""
        return {name: getattr(self, name) for name in self.HYPERPARAMETERS}

    def state_dict(self) -> dict[str, Any]:
        """A copy of everything that determines the next steps, in PyTorch's shape: ``{"kind": name,
        "hyperparameters": {...}, "steps": t, "state": {param index: {array name: array}}}``."""
        return {"kind": self.name, "hyperparameters": self.hyperparameters(), "steps": self.steps,
                "state": {i: {k: a.copy() for k, a in s.items()} for i, s in self.state.items()}}

    def load_state_dict(self, state_dict: dict[str, Any], params: Sequence[np.ndarray] | None = None) -> None:
        """Continue from ``state_dict`` (hyperparameters included, as PyTorch does). ValueError, with nothing
        changed, if it is for another optimizer kind or malformed, or, when ``params`` are given, if its
        arrays do not match their count, shapes and dtypes."""
        kind = state_dict.get("kind")
        if kind != self.name:
            raise ValueError(f"optimizer state is for {kind!r}, not {self.name!r}")
        hyper = dict(state_dict.get("hyperparameters", {}))
        if set(hyper) != set(self.HYPERPARAMETERS):
            raise ValueError(f"{self.name} state has hyperparameters {sorted(hyper)}, "
                             f"expected {sorted(self.HYPERPARAMETERS)}")
        type(self)(**hyper)  # validates the values with the constructor's own checks
        state = {int(i): {k: np.array(a) for k, a in s.items()} for i, s in state_dict.get("state", {}).items()}
        _check_state(self.name, self.STATE, state, params)
        steps = int(state_dict.get("steps", -1))
        if steps < 0 or (state and steps == 0):
            raise ValueError(f"{self.name} state has an invalid step count {state_dict.get('steps')!r}")
        for name, value in hyper.items():
            setattr(self, name, float(value))
        self.state, self.steps, self._scratch = state, steps, {}


def _check_state(kind: str, names: tuple[str, ...], state: dict[int, dict[str, np.ndarray]],
                 params: Sequence[np.ndarray] | None) -> None:
    """ValueError unless ``state`` holds exactly ``names`` per parameter and fits ``params`` (if given)."""
    for i, arrays in state.items():
        if set(arrays) != set(names):
            raise ValueError(f"{kind} state for parameter {i} holds {sorted(arrays)}, expected {sorted(names)}")
    if params is None or not state:
        return
    if sorted(state) != list(range(len(params))):
        raise ValueError(f"{kind} state covers {len(state)} parameter arrays, the model has {len(params)}")
    for i, p in enumerate(params):
        for key, a in state[i].items():
            if a.shape != p.shape or a.dtype != p.dtype:
                raise ValueError(f"{kind} state {key!r} of parameter {i} is {a.dtype}{list(a.shape)}, "
                                 f"the parameter is {p.dtype}{list(p.shape)}: another architecture")


def _unit_interval(name: str, value: float) -> float:
    """``value`` as a float if 0 <= value < 1 (a decay constant), else ValueError."""
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


class SGD(Optimizer):
    """Plain gradient descent: p -= lr * g."""

    name = "sgd"

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], scratch: Any) -> None:
        if self.fused and kernels.fusable(p, g):
            compute.elementwise(kernels.sgd_kernel, (p, g), p.dtype.type(self.lr))
            return
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum (PyTorch convention): v = momentum * v + g; p -= lr * v."""

    name = "momentum"
    HYPERPARAMETERS = ("lr", "momentum")
    STATE = ("velocity",)

    def __init__(self, lr: float, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _unit_interval("momentum", momentum)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], scratch: Any) -> None:
        v = state["velocity"]
        if self.fused and kernels.fusable(p, g, v):
            compute.elementwise(kernels.momentum_kernel, (p, g, v), p.dtype.type(self.momentum), p.dtype.type(self.lr))
            return
        v *= self.momentum
        v += g
        p -= self.lr * v


class RMSprop(Optimizer):
    """Divide the step by a running root-mean-square of the gradient: s = rho s + (1 - rho) g^2."""

    name = "rmsprop"
    HYPERPARAMETERS = ("lr", "rho", "eps")
    STATE = ("square_avg",)
    SCRATCH = True

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = _unit_interval("rho", rho), _positive("eps", eps)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], scratch: Any) -> None:
        s = state["square_avg"]
        if self.fused and kernels.fusable(p, g, s):
            f = p.dtype.type
            compute.elementwise(kernels.rmsprop_kernel, (p, g, s), f(self.rho), f(1 - self.rho), f(self.eps),
                                f(self.lr))
            return
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
    HYPERPARAMETERS = ("lr", "beta1", "beta2", "eps")
    STATE = ("m", "v")
    SCRATCH = True

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2 = _unit_interval("beta1", beta1), _unit_interval("beta2", beta2)
        self.eps = _positive("eps", eps)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], scratch: Any) -> None:
        m, v = state["m"], state["v"]
        if self.fused and kernels.fusable(p, g, m, v):  # the same arithmetic in one pass
            root, step = self._scalars()
            f = p.dtype.type
            compute.elementwise(kernels.adam_kernel, (p, g, m, v), f(self.beta1), f(self.beta2), f(self.eps / root),
                                f(step))
            return
        m *= self.beta1                       # m = b1 m + g          (= textbook m / (1 - b1))
        m += g
        v *= self.beta2                       # v = b2 v + g^2        (= textbook v / (1 - b2))
        np.multiply(g, g, out=scratch)
        v += scratch
        # sqrt(v_hat) = root * sqrt(v), so lr m_hat / (sqrt(v_hat) + eps) = step * m / (sqrt(v) + eps / root).
        # Python floats, not NumPy float64 scalars: under NumPy 2's promotion rules a float64 scalar would
        # send each float32 pass below through float64 and a cast back, several times slower.
        root, step = self._scalars()
        np.sqrt(v, out=scratch)
        scratch += self.eps / root
        np.divide(m, scratch, out=scratch)
        scratch *= step
        p -= scratch

    def _scalars(self) -> tuple[float, float]:
        """(root, step) of this step t: sqrt((1 - b2) / (1 - b2^t)) and lr (1 - b1) / (1 - b1^t) / root."""
        t = self.steps
        root = math.sqrt((1 - self.beta2) / (1 - self.beta2 ** t))
        return root, self.lr * (1 - self.beta1) / (1 - self.beta1 ** t) / root


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam)}


def get_optimizer(name: str, lr: float, **hyperparameters: float) -> Optimizer:
    """Build an optimizer by name (case-insensitive): sgd, momentum, rmsprop or adam."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    return cls(lr, **hyperparameters)
