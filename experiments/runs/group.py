"""Train a seed group (one config, several seeds) together: the experiments-side entry to nn.seed_group.

Each seed's model and result are exactly those of ``train_config`` for that seed alone (nn/seed_group.py
explains why and tests check it); the group is faster because its models share the cores it is given
(experiments/runs/threads.py decides how many): a worker thread per core, one BLAS thread each, taking fair
turns at the models. A lone run's second BLAS thread only speeds up its big matrix products; the group
keeps both cores busy with everything.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from experiments.config import RunConfig
from experiments.runs import threads
from experiments.runs.training import build_model, build_optimizer, protocol_callbacks
from nn import MLP, Dataset, FitOptions, StopOnEvent, TrainResult
from nn.seed_group import fit_group


def train_seed_group(config: RunConfig, seeds: Sequence[int], data: Dataset,
                     callbacks: Sequence[Iterable[Any]] | None = None,
                     stop_event: threading.Event | None = None) -> list[tuple[MLP, TrainResult]]:
    """Train ``config`` once per seed in ``seeds``, together; returns (model, result) per seed, in order.

    ``callbacks[j]`` are seed j's; a set ``stop_event`` stops every seed within a batch.
    """
    if config.early_stopping != "off":
        raise ValueError("a seed group trains without early stopping: train these seeds one by one")
    models = [build_model(replace(config, seed=seed), data.num_features) for seed in seeds]
    # each seed gets the config's own callbacks (its lr schedule), as train_config gives a lone run
    per_seed = [[*protocol_callbacks(config), *cbs] for cbs in (callbacks or [()] * len(models))]
    if stop_event is not None:
        per_seed = [[StopOnEvent(stop_event), *cbs] for cbs in per_seed]
    options = FitOptions(epochs=config.epochs, batch_size=config.batch_size, l2=config.l2,
                         reduction=config.reduction)
    with threads.training_threads() as given:
        workers, blas_each = threads.group_split(len(models), given)
        with threads.limit_blas(blas_each):
            results = fit_group(models, lambda: build_optimizer(config), data, options,
                                seeds=list(seeds), callbacks=per_seed, threads=workers)
    return list(zip(models, results))
