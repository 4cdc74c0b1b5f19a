"""What does checkpointing every epoch cost? One epoch with the run's checkpointer against one without.

    MNIST_DIR=/path/to/mnist python benchmarks/bench_checkpoint.py            # 784-128-10, batch 64, 7 repeats
    python benchmarks/bench_checkpoint.py --hidden 512,256 --repeats 3

Both contenders train the same network (Adam lr 1e-3, float32) on the whole MNIST training set for one epoch
and evaluate it on the test set, as a stored run does; "on" adds ``RunBackup`` (the callback every
stored run gets: model and optimizer state written to a temporary file, fsynced, moved into the run's
checkpoint folder through the store). The machine is shared and noisy, so the two are timed alternately
and the table shows medians, their ratio, and the median time of the checkpoint write itself.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.config import RunConfig  # noqa: E402
from experiments.runs.checkpoints import RunBackup, checkpoint_bytes  # noqa: E402
from experiments.store import RunStore  # noqa: E402
from nn import MLP, FitOptions, fit, load_mnist  # noqa: E402
from nn.optim import Adam  # noqa: E402


class TimedCheckpointer(RunBackup):
    """The run's checkpointer, timing its own work."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.seconds: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        start = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.seconds.append(time.perf_counter() - start)


def epoch_seconds(data: Any, sizes: list[int], batch: int, callbacks: list[Any]) -> float:
    model = MLP(sizes, activation="relu", seed=0)
    start = time.perf_counter()
    fit(model, Adam(1e-3), data, FitOptions(epochs=1, batch_size=batch, seed=0), callbacks)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="128", help="hidden widths, e.g. 512,256 (default %(default)s)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    data = load_mnist()
    config = RunConfig(hidden=args.hidden, batch_size=args.batch)
    sizes = config.sizes(data.num_features)
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs.sqlite")
        run_id = store.create_run(config)
        keeper = TimedCheckpointer(store, run_id)
        on: list[float] = []
        off: list[float] = []
        for repeat in range(args.repeats):  # alternate, and alternate which goes first
            pair = [(off, []), (on, [keeper])] if repeat % 2 else [(on, [keeper]), (off, [])]
            for times, callbacks in pair:
                times.append(epoch_seconds(data, sizes, args.batch, callbacks))
        size = checkpoint_bytes(store, run_id)
    med_on, med_off, write = statistics.median(on), statistics.median(off), statistics.median(keeper.seconds)
    print(f"{'-'.join(map(str, sizes))}, batch {args.batch}, {args.repeats} epochs each, medians")
    print(f"  epoch without checkpoint  {med_off:8.3f} s")
    paired = statistics.median(a / b for a, b in zip(on, off))
    print(f"  epoch with checkpoint     {med_on:8.3f} s   ratio of medians {med_on / med_off:.3f}, "
          f"median of paired ratios {paired:.3f}")
    print(f"  the checkpoint write      {write * 1e3:8.1f} ms  ({write / med_off:.2%} of an epoch; "
          f"file {size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
