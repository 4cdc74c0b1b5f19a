"""Seed groups: k networks (say one config, three seeds) trained side by side, sharing the cores fairly.

Why: a seed group is k independent runs, and a lone run of a small network cannot keep two cores busy: its
second BLAS thread only helps the two big products of a step (184 us a step on one BLAS thread, 135 on
two, at 784-128-10 b64), and everything else in the step runs on one core. Trained together, the runs
share the cores: ``threads`` workers, one BLAS thread each, take turns at the models (nn/fair_share.py),
so 3 models on 2 cores each get two thirds of a core and every part of a step keeps both cores busy.

Each model trains through the very code ``fit`` runs (``MLP.backprop``, its own optimizer, ``fit``'s batch
gathering and evaluation); only the loop is cut into steps, one batch per step, so a worker can hand the
model on between batches. So each model's parameters, history and callback calls are those of ``fit`` alone
at the same BLAS threads, bit for bit (tested).

Why not stack the models (one (k, P) buffer, one batched product per layer)? Measured at 784-128-10 b64 on
one core: stacked, 173 us a step per model against 184 for ``MLP`` alone; with the batch kernels (fused
bias + ReLU and softmax cross-entropy in ``MLP``'s path), 179 against 172. The stack's saving on per-call
overhead is smaller than what the kernels save, it would need its own kernels, and it forces one optimizer
(so one learning-rate schedule) and no dropout on all its models. Fair turns need models apart anyway.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .callbacks import CallbackList, DivergenceGuard, TrainingLoop
from .data import Dataset
from .fair_share import FairShare
from .mlp import MLP
from .optim import Optimizer
from .train import FitOptions, TrainResult, _Batches, _evaluation

CHUNK = 8  # batches a worker trains of one model before it takes the model furthest behind (about 1.5 ms)


def fit_group(models: Sequence[MLP], make_optimizer: Callable[[], Optimizer], data: Dataset, options: FitOptions,
              seeds: Sequence[int], callbacks: Sequence[Iterable[Any]] | None = None,
              threads: int = 1) -> list[TrainResult]:
    """Train ``models`` together: model j exactly as ``fit(models[j], make_optimizer(), data,
    replace(options, seed=seeds[j]), callbacks[j])`` would, with the same history and callbacks.

    ``threads`` workers take fair turns at the models (give each worker one BLAS thread: BLAS, the gathers
    and the kernels release the GIL, so workers on different cores run side by side). A model's callbacks
    are called in ``fit``'s order and never two at once, but not always from the same thread.
    """
    callbacks = callbacks or [()] * len(models)
    if not len(models) == len(seeds) == len(callbacks):
        raise ValueError("a seed group needs one seed (and one list of callbacks) per model")
    loops = [_loop(model, make_optimizer(), data, replace(options, seed=int(seed)), cbs)
             for model, seed, cbs in zip(models, seeds, callbacks)]
    # A model's evaluation (forward passes only) costs about one training step per 3 * batch_size held-out
    # rows. Models start half an evaluation apart, so their last evaluations do not all fall at the very end
    # with nothing left to train beside them (simulated: 1.0% off the ideal instead of 1.5% for 3 on 2).
    evaluation = (len(data.y_val) + len(data.y_test)) / (3 * options.batch_size)
    jobs = [_steps(loop, hooks, data, evaluation) for loop, hooks in loops]
    FairShare(jobs, CHUNK, [i * evaluation / 2 for i in range(len(jobs))]).run(max(1, min(threads, len(models))))
    return [TrainResult(loop.history, loop.status, loop.message) for loop, _ in loops]


def _loop(model: MLP, optimizer: Optimizer, data: Dataset, options: FitOptions,
          callbacks: Iterable[Any]) -> tuple[TrainingLoop, CallbackList]:
    """A model's run as its callbacks see it, with a ``DivergenceGuard`` first unless it has one (as ``fit``)."""
    callbacks = list(callbacks)
    if not any(isinstance(cb, DivergenceGuard) for cb in callbacks):
        callbacks.insert(0, DivergenceGuard())
    loop = TrainingLoop(model, optimizer, options, data)
    return loop, CallbackList(callbacks, loop)


def _steps(loop: TrainingLoop, hooks: CallbackList, data: Dataset, evaluation: float) -> Iterator[float]:
    """``fit``'s loop as a job for ``FairShare``: it yields the work done, 1 after each batch and
    ``evaluation`` after each epoch's evaluation (nn/train.py is the reference; tests hold the two equal)."""
    model, optimizer, options = loop.model, loop.optimizer, loop.options
    batches = _Batches(data.x_train, data.y_train, options.batch_size, model.dtype)
    hooks.call(hooks.train_begin, {"epochs": options.epochs, "initial_epoch": options.initial_epoch,
                                   "batches_per_epoch": batches.per_epoch})
    started = time.perf_counter()
    for epoch in range(options.initial_epoch + 1, options.epochs + 1):
        loop.epoch, epoch_start = epoch, time.perf_counter()
        model.dropout_rng = np.random.default_rng([options.seed, epoch, 1])  # like the shuffle: (seed, epoch)
        hooks.call(hooks.epoch_begin, epoch, {})
        trained = yield from _train_epoch(loop, hooks, batches, epoch)
        if trained is None:
            break
        logs = {"epoch": epoch, **trained, **_evaluation(model, data), "l2_penalty": model.l2_penalty(options.l2)}
        now = time.perf_counter()
        logs.update(seconds=now - epoch_start, elapsed=now - started, lr=optimizer.lr)
        loop.history.append(logs)
        hooks.call(hooks.epoch_end, epoch, logs)
        yield evaluation
        if loop.stop_requested:
            break
    hooks.call(hooks.train_end, {"status": loop.status, "message": loop.message})


def _train_epoch(loop: TrainingLoop, hooks: CallbackList, batches: _Batches,
                 epoch: int) -> Generator[float, None, dict[str, float] | None]:
    """One pass over the shuffled training set, yielding 1 after each batch; its train_loss and train_acc, or
    None if a stop was requested (``fit``'s ``_train_epoch``)."""
    model, optimizer, options = loop.model, loop.optimizer, loop.options
    begin, end = hooks.batch_begin, hooks.batch_end
    loss_sum, correct, batch = 0.0, 0, 0
    for batch, (xb, yb) in enumerate(batches.epoch(options.seed, epoch)):
        for hook in begin:
            hook(batch, {})
        if loop.stop_requested:
            return None
        loss, batch_correct = model.backprop(xb, yb, options.l2, options.reduction)
        optimizer.step([model.flat_params], [model.flat_grads])
        loss_sum += loss
        correct += batch_correct
        for hook in end:
            hook(batch, {"loss": loss, "correct": batch_correct, "size": len(yb)})
        if loop.stop_requested:
            return None
        yield 1.0
    return {"train_loss": loss_sum / (batch + 1), "train_acc": correct / batches.size}
