"""Seed groups: k networks (say one config, three seeds) trained side by side, sharing the cores fairly.

Why: a seed group is k independent runs, and a lone run of a small network cannot keep two cores busy: its
second BLAS thread only helps the two big products of a step (184 us a step on one BLAS thread, 135 on
two, at 784-128-10 b64), and everything else in the step runs on one core. Trained together, the runs
share the cores: ``threads`` workers, one BLAS thread each, take turns at the models (nn/fair_share.py),
so 3 models on 2 cores each get two thirds of a core and every part of a step keeps both cores busy.

Each model trains through ``fit``'s own loop, ``nn.train.train_steps``, which ``fit`` runs to its end in one
go and a group advances a few batches at a time, so a worker can hand the model on between batches. So each
model's parameters, history and callback calls are those of ``fit`` alone at the same BLAS threads, bit for
bit (tested).

Why not stack the models (one (k, P) buffer, one batched product per layer)? Measured at 784-128-10 b64 on
one core: stacked, 173 us a step per model against 184 for ``MLP`` alone; with the batch kernels (fused
bias + ReLU and softmax cross-entropy in ``MLP``'s path), 179 against 172. The stack's saving on per-call
overhead is smaller than what the kernels save, it would need its own kernels, and it forces one optimizer
(so one learning-rate schedule) and no dropout on all its models. Fair turns need models apart anyway.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from .data import Dataset
from .fair_share import FairShare
from .mlp import MLP
from .optim import Optimizer
from .train import FitOptions, TrainResult, start_run, train_steps

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
    loops = [start_run(model, make_optimizer(), data, replace(options, seed=int(seed)), cbs)
             for model, seed, cbs in zip(models, seeds, callbacks)]
    # A model's evaluation (forward passes only) costs about one training step per 3 * batch_size held-out
    # rows. Models start half an evaluation apart, so their last evaluations do not all fall at the very end
    # with nothing left to train beside them (simulated: 1.0% off the ideal instead of 1.5% for 3 on 2).
    evaluation = (len(data.y_val) + len(data.y_test)) / (3 * options.batch_size)
    jobs = [train_steps(loop, hooks, evaluation) for loop, hooks in loops]
    FairShare(jobs, CHUNK, [i * evaluation / 2 for i in range(len(jobs))]).run(max(1, min(threads, len(models))))
    return [TrainResult(loop.history, loop.status, loop.message) for loop, _ in loops]
