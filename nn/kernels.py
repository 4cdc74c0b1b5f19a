"""Fused kernels: elementwise passes compiled by Numba, for the optimizers' updates and a batch's small steps.

Why: NumPy runs an update such as Adam's as one array pass per operation (10 passes over the parameters,
each reading and writing whole arrays), about 30% of an epoch of 784-128-10 at batch 64. A compiled loop
reads each parameter, gradient and moment once and does all the arithmetic in registers. A batch's small
steps (bias + ReLU, the ReLU's derivative, softmax cross-entropy on (n, 10) logits) cost NumPy a few
microseconds per call each, mostly call overhead and temporaries, at every one of an epoch's ~1000 steps:
one compiled pass each does the same work in a fraction of that (nn/activations.py and nn/losses.py call
them, and keep their NumPy code as the reference).

Why Numba (and not threads or numexpr): its loop does exactly the float32 operations of the NumPy
reference in the same order (no fast-math, no fused multiply-add), so results are bit-identical and
tests check equality, not closeness (Numba's exp is the C library's, not NumPy's SIMD exp, so softmax
runs NumPy's exp between two kernels); it needs no thread pool, so it cannot contend with BLAS or with
other runs for the cores; numexpr would need three expressions (one output each) and its own threads.
Numba is optional: without it (or with ``MLP_KERNELS=numpy``) ``AVAILABLE`` is False and every caller
runs its plain NumPy code, which stays the readable reference (nn/optim.py, nn/activations.py,
nn/losses.py); ``Optimizer.fused`` and ``batch_fused`` below switch each group off at run time.

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
# The batch kernels' switch, as ``Optimizer.fused`` is the optimizers': False runs the NumPy reference in
# nn/activations.py and nn/losses.py (benchmarks/steps.py times both ways; ``batch_fusable`` reads it).
batch_fused: bool = AVAILABLE


class _Kernel:
    """A loop compiled by Numba on its first call (cached on disk, GIL released); plain Python without Numba."""

    def __init__(self, function: Callable[..., Any]):
        self.function, self.compiled = function, None if AVAILABLE else function
        self.__doc__ = function.__doc__
        self._lock = threading.Lock()  # runs training side by side may make the first call together

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            with self._lock:
                if self.compiled is None:
                    from numba import njit

                    self.compiled = njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(self.function)
        return self.compiled(*args)


def _adam(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, beta1: Any, beta2: Any,
          eps: Any, step: Any) -> None:
    """In place: m = b1 m + g; v = b2 v + g^2; p -= (m / (sqrt(v) + eps)) * step (Adam in optim.py's form)."""
    if g.size != p.size or m.size != p.size or v.size != p.size:  # the loop would read past an array's end
        raise ValueError("the parameters, gradients and moments differ in size")
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * beta1 + gi
        vi = v[i] * beta2 + gi * gi
        m[i] = mi
        v[i] = vi
        p[i] -= mi / (np.sqrt(vi) + eps) * step


def _momentum(p: np.ndarray, g: np.ndarray, velocity: np.ndarray, momentum: Any, lr: Any) -> None:
    """In place: v = momentum v + g; p -= lr v."""
    if g.size != p.size or velocity.size != p.size:
        raise ValueError("the parameters, gradients and velocities differ in size")
    for i in range(p.size):
        vi = velocity[i] * momentum + g[i]
        velocity[i] = vi
        p[i] -= lr * vi


def _rmsprop(p: np.ndarray, g: np.ndarray, square_avg: np.ndarray, rho: Any, one_minus_rho: Any, eps: Any,
             lr: Any) -> None:
    """In place: s = rho s + (g^2) (1 - rho); p -= (g / (sqrt(s) + eps)) * lr."""
    if g.size != p.size or square_avg.size != p.size:
        raise ValueError("the parameters, gradients and square averages differ in size")
    for i in range(p.size):
        gi = g[i]
        si = square_avg[i] * rho + gi * gi * one_minus_rho
        square_avg[i] = si
        p[i] -= gi / (np.sqrt(si) + eps) * lr


def _sgd(p: np.ndarray, g: np.ndarray, lr: Any) -> None:
    """In place: p -= lr g (without NumPy's temporary for lr g)."""
    if g.size != p.size:
        raise ValueError("the parameters and gradients differ in size")
    for i in range(p.size):
        p[i] -= lr * g[i]


def _bias_relu(z: np.ndarray, b: np.ndarray) -> None:
    """In place: z = max(z + b, 0), b added along z's last axis (as ``z += b``). NaN stays NaN, as in
    ``np.maximum`` (so a diverging run is still seen), and -0.0 becomes 0.0, as NumPy's does."""
    width = b.size
    if z.shape[-1] != width:
        raise ValueError("the bias's length is not the width of the layer")
    rows = z.reshape(-1, width)
    for r in range(rows.shape[0]):
        for c in range(width):
            v = rows[r, c] + b[c]
            if v <= 0:
                v = 0
            rows[r, c] = v


def _relu_backward(a: np.ndarray, grad: np.ndarray) -> None:
    """In place: grad *= (a > 0), a multiplication (not a select) so NaN, inf and -0.0 come out as NumPy's."""
    if a.shape != grad.shape:
        raise ValueError("the activations and their gradient differ in shape")
    a, grad = a.reshape(-1), grad.reshape(-1)
    for i in range(grad.size):
        grad[i] = grad[i] * (a[i] > 0)


def _softmax_shift(logits: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """First half of softmax cross-entropy on (n, classes) logits: subtract each row's max, in place.
    Returns (minus the sum of the shifted target logits, in float64; rows whose argmax is the label).
    The first NaN wins the argmax, as in ``np.argmax``, and spreads to the loss and gradient.
    ValueError for a label outside 0 .. classes - 1 (the reference would read another row's logit)."""
    n, classes = logits.shape
    if y.size != n:
        raise ValueError("the labels are not one per row of logits")
    minus_targets, correct = 0.0, 0
    for r in range(n):
        label = y[r]
        if label < 0 or label >= classes:
            raise ValueError("a label is outside 0 .. classes - 1")
        best, top = 0, logits[r, 0]
        for j in range(1, classes):
            v = logits[r, j]
            if v > top or (v != v and top == top):
                best, top = j, v
        correct += best == label
        for j in range(classes):
            logits[r, j] = logits[r, j] - top
        minus_targets -= float(logits[r, label])
    return minus_targets, correct


def _softmax_grad(e: np.ndarray, y: np.ndarray, scale: Any) -> float:
    """Second half, on e = exp(shifted logits) (NumPy's exp, run between the two halves): overwrite each
    row with (e / sum(e) - onehot(y)) * scale and return the sum of log(sum(e)) over rows, in float64.
    The row's sum adds up as NumPy's ``sum(axis=1)`` does (its pairwise sum: in order below 8 classes,
    else 8 running sums combined as a tree, then the rest in order; callers keep to 128 classes, where
    NumPy starts splitting in halves), so the gradient is bit-identical to the reference's. Takes the
    labels ``_softmax_shift`` checked."""
    n, classes = e.shape
    logs = 0.0
    for r in range(n):
        row = e[r]
        if classes < 8:
            total = row[0]
            for j in range(1, classes):
                total += row[j]
        else:
            s0, s1, s2, s3, s4, s5, s6, s7 = row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
            full = classes - classes % 8
            for j in range(8, full, 8):
                s0, s1, s2, s3 = s0 + row[j], s1 + row[j + 1], s2 + row[j + 2], s3 + row[j + 3]
                s4, s5, s6, s7 = s4 + row[j + 4], s5 + row[j + 5], s6 + row[j + 6], s7 + row[j + 7]
            total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
            for j in range(full, classes):
                total += row[j]
        logs += np.log(float(total))
        for j in range(classes):
            row[j] = row[j] / total
        row[y[r]] = row[y[r]] - 1
        for j in range(classes):
            row[j] = row[j] * scale
    return logs


adam_kernel = _Kernel(_adam)
momentum_kernel = _Kernel(_momentum)
rmsprop_kernel = _Kernel(_rmsprop)
sgd_kernel = _Kernel(_sgd)
bias_relu_kernel = _Kernel(_bias_relu)
relu_backward_kernel = _Kernel(_relu_backward)
softmax_shift_kernel = _Kernel(_softmax_shift)
softmax_grad_kernel = _Kernel(_softmax_grad)


def fusable(*arrays: np.ndarray, ndim: int | None = 1) -> bool:
    """True when the kernels can run on these arrays: Numba present, ``ndim`` dimensions (None: any),
    C-contiguous, one float dtype. (The batch kernels check that their arrays' shapes agree.) A plain
    loop, not ``all()`` over a generator: this runs several times per batch, and that halves its cost."""
    dtype = arrays[0].dtype
    if not AVAILABLE or dtype.char not in "fd":
        return False
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous or (ndim is not None and a.ndim != ndim):
            return False
    return True


def batch_fusable(*arrays: np.ndarray, ndim: int | None = None) -> bool:
    """``fusable`` for the batch kernels (any number of dimensions unless ``ndim``), while ``batch_fused``."""
    return batch_fused and fusable(*arrays, ndim=ndim)
