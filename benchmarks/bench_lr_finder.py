"""Does the learning-rate finder's suggestion train as well as the best lr of a grid? (issue 14)

    MNIST_DIR=/path/to/mnist OMP_NUM_THREADS=1 python benchmarks/bench_lr_finder.py [--epochs 5] [--seeds 1]

For Adam and for SGD on the default network (784-128-10 relu, batch 64, seed 0): run the finder on the
first 50,000 training images (timed), then train 5 epochs at each lr of the grid {1e-4, 3e-4, ..., 1} and
at both suggestions, and measure the accuracy on the last 10,000 training images (held out as validation:
the finder never sees them, and the test split is not used to choose). Prints one table per optimizer and a
summary line: the suggestion's accuracy against the grid's best. Nothing is stored (no run store at all:
the networks are trained with ``nn.fit`` directly).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from experiments.analysis.lr_find import find_learning_rate, rounded_lr  # noqa: E402
from experiments.config import RunConfig  # noqa: E402
from experiments.runs.training import build_model  # noqa: E402
from nn import Dataset, fit, get_optimizer, load_mnist  # noqa: E402

GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
VALIDATION = 10_000


def split(data: Dataset) -> Dataset:
    """Train on all but the last 10,000 training images; validate on those (as ``x_test``)."""
    cut = len(data.y_train) - VALIDATION
    return Dataset(data.x_train[:cut], data.y_train[:cut], data.x_train[cut:], data.y_train[cut:], data.source)


def validation_accuracy(config: RunConfig, data: Dataset, seeds: int) -> float:
    """Mean over seeds of the validation accuracy after the last epoch (0 for a run that diverged)."""
    scores = []
    for seed in range(seeds):
        run = config.replace(seed=seed)
        model = build_model(run, data.num_features)
        result = fit(model, get_optimizer(run.optimizer, run.lr), data, epochs=run.epochs,
                     batch_size=run.batch_size, seed=seed)
        scores.append(result.history[-1]["test_acc"] if result.status == "finished" and result.history else 0.0)
    return statistics.mean(scores)


def bench(optimizer: str, data: Dataset, epochs: int, seeds: int) -> str:
    config = RunConfig(optimizer=optimizer, epochs=epochs)
    report = find_learning_rate(config, data)
    suggestions = {"steepest": rounded_lr(report.steepest or 0), "minimum/10": rounded_lr(report.minimum or 0)}
    print(f"\n{optimizer}: finder {report.seconds:.2f} s over {len(report.lrs)} steps; suggestions "
          + ", ".join(f"{k} {v:g}" for k, v in suggestions.items()), flush=True)
    accuracy = {}
    for lr in sorted({*GRID, *(v for v in suggestions.values() if v > 0)}):
        began = time.perf_counter()
        accuracy[lr] = validation_accuracy(config.replace(lr=lr), data, seeds)
        tag = " <- " + " & ".join(k for k, v in suggestions.items() if v == lr) if lr in suggestions.values() else ""
        print(f"  lr {lr:<8g} validation accuracy {accuracy[lr]:.2%}  ({time.perf_counter() - began:.0f} s){tag}",
              flush=True)
    best = max(GRID, key=lambda lr: accuracy[lr])
    parts = [f"{optimizer}: grid best lr {best:g} {accuracy[best]:.2%}"]
    for name, lr in suggestions.items():
        if lr > 0:
            gap = (accuracy[best] - accuracy[lr]) * 100
            side = "under" if gap >= 0 else "above"
            parts.append(f"{name} {lr:g} {accuracy[lr]:.2%} ({abs(gap):.2f} points {side} the best)")
    parts.append(f"finder {report.seconds:.2f} s")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1, help="seeds averaged per lr (default %(default)s)")
    parser.add_argument("--train-size", type=int, default=0, help="use only the first N training images (0 = all)")
    args = parser.parse_args()
    threadpool_limits(1, user_api="blas")
    data = load_mnist()
    if args.train_size:
        data = data.subset(args.train_size + VALIDATION, 0)
    data = split(data)
    print(f"train {len(data.y_train):,} images, validation {len(data.y_test):,} (the last of the training split); "
          f"{args.epochs} epochs, {args.seeds} seed(s) per lr")
    summary = [bench(optimizer, data, args.epochs, args.seeds) for optimizer in ("adam", "sgd")]
    print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
