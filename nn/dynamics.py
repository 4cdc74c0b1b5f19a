"""Per-layer training dynamics after every epoch: the evidence behind "the lr is too high" or "the ReLUs died".

For each layer ``LayerMonitor`` measures the weight norm, the gradient norm, the update-to-weight ratio
||W_after - W_before|| / ||W_before|| of one step (rule of thumb: about 1e-3; far above, the lr is too high,
far below, too low), the activation health of hidden layers (the fraction of ReLUs that never fire on the
sample; for sigmoid and tanh the fraction of activations saturated near their limits), and fixed-bin
histograms of weights, gradients and activations (TensorBoard's histograms, ``wandb.watch``).

It stays cheap (well under 5% of an epoch, see benchmarks/bench_dynamics.py): gradients and update ratios are
read at a few probe steps per epoch (one copy of the parameters before each), activations from a fixed sample
of training images at the epoch's end. Histogram bins are fixed per layer and kind at the first measurement
(twice the largest magnitude seen then), so the epochs can be drawn as one heatmap; values outside fall into
the end bins. The bins are ``LayerMonitor``'s state (``state_dict``): a resumed run keeps them, and its
histograms equal those of a run trained without a break.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .callbacks import Callback
from .pixels import as_inputs

BINS = 32
SATURATION = 0.02      # sigmoid output within this of 0 or 1, tanh within it of -1 or 1: saturated
KINDS = ("weights", "gradients", "activations")


@dataclass(frozen=True)
class Histogram:
    """Counts of values in ``len(counts)`` equal bins over [lo, hi] (values outside are in the end bins)."""

    lo: float
    hi: float
    counts: list[int]


@dataclass(frozen=True)
class LayerStats:
    """One layer (1 = the first weight matrix) after one epoch. None where a measure does not apply."""

    epoch: int
    layer: int
    weight_norm: float
    grad_norm: float | None          # mean over the epoch's probe steps
    update_ratio: float | None       # mean ||dW|| / ||W|| per step over the probe steps
    dead_fraction: float | None = None       # ReLU hidden layers: units never active on the sample
    saturated_fraction: float | None = None  # sigmoid/tanh hidden layers: activations near their limits
    histograms: dict[str, Histogram] = field(default_factory=dict)


class LayerMonitor(Callback):
    """Measures every layer each epoch and hands the epoch's ``LayerStats`` list to ``sink(epoch, stats)``.

    ``probes`` steps per epoch (evenly spread) measure gradients and update ratios; ``sample_size`` training
    images (drawn once with ``seed``) measure activations. ``history`` keeps every epoch's list.
    """

    def __init__(self, sink: Callable[[int, list[LayerStats]], None] | None = None, *, probes: int = 4,
                 sample_size: int = 256, seed: int = 0, bins: int = BINS):
        if probes < 1 or sample_size < 1 or bins < 2:
            raise ValueError("probes and sample_size must be >= 1 and bins >= 2")
        self.sink, self.probes, self.sample_size, self.seed, self.bins = sink, probes, sample_size, seed, bins
        self.history: list[list[LayerStats]] = []
        self._limits: dict[tuple[str, int], tuple[float, float]] = {}
        self._probe_at: set[int] = set()
        self._before = np.empty(0)
        self._sample = np.empty((0, 0))
        self._probed: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        """The histogram bins fixed so far: ``{"limits": [[kind, layer, lo, hi], ...]}``."""
        return {"limits": [[kind, layer, lo, hi] for (kind, layer), (lo, hi) in self._limits.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on with the saved bins; ValueError, nothing changed, if ``state`` holds none."""
        try:
            limits = {(str(kind), int(layer)): (float(lo), float(hi)) for kind, layer, lo, hi in state["limits"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a layer monitor state ({type(exc).__name__}: {exc})") from None
        if any(kind not in KINDS or not hi > lo for (kind, _), (lo, hi) in limits.items()):
            raise ValueError("the saved histogram bins are malformed")
        self._limits = limits

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        per_epoch = max(1, int(logs.get("batches_per_epoch", 1)))
        self._probe_at = {min(per_epoch - 1, int(per_epoch * (i + 0.5) / self.probes)) for i in range(self.probes)}
        x = self.loop.data.x_train if self.loop.data is not None else np.empty((0, self.loop.model.sizes[0]))
        rows = np.random.default_rng([self.seed, 7]).permutation(len(x))[:self.sample_size]
        self._sample = as_inputs(x[np.sort(rows)], self.loop.model.dtype)
        self._before = np.empty_like(self.loop.model.flat_params)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._probed = [dict(grad_norm=[], ratio=[], grads=None) for _ in self.loop.model.weights]

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        if batch in self._probe_at:
            self._before[...] = self.loop.model.flat_params

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if batch not in self._probe_at:
            return
        model = self.loop.model
        before = _views_like(self._before, model.weights)
        for i, (W, gW, W0) in enumerate(zip(model.weights, model.weight_grads, before)):
            probe = self._probed[i]
            probe["grad_norm"].append(float(np.linalg.norm(gW)))
            start = float(np.linalg.norm(W0))
            probe["ratio"].append(float(np.linalg.norm(W - W0)) / start if start > 0 else float("nan"))
            counts = self._histogram("gradients", i, gW).counts
            probe["grads"] = counts if probe["grads"] is None else [a + b for a, b in zip(probe["grads"], counts)]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        model = self.loop.model
        outputs = model.layer_outputs(self._sample) if len(self._sample) else []
        stats = []
        for i, W in enumerate(model.weights):
            probe = self._probed[i] if i < len(self._probed) else {"grad_norm": [], "ratio": [], "grads": None}
            hists = {"weights": self._histogram("weights", i, W)}
            if probe["grads"] is not None:
                lo, hi = self._limits[("gradients", i)]
                hists["gradients"] = Histogram(lo, hi, probe["grads"])
            dead = saturated = None
            if i < len(model.weights) - 1 and outputs:
                act = outputs[i + 1]
                hists["activations"] = self._histogram("activations", i, act)
                dead, saturated = _health(model.activation, act)
            stats.append(LayerStats(epoch, i + 1, float(np.linalg.norm(W)), _mean(probe["grad_norm"]),
                                    _mean(probe["ratio"]), dead, saturated, hists))
        self.history.append(stats)
        if self.sink is not None:
            self.sink(epoch, stats)

    def _histogram(self, kind: str, layer: int, values: np.ndarray) -> Histogram:
        """Counts of ``values`` in this (kind, layer)'s fixed bins, fixed on first use."""
        if (kind, layer) not in self._limits:
            self._limits[(kind, layer)] = _limits(kind, self.loop.model.activation, values)
        lo, hi = self._limits[(kind, layer)]
        flat = values.ravel()
        if not np.isfinite(flat).all():
            flat = flat[np.isfinite(flat)]
        # the bin of each value, the ones outside [lo, hi] in the end bins (np.histogram would drop them)
        index = ((flat - flat.dtype.type(lo)) * flat.dtype.type(self.bins / (hi - lo))).astype(np.intp)
        np.clip(index, 0, self.bins - 1, out=index)
        return Histogram(lo, hi, np.bincount(index, minlength=self.bins).tolist())


def _limits(kind: str, activation: str, values: np.ndarray) -> tuple[float, float]:
    """The fixed range of a histogram: an activation's own range, else twice the largest magnitude now."""
    if kind == "activations" and activation == "sigmoid":
        return 0.0, 1.0
    if kind == "activations" and activation == "tanh":
        return -1.0, 1.0
    finite = values[np.isfinite(values)]
    top = 2 * float(np.abs(finite).max()) if finite.size else 1.0
    top = top if top > 0 else 1.0
    return (0.0, top) if kind == "activations" else (-top, top)


def _health(activation: str, act: np.ndarray) -> tuple[float | None, float | None]:
    """(dead fraction, saturated fraction) of one hidden layer's activations on the sample."""
    if activation == "relu":
        return float(np.mean(~(act > 0).any(axis=0))), None
    if activation == "sigmoid":
        return None, float(np.mean((act < SATURATION) | (act > 1 - SATURATION)))
    if activation == "tanh":
        return None, float(np.mean(np.abs(act) > 1 - SATURATION))
    return None, None


def _views_like(flat: np.ndarray, weights: list[np.ndarray]) -> list[np.ndarray]:
    """The weight matrices' parts of a flat copy of the parameters (weights and biases alternate in it)."""
    views, start = [], 0
    for W in weights:
        views.append(flat[start:start + W.size].reshape(W.shape))
        start += W.size + W.shape[1]  # this layer's weights, then its biases
    return views


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else None
