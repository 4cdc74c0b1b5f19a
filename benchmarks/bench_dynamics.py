"""What do the within-epoch points and the per-layer dynamics cost? (issue 14: at most 5% of an epoch)

    MNIST_DIR=/path/to/mnist python benchmarks/bench_dynamics.py [--repeats 7]

Trains one epoch of 784-128-10 relu, Adam, batch 64 on the 60,000 MNIST images (plus the evaluation on the
test set that every epoch does), alternately: without the recorders, with the nn callbacks alone
(``BatchCurve`` and ``LayerMonitor``, sinks that drop their data), and with them writing into a temporary
run store as a real run does (``dynamics_callbacks``). The three are interleaved so that load on this
shared machine hits them alike; each one's median is reported, and the ratios to the plain epoch. On a
loaded machine those medians swing by more than the cost itself, so the time spent inside the recorders'
hooks is also measured directly (``Timed``) and reported as a share of the same epoch: the robust figure.
BLAS threads as runs train them (experiments/runs/threads.py).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from experiments.config import RunConfig  # noqa: E402
from experiments.store import RunStore  # noqa: E402
from experiments.store.dynamics import dynamics_callbacks  # noqa: E402
from nn import MLP, Dataset, FitOptions, fit, load_mnist  # noqa: E402
from nn.batch_curve import BatchCurve  # noqa: E402
from nn.callbacks import HOOKS, Callback, RunState  # noqa: E402
from nn.dynamics import LayerMonitor  # noqa: E402
from nn.optim import Adam  # noqa: E402


class Timed:
    """A callback's proxy that adds up the seconds spent in its hooks (only those it implements)."""

    def __init__(self, callback: Callback):
        self.callback, self.seconds = callback, 0.0
        for name in HOOKS:
            if getattr(type(callback), name) is not getattr(Callback, name):
                setattr(self, name, self._timed(getattr(callback, name)))

    def set_loop(self, loop: RunState) -> None:
        self.callback.set_loop(loop)

    def _timed(self, hook: Callable[..., None]) -> Callable[..., None]:
        def run(*args: object) -> None:
            start = time.perf_counter()
            hook(*args)
            self.seconds += time.perf_counter() - start
        return run


def epoch_seconds(data: Dataset, callbacks: list, seed: int) -> float:
    model = MLP([784, 128, 10], seed=seed)
    start = time.perf_counter()
    fit(model, Adam(1e-3), data, FitOptions(epochs=1, batch_size=64, seed=seed), callbacks)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    threadpool_limits(1, user_api="blas")
    data = load_mnist()
    store = RunStore(Path(tempfile.mkdtemp()) / "bench.sqlite")
    times: dict[str, list[float]] = {"off": [], "nn callbacks": [], "callbacks + store": []}
    shares: list[float] = []
    for repeat in range(args.repeats):
        run_id = store.create_run(RunConfig())
        variants: dict[str, list] = {
            "off": [], "nn callbacks": [BatchCurve(lambda points: None), LayerMonitor(lambda e, s: None)],
            "callbacks + store": [Timed(cb) for cb in dynamics_callbacks(store, run_id)]}
        for name, callbacks in variants.items():
            times[name].append(epoch_seconds(data, callbacks, repeat))
        hooks = sum(cb.seconds for cb in variants["callbacks + store"])
        shares.append(hooks / (times["callbacks + store"][-1] - hooks))
        print(f"repeat {repeat + 1}: " + ", ".join(f"{n} {t[-1]:.3f} s" for n, t in times.items()), flush=True)
    base = statistics.median(times["off"])
    print(f"\nmedian epoch (784-128-10, batch 64, 60,000 images, with the test evaluation) over {args.repeats}:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<18} {median:.3f} s   ratio {median / base:.3f}   (+{100 * (median / base - 1):.1f}%)")
    print(f"time inside the recorders' hooks (store writes included), median share of the epoch: "
          f"{statistics.median(shares):.2%} (max {max(shares):.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
