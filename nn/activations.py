"""Hidden-layer activations and their derivatives.

Each derivative is written in terms of the activation's *output* ``a`` (not its input), because the
forward pass keeps the outputs anyway: relu' = (a > 0), sigmoid' = a (1 - a), tanh' = 1 - a^2.

The NumPy code is the reference. Where Numba runs (nn/kernels.py), ReLU with the layer's bias added in
the same pass (``bias_forward``) and its derivative are each one compiled pass instead: bit-identical, a
few microseconds less per batch, where NumPy's time goes to call overhead and temporaries.
"""
from __future__ import annotations

import numpy as np

from . import kernels

ACTIVATIONS = ("relu", "sigmoid", "tanh")


def forward(name: str, z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write activation(z) into ``out`` (which may be ``z`` itself) and return it."""
    if name == "relu":
        return np.maximum(z, 0, out=out)
    if name == "sigmoid":
        # 0.5 * (1 + tanh(z / 2)) is the logistic function without overflow for large |z|.
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out += 1
        out *= 0.5
        return out
    if name == "tanh":
        return np.tanh(z, out=out)
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def bias_forward(name: str, z: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Overwrite a layer's pre-bias output ``z`` with activation(z + b) and return it."""
    if name == "relu" and b.ndim == 1 and kernels.batch_fusable(z, b):
        kernels.bias_relu_kernel(z, b)
        return z
    z += b
    return forward(name, z, out=z)


def backward(name: str, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Multiply ``grad`` (dL/da) in place by da/dz, given the activation's output ``a``; return it."""
    if name == "relu" and kernels.batch_fusable(a, grad):
        kernels.relu_backward_kernel(a, grad)
    elif name == "relu":
        np.multiply(grad, a > 0, out=grad)
    elif name == "sigmoid":
        grad *= a * (1 - a)
    elif name == "tanh":
        grad *= 1 - a * a
    else:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return grad
