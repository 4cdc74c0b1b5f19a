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

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import activations
from .callbacks import CallbackList, DivergenceGuard, TrainingLoop
from .data import Dataset
from .losses import softmax_cross_entropy_grad
from .mlp import MLP
from .optim import Optimizer
from .pixels import as_inputs
from .train import FitOptions, TrainResult, _evaluation


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
        if l2:  # the penalty's gradient; the logged loss is the cross-entropy alone, as MLP.backprop's
            for W, gW in zip(self.weights, self.weight_grads):
                gW += l2 * W
        return losses, correct


@dataclass
class _Member:
    """One model of a part: its place in the part's stack, its run as callbacks see it, its epoch tallies."""

    index: int
    model: MLP
    options: FitOptions
    loop: TrainingLoop
    hooks: CallbackList
    done: bool = False
    loss_sum: float = 0.0
    correct: int = 0


def fit_group(models: Sequence[MLP], make_optimizer: Callable[[], Optimizer], data: Dataset, options: FitOptions,
              seeds: Sequence[int], callbacks: Sequence[Iterable[Any]] | None = None,
              threads: int = 1) -> list[TrainResult]:
    """Train ``models`` together: model j exactly as ``fit(models[j], make_optimizer(), data,
    replace(options, seed=seeds[j]), callbacks[j])`` would, with the same history and callbacks.

    The models are dealt round-robin into ``threads`` parts; each part is one stacked network trained by
    its own thread with one optimizer from ``make_optimizer`` (an optimizer's update is elementwise, so
    stepping a part's stacked (k, P) buffer steps each model as its own optimizer would). BLAS, the
    optimizer kernel and the gathers release the GIL, so parts on different cores run side by side: give
    each thread one BLAS thread. Limits: no dropout, a fresh start (``initial_epoch`` 0), and callbacks
    that change the optimizer (a learning-rate schedule) must do the same for every model of the group, as
    a schedule from one config does. A model's ``MLP`` holds its trained parameters at each epoch's end
    and once it stops; during an epoch they live in the part's stack.
    """
    if any(m.dropout for m in models) or options.initial_epoch:
        raise ValueError("a seed group trains without dropout and from the start (initial_epoch 0)")
    callbacks = callbacks or [()] * len(models)
    if not len(models) == len(seeds) == len(callbacks):
        raise ValueError("a seed group needs one seed (and one list of callbacks) per model")
    count = max(1, min(threads, len(models)))
    parts: list[list[_Member]] = []
    for first in range(count):
        optimizer = make_optimizer()
        parts.append([_member(position, models[j], replace(options, seed=int(seeds[j])), callbacks[j], data,
                              optimizer) for position, j in enumerate(range(first, len(models), count))])
    if count == 1:
        _train(parts[0], data, options)
    else:
        with ThreadPoolExecutor(count, thread_name_prefix="seed-group") as pool:
            for future in [pool.submit(_train, part, data, options) for part in parts]:
                future.result()
    by_model = {id(m.model): m.loop for part in parts for m in part}
    return [TrainResult(loop.history, loop.status, loop.message) for loop in (by_model[id(m)] for m in models)]


def _member(index: int, model: MLP, options: FitOptions, callbacks: Iterable[Any], data: Dataset,
            optimizer: Optimizer) -> _Member:
    callbacks = list(callbacks)
    if not any(isinstance(cb, DivergenceGuard) for cb in callbacks):
        callbacks.insert(0, DivergenceGuard())  # as fit does
    loop = TrainingLoop(model, optimizer, options, data)
    return _Member(index, model, options, loop, CallbackList(callbacks, loop))


def _train(members: list[_Member], data: Dataset, options: FitOptions) -> None:
    """``fit``'s epoch loop for one part of a group, its models stacked (member.index is its place)."""
    optimizer = members[0].loop.optimizer
    stacked = StackedMLP([member.model for member in members])
    per_epoch = -(-len(data.y_train) // options.batch_size)
    for member in members:
        member.hooks.call(member.hooks.train_begin, {"epochs": options.epochs, "initial_epoch": 0,
                                                     "batches_per_epoch": per_epoch})
    started = time.perf_counter()
    gathered = np.empty((len(members), options.batch_size, data.x_train.shape[1]), dtype=stacked.dtype)
    labels = np.empty((len(members), options.batch_size), dtype=data.y_train.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(1, options.epochs + 1):
            live = [member for member in members if not member.done]
            if not live:
                break
            epoch_start = time.perf_counter()
            for member in live:
                member.loop.epoch, member.loss_sum, member.correct = epoch, 0.0, 0
                member.hooks.call(member.hooks.epoch_begin, epoch, {})
            batches = _train_epoch(live, stacked, optimizer, data, options, (gathered, labels), epoch)
            for member in live:
                if not member.done:
                    _end_epoch(member, stacked, data, options, batches, epoch_start, started)
    for member in members:
        if not member.done:
            _retire(member, stacked)
        member.hooks.call(member.hooks.train_end, {"status": member.loop.status, "message": member.loop.message})


def _train_epoch(live: list[_Member], stacked: StackedMLP, optimizer: Optimizer, data: Dataset,
                 options: FitOptions, buffers: tuple[np.ndarray, np.ndarray], epoch: int) -> int:
    """One epoch's batches for the part's live members; returns how many batches were trained."""
    gathered, labels = buffers
    n, size = len(data.y_train), options.batch_size
    orders = {m.index: np.random.default_rng([m.options.seed, epoch]).permutation(n) for m in live}
    batch = -1
    for batch, start in enumerate(range(0, n, size)):
        for member in live:
            if not member.done:
                for hook in member.hooks.batch_begin:
                    hook(batch, {})
                if member.loop.stop_requested:
                    _retire(member, stacked)
        live = [member for member in live if not member.done]
        if not live:
            break
        count = min(size, n - start)
        for member in live:
            idx = orders[member.index][start:start + count]
            gathered[member.index, :count] = as_inputs(data.x_train[idx], stacked.dtype)  # pixels scaled
            np.take(data.y_train, idx, out=labels[member.index, :count])
        losses, correct = stacked.backprop(gathered[:, :count], labels[:, :count], options.l2, options.reduction)
        optimizer.step([stacked.flat_params.reshape(-1)], [stacked.flat_grads.reshape(-1)])
        for member in live:
            loss, right = losses[member.index], correct[member.index]
            member.loss_sum += loss
            member.correct += right
            for hook in member.hooks.batch_end:
                hook(batch, {"loss": loss, "correct": right, "size": count})
            if member.loop.stop_requested:
                _retire(member, stacked)
    return batch + 1


def _retire(member: _Member, stacked: StackedMLP) -> None:
    """The member trains no more: its model takes its parameters from the stack (as fit leaves them)."""
    member.model.flat_params[...] = stacked.flat_params[member.index]
    member.done = True


def _end_epoch(member: _Member, stacked: StackedMLP, data: Dataset, options: FitOptions, batches: int,
               epoch_start: float, started: float) -> None:
    """Evaluate a member that trained the whole epoch and log it, as ``fit`` does."""
    member.model.flat_params[...] = stacked.flat_params[member.index]
    logs: dict[str, Any] = {"epoch": member.loop.epoch, "train_loss": member.loss_sum / batches,
                            "train_acc": member.correct / len(data.y_train),
                            **_evaluation(member.model, data), "l2_penalty": member.model.l2_penalty(options.l2)}
    now = time.perf_counter()
    logs.update(seconds=now - epoch_start, elapsed=now - started, lr=member.loop.optimizer.lr)
    member.loop.history.append(logs)
    member.hooks.call(member.hooks.epoch_end, member.loop.epoch, logs)
    if member.loop.stop_requested:
        member.done = True  # its parameters are already in its model
