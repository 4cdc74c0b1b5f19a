"""A learning-rate finder (Smith 2017; fastai's ``lr_find``): train a throwaway copy of the network for one
short pass while the learning rate grows exponentially, and read a good learning rate off the loss curve.

The loss first barely moves (the lr is too small to matter), then falls (the useful range), then shoots up
(too large). Two suggestions, as fastai makes them: the lr where the smoothed loss falls fastest (steepest
descent per decade of lr), and the lr at the smoothed loss's minimum divided by 10 (the minimum itself is
already at the edge of blowing up). Only the public MLP and optimizer API is used, on a copy: the network
passed in is never changed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import compute
from .mlp import MLP
from .optim import Optimizer
from .pixels import as_inputs

START_LR, END_LR = 1e-6, 10.0
BETA = 0.98             # smoothing of the loss (fastai's value): an average over about 50 steps
DIVERGE_FACTOR = 4.0    # stop once the smoothed loss exceeds this multiple of its minimum
SKIP_START = 0.1        # the first 10% of the steps are ignored when suggesting (the average is still settling)
MIN_STEPS = 100         # fastai's default length: a training set shorter than this many batches is gone round again


@dataclass(frozen=True)
class LRFinderResult:
    """The recorded sweep: one lr and loss per step taken, the smoothed loss, and the two suggestions.

    ``steepest`` and ``minimum`` (the lr at the smoothed loss's minimum, divided by 10) are None when the
    curve gives no answer (too few steps, or a loss that never fell).
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: float | None
    minimum: float | None
    stopped_early: bool     # the loss blew up (passed DIVERGE_FACTOR x its minimum, or became non-finite)


def lr_schedule(steps: int, start_lr: float = START_LR, end_lr: float = END_LR) -> np.ndarray:
    """``steps`` learning rates growing geometrically from ``start_lr`` to ``end_lr`` (both included)."""
    if steps < 2:
        raise ValueError(f"the lr finder needs at least 2 steps, got {steps}")
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got {start_lr:g} and {end_lr:g}")
    return np.geomspace(start_lr, end_lr, steps)


def smooth_losses(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """Exponential moving average with bias correction (so the first values are not pulled towards 0)."""
    smoothed = np.empty(len(losses))
    average = 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * float(loss)
        smoothed[i] = average / (1 - beta ** (i + 1))
    return smoothed


def suggest(lrs: np.ndarray, smoothed: np.ndarray, skip_start: float = SKIP_START) -> tuple[float | None, float | None]:
    """(steepest, minimum / 10): the lr where the smoothed loss falls fastest per unit of log lr, looked for
    before the minimum, and a tenth of the lr at the minimum. Non-finite points are ignored."""
    first = int(len(lrs) * skip_start)
    lrs, smoothed = np.asarray(lrs[first:], dtype=float), np.asarray(smoothed[first:], dtype=float)
    finite = np.isfinite(smoothed)
    lrs, smoothed = lrs[finite], smoothed[finite]
    if len(lrs) < 3:
        return None, None
    best = int(np.argmin(smoothed))
    minimum = float(lrs[best]) / 10
    if best < 2:
        return None, minimum  # the loss only rose: no descent to measure
    slopes = np.diff(smoothed[:best + 1]) / np.diff(np.log(lrs[:best + 1]))
    steepest = int(np.argmin(slopes))
    if slopes[steepest] >= 0:
        return None, minimum
    return float(lrs[steepest]), minimum


def copy_model(model: MLP) -> MLP:
    """An independent network with the same architecture, dtype and parameters (the finder trains this)."""
    clone = MLP.from_architecture(model.architecture())
    clone.flat_params[...] = model.flat_params
    return clone


def find_lr(model: MLP, optimizer: Optimizer, x: np.ndarray, y: np.ndarray, *, batch_size: int,
            steps: int | None = None, start_lr: float = START_LR, end_lr: float = END_LR, l2: float = 0.0,
            reduction: str = "mean", seed: int = 0, beta: float = BETA,
            diverge_factor: float = DIVERGE_FACTOR) -> LRFinderResult:
    """Sweep the learning rate on a copy of ``model`` over shuffled mini-batches of (x, y).

    ``optimizer`` must be fresh (no step taken): its ``lr`` is set before every step. ``steps`` defaults to
    one epoch's batches, but at least MIN_STEPS (a small training set is gone round again: a handful of
    points is no curve). The sweep stops early once the smoothed loss passes ``diverge_factor`` x its
    minimum or the loss is not finite.
    """
    if optimizer.steps:
        raise ValueError("the lr finder needs a fresh optimizer (this one has already taken steps)")
    n = len(x)
    if n == 0 or batch_size < 1:
        raise ValueError("the lr finder needs training examples and a batch size >= 1")
    steps = steps if steps is not None else max(math.ceil(n / batch_size), MIN_STEPS)
    schedule = lr_schedule(steps, start_lr, end_lr)
    work = copy_model(model)
    rng = np.random.default_rng(seed)
    batches = _batches(rng, n, batch_size)
    losses: list[float] = []
    smoothed: list[float] = []
    average, lowest, stopped = 0.0, math.inf, False
    with compute.arithmetic(), np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for i, lr in enumerate(schedule):
            idx = next(batches)
            loss, _ = work.backprop(as_inputs(x[idx], work.dtype), y[idx], l2, reduction)
            losses.append(loss)
            average = beta * average + (1 - beta) * loss
            smooth = average / (1 - beta ** (i + 1))
            smoothed.append(smooth)
            if not math.isfinite(smooth) or smooth > diverge_factor * lowest:
                stopped = True
                break
            lowest = min(lowest, smooth)
            optimizer.lr = float(lr)
            optimizer.step([work.flat_params], [work.flat_grads])
    lrs = schedule[:len(losses)]
    steepest, minimum = suggest(lrs, np.array(smoothed))
    return LRFinderResult(lrs, np.array(losses), np.array(smoothed), steepest, minimum, stopped)


def _batches(rng: np.random.Generator, n: int, batch_size: int):
    """Index arrays of shuffled mini-batches, epoch after epoch, without end."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]
