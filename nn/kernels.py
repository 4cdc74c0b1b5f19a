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

import os
from collections.abc import Callable
from typing import Any

import numpy as np


def _numba_njit() -> Callable[..., Any] | None:
    """Numba's ``njit``, or None when Numba is missing or MLP_KERNELS=numpy asks for the reference."""
    if os.environ.get("MLP_KERNELS", "").lower() == "numpy":
        return None
    try:
        from numba import njit
    except ImportError:  # the NumPy reference runs instead
        return None
    return njit


njit = _numba_njit()
AVAILABLE = njit is not None


def _compile(function: Callable[..., Any]) -> Callable[..., Any]:
    """Numba-compile ``function`` (cached on disk, GIL released), or return it unchanged without Numba."""
    if njit is None:
        return function
    return njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(function)


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


adam_kernel = _compile(_adam)
momentum_kernel = _compile(_momentum)
rmsprop_kernel = _compile(_rmsprop)
sgd_kernel = _compile(_sgd)


def fusable(*arrays: np.ndarray) -> bool:
    """True when the kernels can run on these arrays: Numba present, 1-D, contiguous, one float dtype."""
    first = arrays[0]
    return AVAILABLE and first.dtype in (np.float32, np.float64) and all(
        a.ndim == 1 and a.flags.c_contiguous and a.dtype == first.dtype for a in arrays)
