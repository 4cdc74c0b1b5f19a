"""A multilayer perceptron: forward pass and backward pass side by side, in plain NumPy.

All parameters live in one flat buffer (``flat_params``) and ``weights``/``biases`` are views into it;
gradients likewise live in ``flat_grads``. Layer code reads naturally per layer, while an optimizer can
update the whole network in a handful of vectorized operations on the two flat buffers.

Inputs are float rows, or stored uint8 pixel rows (MNIST as ``load_mnist`` keeps it), which every entry
point scales to [0, 1] through ``nn.pixels.as_inputs``.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import activations, compute
from .losses import softmax_cross_entropy_step
from .pixels import as_inputs, is_pixels

REDUCTIONS = ("mean", "sum")
INITIALISATIONS = ("he", "glorot", "small")


@dataclass
class _Work:
    """Per-batch-size work arrays, allocated once (dropout's only when the network uses dropout)."""

    outputs: list[np.ndarray]   # each layer's output: hidden activations (before dropout), logits last
    deltas: list[np.ndarray]    # backward: the gradient with respect to each hidden layer's output
    ones: np.ndarray            # n ones: a matmul with them sums a delta's columns (the bias gradient)
    masks: list[np.ndarray] = field(default_factory=list)    # dropout masks, already scaled by 1 / (1 - rate)
    dropped: list[np.ndarray] = field(default_factory=list)  # hidden activations after dropout


class MLP:
    """Fully connected network: hidden layers with one activation, softmax output.

    ``sizes`` lists the layer widths from input to output, e.g. ``[784, 128, 10]``. Initialisation is
    seeded; ``init`` is "he" (normal, sqrt(2 / fan_in)), "glorot" (uniform, sqrt(6 / (fan_in + fan_out)))
    or "small" (0.01 * standard normal, as many first networks do); None picks he for relu, glorot for
    sigmoid and tanh. ``dropout`` is the rate of inverted dropout on every hidden layer while training
    (``backprop``; kept units are scaled by 1 / (1 - rate)), never at evaluation; its masks are drawn from
    ``dropout_rng``, which ``fit`` reseeds from (seed, epoch) so runs replay exactly.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", seed: int = 0,
                 dtype: str | type | np.dtype = np.float32, *, init: str | None = None, dropout: float = 0.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least an input and an output width, all >= 1; got {sizes}")
        if activation not in activations.ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(activations.ACTIVATIONS)}")
        if init is not None and init not in INITIALISATIONS:
            raise ValueError(f"unknown initialisation {init!r}; choose one of {', '.join(INITIALISATIONS)}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout rate must be in [0, 1), got {dropout}")
        self.sizes = sizes
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.init = init or ("he" if activation == "relu" else "glorot")
        self.dropout = float(dropout)
        self.dropout_rng = np.random.default_rng([seed, 0, 1])
        shapes = [shape for fan_in, fan_out in zip(sizes[:-1], sizes[1:]) for shape in ((fan_in, fan_out), (fan_out,))]
        self.flat_params = np.zeros(sum(int(np.prod(s)) for s in shapes), dtype=self.dtype)
        self.flat_grads = np.zeros_like(self.flat_params)
        params, grads = _views(self.flat_params, shapes), _views(self.flat_grads, shapes)
        self.weights, self.biases = params[0::2], params[1::2]
        self.weight_grads, self.bias_grads = grads[0::2], grads[1::2]
        self._init_weights(np.random.default_rng(seed))
        self._buffers: dict[int, _Work] = {}

    def _init_weights(self, rng: np.random.Generator) -> None:
        for W in self.weights:
            fan_in, fan_out = W.shape
            if self.init == "he":
                W[...] = rng.standard_normal(W.shape) * np.sqrt(2.0 / fan_in)
            elif self.init == "glorot":
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-limit, limit, W.shape)
            else:
                W[...] = 0.01 * rng.standard_normal(W.shape)

    # ------------------------------------------------------------------ parameters
    def params(self) -> list[np.ndarray]:
        """The live parameter arrays ``[W1, b1, W2, b2, ...]`` (views, not copies)."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def grads(self) -> list[np.ndarray]:
        """The gradient arrays in the order of ``params()``, as left by the last backward pass."""
        return [g for pair in zip(self.weight_grads, self.bias_grads) for g in pair]

    def num_params(self) -> int:
        return self.flat_params.size

    # ------------------------------------------------------------------ forward
    def _work(self, n: int) -> _Work:
        """The work arrays for batches of ``n`` rows, allocated on first use."""
        if n not in self._buffers:
            if len(self._buffers) > 4:  # a few batch sizes at most: full, last partial, evaluation chunk
                self._buffers.clear()
            hidden = self.sizes[1:-1]
            self._buffers[n] = _Work(outputs=[np.empty((n, width), self.dtype) for width in self.sizes[1:]],
                                     deltas=[np.empty((n, width), self.dtype) for width in hidden],
                                     ones=np.ones(n, self.dtype))
            if self.dropout:
                self._buffers[n].masks = [np.empty((n, width), self.dtype) for width in hidden]
                self._buffers[n].dropped = [np.empty((n, width), self.dtype) for width in hidden]
        return self._buffers[n]

    def _forward(self, X: np.ndarray, training: bool = False) -> list[np.ndarray]:
        """Run the network and return every layer's input, X first, logits last (reused buffers); while
        ``training``, hidden layers pass on their activations after dropout."""
        work = self._work(len(X))
        layer_inputs = [X]
        last = len(self.weights) - 1
        drop = training and self.dropout > 0
        for i, (W, b, out) in enumerate(zip(self.weights, self.biases, work.outputs)):
            compute.matmul(layer_inputs[-1], W, out)
            if i < last:
                activations.bias_forward(self.activation, out, b)
                if drop:
                    out = self._drop(out, work.masks[i], work.dropped[i])
            else:
                out += b
            layer_inputs.append(out)
        return layer_inputs

    def _drop(self, a: np.ndarray, mask: np.ndarray, dropped: np.ndarray) -> np.ndarray:
        """Inverted dropout: write a * mask into ``dropped``, the mask keeping each unit with probability
        1 - rate, scaled by 1 / (1 - rate) so the expected activation is unchanged."""
        self.dropout_rng.random(dtype=self.dtype, out=mask)
        mask += 1 - self.dropout  # floor(u + keep) is 1 with probability keep, else 0
        np.floor(mask, out=mask)
        mask *= 1 / (1 - self.dropout)
        return np.multiply(a, mask, out=dropped)

    def layer_outputs(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for ``X``: the input first, then each hidden layer's activations, logits last.

        The arrays are the model's work buffers, overwritten by its next pass (like ``loss_and_grads``'s
        gradients): read them or copy them, do not keep them. Evaluation uses this without copying.
        """
        return self._forward(as_inputs(X, self.dtype))

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Logits of shape ``(n, classes)`` for inputs ``X`` of shape ``(n, features)`` (a new array)."""
        return self.layer_outputs(X)[-1].copy()

    def predict(self, X: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Predicted class index for every row of ``X``."""
        with compute.arithmetic():
            return np.concatenate([self._forward(as_inputs(X[i:i + chunk], self.dtype))[-1].argmax(axis=1)
                                   for i in range(0, len(X), chunk)])

    # ------------------------------------------------------------------ backward
    def backprop(self, X: np.ndarray, y: np.ndarray, l2: float = 0.0, reduction: str = "mean") -> tuple[float, int]:
        """Forward and backward pass on one batch; fill ``flat_grads``; return (cross-entropy, correct predictions).

        The returned loss is the mean cross-entropy over the batch, whatever ``reduction`` and without the L2
        penalty (``l2_penalty(l2)`` is that term, logged as its own series): so a logged loss near ln 10 means
        chance, and losses are comparable across runs. The gradient is that of cross-entropy + (l2 / 2) * sum
        of squared weights (biases excluded), and depends on ``reduction``:

        - ``"mean"``: the gradient of that loss (cross-entropy averaged over the batch, plus ``l2 * W``);
        - ``"sum"``: the gradient of the *summed* cross-entropy plus ``l2 * W`` unscaled, as student code
          typically writes ``dW = X.T @ (p - y) + lam * W``: the cross-entropy step is ``len(X)`` times
          larger, i.e. the effective learning rate is lr x batch size.

        This is the training step's pass, so dropout (if any) is applied, with masks from ``dropout_rng``.
        """
        if is_pixels(X):  # the training loop passes inputs already scaled (see nn.pixels)
            X = as_inputs(X, self.dtype)
        ce, _, correct = self._backward(X, y, l2, reduction, training=True)
        return ce, correct

    def _backward(self, X: np.ndarray, y: np.ndarray, l2: float, reduction: str,
                  training: bool) -> tuple[float, float, int]:
        """Fill ``flat_grads``; return (mean cross-entropy, L2 penalty, correct predictions)."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        layer_inputs = self._forward(X, training)
        work = self._work(len(X))
        logits = layer_inputs[-1]
        scale = 1.0 / len(X) if reduction == "mean" else 1.0
        ce, correct, delta = softmax_cross_entropy_step(logits, y, scale)  # delta overwrites the logits buffer
        for i in range(len(self.weights) - 1, -1, -1):
            compute.matmul(layer_inputs[i].T, delta, self.weight_grads[i])
            np.matmul(work.ones, delta, out=self.bias_grads[i])  # column sums; BLAS beats np.sum(axis=0) here
            if i > 0:  # no gradient is needed for the network's input
                grad = compute.matmul(delta, self.weights[i].T, work.deltas[i - 1])
                if training and self.dropout:
                    grad *= work.masks[i - 1]  # through the dropout: dropped units pass no gradient
                # the activation's derivative from its output before dropout (== layer_inputs[i] without it)
                delta = activations.backward(self.activation, work.outputs[i - 1], grad)
        if l2:
            for W, gW in zip(self.weights, self.weight_grads):
                gW += l2 * W
        return ce, self.l2_penalty(l2), correct

    def l2_penalty(self, l2: float) -> float:
        """(l2 / 2) * sum of squared weights (biases excluded): the regularisation term, logged beside the loss."""
        return 0.5 * l2 * sum(float(np.vdot(W, W)) for W in self.weights) if l2 else 0.0

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray, l2: float = 0.0, reduction: str = "mean",
                       training: bool = False) -> tuple[float, list[np.ndarray]]:
        """(objective, grads) for one batch of integer labels ``y``; grads follow the order of ``params()``.

        The objective is the function whose gradient is returned, so finite differences check it exactly:
        mean cross-entropy + penalty for ``"mean"``, *summed* cross-entropy + penalty for ``"sum"`` (unlike
        ``backprop``, which always returns the per-example loss for logging). The gradient arrays are the
        model's own buffers, overwritten by the next backward pass (like a PyTorch ``.grad``): copy them.
        ``training=True`` applies dropout; reseed ``dropout_rng`` before each call to keep one fixed mask.
        """
        X = as_inputs(X, self.dtype)
        ce, penalty, _ = self._backward(X, np.asarray(y), l2, reduction, training)
        return (ce * len(X) if reduction == "sum" else ce) + penalty, self.grads()

    # ------------------------------------------------------------------ persistence
    def architecture(self) -> dict[str, Any]:
        """What rebuilds this network's shape and behaviour (JSON-ready): ``MLP.from_architecture`` reads it."""
        return {"sizes": list(self.sizes), "activation": self.activation, "dtype": self.dtype.name,
                "init": self.init, "dropout": self.dropout}

    @classmethod
    def from_architecture(cls, architecture: dict[str, Any]) -> MLP:
        """A network of that architecture (its weights freshly initialised with seed 0)."""
        return cls(architecture["sizes"], architecture["activation"], dtype=np.dtype(architecture["dtype"]),
                   init=architecture.get("init"), dropout=float(architecture.get("dropout", 0.0)))

    def describe(self) -> str:
        """E.g. ``784-128-10 relu float32``: the architecture in one phrase, for messages."""
        dropout = f" dropout {self.dropout:g}" if self.dropout else ""
        return f"{'-'.join(map(str, self.sizes))} {self.activation} {self.dtype.name}{dropout}"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the architecture and the parameters to an ``.npz`` file."""
        np.savez(path, sizes=np.array(self.sizes), activation=np.array(self.activation),
                 dtype=np.array(self.dtype.name), flat_params=self.flat_params)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLP:
        """Rebuild a network written by ``save``."""
        with np.load(path, allow_pickle=False) as f:
            model = cls(f["sizes"].tolist(), str(f["activation"]), dtype=np.dtype(str(f["dtype"])))
            model.flat_params[...] = f["flat_params"]
        return model

    def __repr__(self) -> str:
        return (f"MLP({self.sizes}, activation={self.activation!r}, dtype={self.dtype.name}, "
                f"params={self.num_params():,})")


def _views(flat: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Split a flat buffer into consecutive views of the given shapes."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views
