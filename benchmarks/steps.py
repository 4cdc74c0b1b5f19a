"""What each of issue 17's changes bought: the same epoch with the changes switched on one by one, interleaved.

Rows (784-128-10 at batch 64 and 784-512-256-10 at batch 64, one epoch + test pass through the product's
path, ``train_config``):

* before:          the NumPy Adam (10 passes) and one BLAS thread, as the product trained before;
* + fused Adam:    the Numba kernel behind the same optimizer (nn/kernels.py), still one BLAS thread;
* + batch kernels: bias + ReLU, ReLU's derivative and softmax cross-entropy compiled too (nn/kernels.py);
* + threads:       BLAS threads by context (experiments/runs/threads.py): every free core when alone;
* + uint8 pixels:  MNIST kept as bytes and each batch scaled as it is gathered (nn/pixels.py); the steps
                   before train on the same images stored as float32, as the product did.

The switches are the ones the product has: ``Optimizer.fused``, ``kernels.batch_fused``, ``MLP_BLAS_THREADS``
and the dataset's dtype.
"""
from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nn import Dataset, kernels
from nn import optim as nn_optim

Config = tuple[tuple[int, ...], int]
CONFIGS: list[Config] = [((784, 128, 10), 64), ((784, 512, 256, 10), 64)]


@contextmanager
def _switches(fused: bool, batch: bool, one_thread: bool) -> Iterator[None]:
    saved_fused, saved_env = nn_optim.Optimizer.fused, os.environ.get("MLP_BLAS_THREADS")
    saved_batch = kernels.batch_fused
    nn_optim.Optimizer.fused = fused and saved_fused  # never claims a kernel that is not there
    kernels.batch_fused = batch and saved_batch
    if one_thread:
        os.environ["MLP_BLAS_THREADS"] = "1"
    else:
        os.environ.pop("MLP_BLAS_THREADS", None)
    try:
        yield
    finally:
        nn_optim.Optimizer.fused, kernels.batch_fused = saved_fused, saved_batch
        if saved_env is None:
            os.environ.pop("MLP_BLAS_THREADS", None)
        else:
            os.environ["MLP_BLAS_THREADS"] = saved_env


@dataclass(frozen=True)
class Step:
    """One column of the table: which of the changes are on."""

    fused: bool
    batch: bool
    one_thread: bool
    pixels: bool


STEPS: dict[str, Step] = {"before": Step(False, False, True, False), "+ fused Adam": Step(True, False, True, False),
                          "+ batch kernels": Step(True, True, True, False),
                          "+ threads by context": Step(True, True, False, False),
                          "+ uint8 pixels": Step(True, True, False, True)}


def steps(data: Dataset, repeats: int, scale: float) -> None:
    """Print a before/after table: median seconds per step, each against the one before it."""
    from benchmarks.contenders import float_inputs, time_ours

    floats = float_inputs(data)
    times: dict[tuple[Config, str], list[float]] = {(c, s): [] for c in CONFIGS for s in STEPS}
    for r in range(repeats + 1):
        for config in CONFIGS:
            order = list(STEPS.items())
            for name, step in order[::-1] if r % 2 else order:
                with _switches(step.fused, step.batch, step.one_thread):
                    seconds = time_ours(data if step.pixels else floats, config[0], config[1], r) * scale
                if r:
                    times[config, name].append(seconds)
    print(f"\nWhat each change bought (median s/epoch, epoch + test pass, {repeats} interleaved repeats, "
          f"load average now {os.getloadavg()[0]:.2f}):\n")
    print("| config | " + " | ".join(STEPS) + " |")
    print("|---|" + "---:|" * len(STEPS))
    for config in CONFIGS:
        med = [statistics.median(times[config, name]) for name in STEPS]
        cells = [f"{med[0]:.3f}"] + [f"{m:.3f} ({prev / m:.2f}x)" for prev, m in zip(med, med[1:])]
        print(f"| {'-'.join(map(str, config[0]))} b{config[1]} | " + " | ".join(cells) + " |")
