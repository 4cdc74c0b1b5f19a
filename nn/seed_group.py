"""Seed groups: k networks of one architecture (say one config, three seeds) trained together, side by side.

Why: a seed group is k independent runs, and a lone run of a small network cannot keep two cores busy (its
second BLAS thread only helps the two big products of a step: 184 us a step on one thread, 135 on two, at
784-128-10 b64). Trained together, the runs share the cores: ``threads`` workers, one BLAS thread each, take
turns at the models (nn/fair_share.py), so 3 models on 2 cores each get 1.5 cores' worth and the per-step
NumPy work, which a lone run does on one core, runs on both.

Where the models divide evenly among the workers, each worker's share is stacked: its parameters sit in one
(k, P) buffer, every layer is one batched matrix product over a leading model axis and the optimizer makes
one pass over the whole buffer (about 4% less per model than alone on one core, and fewer GIL hand-overs
between workers). Otherwise each model is its own part, so the turns can be fair.

Each model's arithmetic is exactly what ``fit`` does for it alone on one BLAS thread: its own seeded
shuffle, its own gather of its batch, and the same float32 operations on its own slice (a batched
``np.matmul`` calls the same BLAS kernel on each slice that a lone product calls; elementwise updates do
not depend on their neighbours). Tests check the results are bit-identical to ``fit`` run once per seed.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import activations
from .callbacks import CallbackList, DivergenceGuard, TrainingLoop
from .data import Dataset
from .fair_share import FairShare
from .losses import softmax_cross_entropy_grad
from .mlp import MLP
from .optim import Optimizer
from .pixels import as_inputs
from .train import FitOptions, TrainResult, _evaluation

CHUNK = 8  # batches a worker trains of one part before it takes the part furthest behind (about 1.5 ms)


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


class _Single:
    """A part of one model: the model itself behind ``StackedMLP``'s interface (a stack of one only adds
    overhead: 193 against 184 us a step at 784-128-10 b64), so its step is exactly ``fit``'s."""

    def __init__(self, model: MLP):
        self.model, self.k, self.dtype = model, 1, model.dtype
        self.flat_params, self.flat_grads = model.flat_params[None], model.flat_grads[None]  # views, (1, P)

    def backprop(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                 reduction: str = "mean") -> tuple[list[float], list[int]]:
        loss, correct = self.model.backprop(X[0], Y[0], l2, reduction)
        return [loss], [correct]


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

    ``threads`` workers (give each one BLAS thread; BLAS, the gathers and the optimizer kernel release the
    GIL, so workers on different cores run side by side) share the group's parts fairly (nn/fair_share.py).
    When the models divide evenly among the workers, each part stacks its share (one batched product per
    layer, one optimizer from ``make_optimizer`` stepping the part's (k, P) buffer: an optimizer's update is
    elementwise, so that steps each model as its own optimizer would); otherwise every model is a part of
    its own, with its own optimizer, and the workers take turns so that each model gets an equal share (3
    models on 2 workers: 1.5 cores' worth each). Limits: no dropout, a fresh start (``initial_epoch`` 0), and
    callbacks that change the optimizer (a learning-rate schedule) must do the same for every model of a
    part, as a schedule from one config does. A model's callbacks are called one at a time, in ``fit``'s
    order, but not always from the same thread. A model's ``MLP`` holds its trained parameters at each
    epoch's end and once it stops; during an epoch a stacked part's parameters live in its stack.
    """
    if any(m.dropout for m in models) or options.initial_epoch:
        raise ValueError("a seed group trains without dropout and from the start (initial_epoch 0)")
    callbacks = callbacks or [()] * len(models)
    if not len(models) == len(seeds) == len(callbacks):
        raise ValueError("a seed group needs one seed (and one list of callbacks) per model")
    workers = max(1, min(threads, len(models)))
    count = workers if len(models) % workers == 0 else len(models)
    parts: list[list[_Member]] = []
    for first in range(count):
        optimizer = make_optimizer()
        parts.append([_member(position, models[j], replace(options, seed=int(seeds[j])), callbacks[j], data,
                              optimizer) for position, j in enumerate(range(first, len(models), count))])
    # A model's evaluation (forward passes only) costs about one training step per 3 * batch_size held-out
    # rows. Parts start half an evaluation apart, so their final evaluations do not all fall at the very end
    # with nothing left to train beside them (simulated: 1.0% off the ideal instead of 1.5% for 3 on 2).
    evaluation = (len(data.y_val) + len(data.y_test)) / (3 * options.batch_size)
    jobs = [_train(part, data, options, evaluation) for part in parts]
    FairShare(jobs, CHUNK, [i * evaluation * len(part) / 2 for i, part in enumerate(parts)]).run(workers)
    by_model = {id(m.model): m.loop for part in parts for m in part}
    return [TrainResult(loop.history, loop.status, loop.message) for loop in (by_model[id(m)] for m in models)]


def _member(index: int, model: MLP, options: FitOptions, callbacks: Iterable[Any], data: Dataset,
            optimizer: Optimizer) -> _Member:
    callbacks = list(callbacks)
    if not any(isinstance(cb, DivergenceGuard) for cb in callbacks):
        callbacks.insert(0, DivergenceGuard())  # as fit does
    loop = TrainingLoop(model, optimizer, options, data)
    return _Member(index, model, options, loop, CallbackList(callbacks, loop))


def _train(members: list[_Member], data: Dataset, options: FitOptions, evaluation: float) -> Iterator[float]:
    """``fit``'s epoch loop for one part of a group (member.index is its place in the part's stack), as a job
    for ``FairShare``: it yields the work done, 1 after each batch and ``evaluation`` per model evaluated."""
    optimizer = members[0].loop.optimizer
    net = StackedMLP([member.model for member in members]) if len(members) > 1 else _Single(members[0].model)
    per_epoch = -(-len(data.y_train) // options.batch_size)
    for member in members:
        member.hooks.call(member.hooks.train_begin, {"epochs": options.epochs, "initial_epoch": 0,
                                                     "batches_per_epoch": per_epoch})
    started = time.perf_counter()
    gathered = np.empty((len(members), options.batch_size, data.x_train.shape[1]), dtype=net.dtype)
    # the stored rows as gathered, when they are not inputs already (uint8 pixels): made inputs in ``gathered``
    staging = None if data.x_train.dtype == net.dtype else np.empty(gathered.shape, dtype=data.x_train.dtype)
    labels = np.empty((len(members), options.batch_size), dtype=data.y_train.dtype)
    for epoch in range(1, options.epochs + 1):
        live = [member for member in members if not member.done]
        if not live:
            break
        epoch_start = time.perf_counter()
        for member in live:
            member.loop.epoch, member.loss_sum, member.correct = epoch, 0.0, 0
            member.hooks.call(member.hooks.epoch_begin, epoch, {})
        batches = yield from _train_epoch(live, net, optimizer, data, options, (gathered, labels, staging), epoch)
        for member in live:
            if not member.done:
                _end_epoch(member, net, data, options, batches, epoch_start, started)
                yield evaluation
    for member in members:
        if not member.done:
            _retire(member, net)
        member.hooks.call(member.hooks.train_end, {"status": member.loop.status, "message": member.loop.message})


def _train_epoch(live: list[_Member], net: StackedMLP | _Single, optimizer: Optimizer, data: Dataset,
                 options: FitOptions, buffers: tuple[np.ndarray, np.ndarray, np.ndarray | None],
                 epoch: int) -> Generator[float, None, int]:
    """One epoch's batches for the part's live members, yielding 1 after each; returns how many were trained."""
    gathered, labels, staging = buffers
    n, size = len(data.y_train), options.batch_size
    orders = {m.index: np.random.default_rng([m.options.seed, epoch]).permutation(n) for m in live}
    batch = -1
    for batch, start in enumerate(range(0, n, size)):
        for member in live:
            if not member.done:
                for hook in member.hooks.batch_begin:
                    hook(batch, {})
                if member.loop.stop_requested:
                    _retire(member, net)
        live = [member for member in live if not member.done]
        if not live:
            break
        count = min(size, n - start)
        for member in live:
            _gather(data, orders[member.index][start:start + count], gathered[member.index, :count],
                    labels[member.index, :count], None if staging is None else staging[member.index, :count])
        losses, correct = net.backprop(gathered[:, :count], labels[:, :count], options.l2, options.reduction)
        optimizer.step([net.flat_params.reshape(-1)], [net.flat_grads.reshape(-1)])
        for member in live:
            loss, right = losses[member.index], correct[member.index]
            member.loss_sum += loss
            member.correct += right
            for hook in member.hooks.batch_end:
                hook(batch, {"loss": loss, "correct": right, "size": count})
            if member.loop.stop_requested:
                _retire(member, net)
        yield 1.0
    return batch + 1


def _gather(data: Dataset, idx: np.ndarray, x_out: np.ndarray, y_out: np.ndarray, staging: np.ndarray | None) -> None:
    """A model's batch ``idx`` into its rows of the part's buffers, as ``fit`` gathers it: the stored rows
    straight into ``x_out`` when they are inputs already (``staging`` None), else into ``staging`` and made
    network inputs in ``x_out`` (``nn.pixels``: uint8 pixels scaled to [0, 1]).

    mode="clip" (the indices come from a permutation, so it never clips): the default mode="raise" gathers
    into a temporary and copies it into ``out``, about 30% slower."""
    if staging is None:
        np.take(data.x_train, idx, axis=0, out=x_out, mode="clip")
    else:
        as_inputs(np.take(data.x_train, idx, axis=0, out=staging, mode="clip"), x_out.dtype, out=x_out)
    np.take(data.y_train, idx, out=y_out, mode="clip")


def _retire(member: _Member, net: StackedMLP | _Single) -> None:
    """The member trains no more: its model takes its parameters from the stack (as fit leaves them)."""
    member.model.flat_params[...] = net.flat_params[member.index]
    member.done = True


def _end_epoch(member: _Member, net: StackedMLP | _Single, data: Dataset, options: FitOptions, batches: int,
               epoch_start: float, started: float) -> None:
    """Evaluate a member that trained the whole epoch and log it, as ``fit`` does."""
    member.model.flat_params[...] = net.flat_params[member.index]
    logs: dict[str, Any] = {"epoch": member.loop.epoch, "train_loss": member.loss_sum / batches,
                            "train_acc": member.correct / len(data.y_train),
                            **_evaluation(member.model, data), "l2_penalty": member.model.l2_penalty(options.l2)}
    now = time.perf_counter()
    logs.update(seconds=now - epoch_start, elapsed=now - started, lr=member.loop.optimizer.lr)
    member.loop.history.append(logs)
    member.hooks.call(member.hooks.epoch_end, member.loop.epoch, logs)
    if member.loop.stop_requested:
        member.done = True  # its parameters are already in its model
