"""Seed groups: k networks of one architecture (say one config, three seeds) trained together, in one loop.

Why: a seed group is k independent runs. Trained one after another, each pays the per-batch Python and
NumPy call overhead and runs its own small optimizer update; trained together, the parameters of all k
sit in one (k, P) buffer, every layer is one batched matrix product over a leading model axis, the
elementwise work runs once over all k, and the optimizer makes one pass over the whole buffer.

Each model's arithmetic is exactly what ``fit`` does for it alone: its own seeded shuffle, its own
gather of its batch, and the same float32 operations on its own slice (a batched ``np.matmul`` calls the
same BLAS kernel on each slice that a lone product calls; elementwise updates do not depend on their
neighbours). Tests check the results are bit-identical to ``fit`` run once per seed.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import activations
from .data import Dataset
from .losses import softmax_cross_entropy_grad
from .mlp import MLP
from .optim import Optimizer
from .status import RunStatus
from .train import EXPLODED_LOSS, TrainResult, evaluate

Callbacks = Sequence[object]


class StackedMLP:
    """The parameters of k equally shaped MLPs stacked on a leading axis, with a batched forward/backward pass.

    ``flat_params`` is (k, P): row j is model j's ``flat_params``; ``weights[i]`` is a (k, fan_in, fan_out)
    view into it and ``biases[i]`` a (k, fan_out) view, likewise for the gradients.
    """

    def __init__(self, models: Sequence[MLP]):
        first = models[0]
        if any(m.sizes != first.sizes or m.activation != first.activation or m.dtype != first.dtype
               for m in models):
            raise ValueError("a seed group needs models of one architecture, activation and dtype")
        self.k, self.sizes, self.activation, self.dtype = len(models), first.sizes, first.activation, first.dtype
        self.flat_params = np.stack([m.flat_params for m in models])
        self.flat_grads = np.zeros_like(self.flat_params)
        self.weights, self.biases = self._views(self.flat_params)
        self.weight_grads, self.bias_grads = self._views(self.flat_grads)
        self._buffers: dict[int, tuple[list[np.ndarray], list[np.ndarray], np.ndarray]] = {}

    def _views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        weights, biases, start = [], [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            weights.append(flat[:, start:start + fan_in * fan_out].reshape(self.k, fan_in, fan_out))
            start += fan_in * fan_out
            biases.append(flat[:, start:start + fan_out])
            start += fan_out
        return weights, biases

    def _layer_buffers(self, n: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        if n not in self._buffers:
            if len(self._buffers) > 2:  # the full batch and the last partial one
                self._buffers.clear()
            outputs = [np.empty((self.k, n, w), self.dtype) for w in self.sizes[1:]]
            deltas = [np.empty((self.k, n, w), self.dtype) for w in self.sizes[1:-1]]
            self._buffers[n] = (outputs, deltas, np.ones(n, self.dtype))
        return self._buffers[n]

    def _forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for the stacked batches ``X`` (k, n, features), input first (as MLP._forward)."""
        outputs, _, _ = self._layer_buffers(X.shape[1])
        layer_inputs = [X]
        last = len(self.weights) - 1
        for i, (W, b, out) in enumerate(zip(self.weights, self.biases, outputs)):
            np.matmul(layer_inputs[-1], W, out=out)
            out += b[:, None, :]
            if i < last:
                activations.forward(self.activation, out, out=out)
            layer_inputs.append(out)
        return layer_inputs

    def backprop(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                 reduction: str = "mean") -> tuple[list[float], list[int]]:
        """Fill ``flat_grads`` for each model's batch X[j], Y[j]; return per-model (losses, correct) as MLP.backprop."""
        layer_inputs = self._forward(X)
        _, deltas, ones = self._layer_buffers(X.shape[1])
        logits = layer_inputs[-1]
        pred = logits.argmax(axis=2)
        correct = np.count_nonzero(pred == Y, axis=1).tolist()
        scale = 1.0 / X.shape[1] if reduction == "mean" else 1.0
        losses = [softmax_cross_entropy_grad(logits[j], Y[j], scale, pred[j])[0] for j in range(self.k)]
        delta = logits  # the loss overwrote each model's logits with its gradient
        for i in range(len(self.weights) - 1, -1, -1):
            np.matmul(layer_inputs[i].transpose(0, 2, 1), delta, out=self.weight_grads[i])
            np.matmul(ones, delta, out=self.bias_grads[i])
            if i > 0:
                np.matmul(delta, self.weights[i].transpose(0, 2, 1), out=deltas[i - 1])
                delta = activations.backward(self.activation, layer_inputs[i], deltas[i - 1])
        if l2:
            for j in range(self.k):
                losses[j] += 0.5 * l2 * sum(float(np.vdot(W[j], W[j])) for W in self.weights)
            for W, gW in zip(self.weights, self.weight_grads):
                gW += l2 * W
        return losses, correct


@dataclass
class _Member:
    """One model of the group: its seed, its shuffling generator, its result and whether it still trains."""

    model: MLP
    seed: int
    rng: np.random.Generator
    callbacks: Callbacks
    result: TrainResult = field(default_factory=TrainResult)
    loss_sum: float = 0.0
    correct: int = 0

    @property
    def training(self) -> bool:
        return self.result.status == RunStatus.FINISHED


@dataclass(frozen=True)
class _Plan:
    """What every part of a group trains for: fit's settings, shared by the group."""

    epochs: int
    batch_size: int
    l2: float
    reduction: str
    stop_event: threading.Event | None


def fit_group(models: Sequence[MLP], make_optimizer: Callable[[], Optimizer], data: Dataset, *, epochs: int,
              batch_size: int, seeds: Sequence[int], l2: float = 0.0, reduction: str = "mean",
              callbacks: Sequence[Callbacks] | None = None, stop_event: threading.Event | None = None,
              threads: int = 1) -> list[TrainResult]:
    """Train ``models`` together, model j exactly as ``fit(models[j], make_optimizer(), ..., seed=seeds[j])``.

    The models are dealt round-robin into ``threads`` parts; each part is one stacked network trained by
    its own thread with one optimizer from ``make_optimizer`` (an optimizer's update is elementwise, so
    stepping a part's stacked (k, P) buffer steps each model as its own optimizer would). BLAS, the
    optimizer kernel and the gathers release the GIL, so parts on different cores run side by side; give
    each thread one BLAS thread. ``callbacks[j]`` get model j's ``on_epoch_end(epoch, logs)`` (from its
    part's thread). A model that diverges keeps the parameters it had before the bad batch, as with
    ``fit``, while the others go on; a set ``stop_event`` stops them all within a batch.
    """
    members = [_Member(m, s, np.random.default_rng(s), cbs)
               for m, s, cbs in zip(models, seeds, callbacks or [()] * len(models), strict=True)]
    plan = _Plan(epochs, batch_size, l2, reduction, stop_event)
    parts = [members[i::threads] for i in range(max(1, min(threads, len(members))))]
    if len(parts) == 1:
        _train(parts[0], make_optimizer(), data, plan)
    else:
        with ThreadPoolExecutor(len(parts), thread_name_prefix="seed-group") as pool:
            for future in [pool.submit(_train, part, make_optimizer(), data, plan) for part in parts]:
                future.result()
    return [member.result for member in members]


def _train(members: list[_Member], optimizer: Optimizer, data: Dataset, plan: _Plan) -> None:
    """The epoch loop of ``fit`` for one part of a group, its models stacked."""
    stacked = StackedMLP([member.model for member in members])
    x_train, y_train, batch_size = data.x_train, data.y_train, plan.batch_size
    gathered = np.empty((len(members), batch_size, x_train.shape[1]), dtype=stacked.dtype)
    labels = np.empty((len(members), batch_size), dtype=y_train.dtype)
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(1, plan.epochs + 1):
            epoch_start = time.perf_counter()
            orders = [member.rng.permutation(len(x_train)) for member in members]
            for member in members:
                member.loss_sum, member.correct = 0.0, 0
            for batches, start in enumerate(range(0, len(x_train), batch_size), 1):
                if plan.stop_event is not None and plan.stop_event.is_set():
                    _end(members, RunStatus.STOPPED, f"stopped by the user during epoch {epoch}")
                    break
                n = min(batch_size, len(x_train) - start)
                for j, order in enumerate(orders):
                    idx = order[start:start + n]
                    np.take(x_train, idx, axis=0, out=gathered[j, :n], mode="clip")
                    np.take(y_train, idx, out=labels[j, :n])
                losses, correct = stacked.backprop(gathered[:, :n], labels[:, :n], plan.l2, plan.reduction)
                _check_divergence(members, stacked, losses, optimizer, epoch, batches)
                optimizer.step([stacked.flat_params.reshape(-1)], [stacked.flat_grads.reshape(-1)])
                for member, loss, right in zip(members, losses, correct):
                    member.loss_sum += loss
                    member.correct += right
            if not any(member.training for member in members):
                break
            _end_epoch(members, stacked, data, plan.l2, optimizer, epoch, batches, epoch_start, started)


def _check_divergence(members: list[_Member], stacked: StackedMLP, losses: list[float], optimizer: Optimizer,
                      epoch: int, batch: int) -> None:
    """Freeze each still-training model whose loss went non-finite or exploded, with fit's message."""
    for j, (member, loss) in enumerate(zip(members, losses)):
        if member.training and (not math.isfinite(loss) or loss > EXPLODED_LOSS):
            member.model.flat_params[...] = stacked.flat_params[j]  # the parameters before the bad batch
            what = f"became {loss}" if not math.isfinite(loss) else f"exploded to {loss:.3g}"
            member.result.status = RunStatus.DIVERGED
            member.result.message = (f"the loss {what} in epoch {epoch}, batch {batch}: "
                                     f"the learning rate ({optimizer.lr:g}) is too high, lower it")


def _end(members: list[_Member], status: RunStatus, message: str) -> None:
    for member in members:
        if member.training:
            member.result.status, member.result.message = status, message


def _end_epoch(members: list[_Member], stacked: StackedMLP, data: Dataset, l2: float, optimizer: Optimizer,
               epoch: int, batches: int, epoch_start: float, started: float) -> None:
    """Copy each training model's parameters back, evaluate it and log the epoch as ``fit`` does."""
    n = len(data.x_train)
    for j, member in enumerate(members):
        if not member.training:
            continue
        member.model.flat_params[...] = stacked.flat_params[j]
        test = evaluate(member.model, data.x_test, data.y_test, l2)
        if not math.isfinite(test["loss"]):
            member.result.status = RunStatus.DIVERGED
            member.result.message = (f"the parameters overflowed in epoch {epoch}: the learning rate "
                                     f"({optimizer.lr:g}) is too high, lower it")
            continue
        now = time.perf_counter()
        logs = {"epoch": epoch, "train_loss": member.loss_sum / batches, "train_acc": member.correct / n,
                "test_loss": test["loss"], "test_acc": test["acc"], "seconds": now - epoch_start,
                "elapsed": now - started, "lr": optimizer.lr, "majority_fraction": test["majority_fraction"],
                "dead_fraction": test["dead_fraction"]}
        member.result.history.append(logs)
        for cb in member.callbacks:
            hook: Callable[[int, dict], None] | None = getattr(cb, "on_epoch_end", None)
            if hook is not None:
                hook(epoch, logs)
