"""Fused kernels: the optimizers' elementwise updates as one pass over the parameters, compiled by Numba.

Why: NumPy runs an update such as Adam's as one array pass per operation (10 passes over the parameters,
each reading and writing whole arrays), about 30% of an epoch of 784-128-10 at batch 64. A compiled loop
reads each parameter, gradient and moment once and does all the arithmetic in registers.

Why Numba (and not threads or numexpr): its loop does exactly the float32 operations of the NumPy
reference in the same order (no fast-math, no fused multiply-add), so results are bit-identical and
tests check equality, not closeness; it needs no thread pool, so it cannot contend with BLAS or with
other runs for the cores; numexpr would need three expressions (one output each) and its own threads.
Numba is optional: without it (or with ``MLP_KERNELS=numpy``) ``AVAILABLE`` is False and the optimizers
run their plain NumPy code, which stays the readable reference (nn/optim.py).

The kernels take float32 or float64 arrays (all of one dtype) and scalars already converted to that
dtype by the caller, exactly as NumPy would convert a Python float in ``array * float``.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np


def _numba_wanted() -> bool:
    """Numba is installed and MLP_KERNELS=numpy does not ask for the reference (no import: it takes 0.25 s)."""
    return os.environ.get("MLP_KERNELS", "").lower() != "numpy" and importlib.util.find_spec("numba") is not None


AVAILABLE = _numba_wanted()


class _Kernel:
    """A loop compiled by Numba on its first call (cached on disk, GIL released); plain Python without Numba."""

    def __init__(self, function: Callable[..., None]):
        self.function, self.compiled = function, None if AVAILABLE else function
        self.__doc__ = function.__doc__
        self._lock = threading.Lock()  # a seed group's threads may make the first call together

    def __call__(self, *args: Any) -> None:
        if self.compiled is None:
            with self._lock:
                if self.compiled is None:
                    from numba import njit

                    self.compiled = njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(self.function)
        self.compiled(*args)


def _adam(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, beta1: Any, beta2: Any,
          eps: Any, step: Any) -> None:
    """In place: m = b1 m + g; v = b2 v + g^2; p -= (m / (sqrt(v) + eps)) * step (Adam in optim.py's form)."""
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * beta1 + gi
        vi = v[i] * beta2 + gi * gi
        m[i] = mi
        v[i] = vi
        p[i] -= mi / (np.sqrt(vi) + eps) * step


def _momentum(p: np.ndarray, g: np.ndarray, velocity: np.ndarray, momentum: Any, lr: Any) -> None:
    """In place: v = momentum v + g; p -= lr v."""
    for i in range(p.size):
        vi = velocity[i] * momentum + g[i]
        velocity[i] = vi
        p[i] -= lr * vi


def _rmsprop(p: np.ndarray, g: np.ndarray, square_avg: np.ndarray, rho: Any, one_minus_rho: Any, eps: Any,
             lr: Any) -> None:
    """In place: s = rho s + (g^2) (1 - rho); p -= (g / (sqrt(s) + eps)) * lr."""
    for i in range(p.size):
        gi = g[i]
        si = square_avg[i] * rho + gi * gi * one_minus_rho
        square_avg[i] = si
        p[i] -= gi / (np.sqrt(si) + eps) * lr


def _sgd(p: np.ndarray, g: np.ndarray, lr: Any) -> None:
    """In place: p -= lr g (without NumPy's temporary for lr g)."""
    for i in range(p.size):
        p[i] -= lr * g[i]


adam_kernel = _Kernel(_adam)
momentum_kernel = _Kernel(_momentum)
rmsprop_kernel = _Kernel(_rmsprop)
sgd_kernel = _Kernel(_sgd)


def fusable(*arrays: np.ndarray) -> bool:
    """True when the kernels can run on these arrays: Numba present, 1-D, contiguous, one float dtype."""
    first = arrays[0]
    return AVAILABLE and first.dtype in (np.float32, np.float64) and all(
        a.ndim == 1 and a.flags.c_contiguous and a.dtype == first.dtype for a in arrays)
