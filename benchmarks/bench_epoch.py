"""How fast is one training epoch? Our NumPy trainer against PyTorch's eager CPU loop and a matmul floor.

    MNIST_DIR=/path/to/mnist python benchmarks/bench_epoch.py            # the headline table (a few minutes)
    python benchmarks/bench_epoch.py --quick                             # a quarter epoch, 3 repeats
    python benchmarks/bench_epoch.py --scaling                           # batch size x hidden width, ours only

Every row trains on the same MNIST training images with Adam (lr 1e-3), float32, He-initialised ReLU
layers, a freshly shuffled order per epoch, and times training only (no test-set evaluation):

* ours:    ``nn.fit`` for one epoch (its per-epoch evaluation is given an empty test split);
* PyTorch: the idiomatic eager loop - model(x), F.cross_entropy, zero_grad, loss.backward(), opt.step();
* floor:   just the two first-layer matrix products of every batch, X @ W1 and X.T @ dZ1, with NumPy's
           BLAS on the same shapes: what any implementation of this network has to spend.

The machine is shared and noisy, so the contenders are timed alternately within each repeat and the table
shows medians and ratios of medians. Needs ``pip install -r requirements-bench.txt`` (torch) for the
PyTorch column; without torch that column is left empty.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nn import MLP, Dataset, FitOptions, fit, load_mnist  # noqa: E402
from nn.optim import Adam  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the table is still useful without the PyTorch column
    torch = None

HEADLINE = [((784, 128, 10), b) for b in (16, 64, 128, 256, 512)] + [
    ((784, 128, 96, 10), 64), ((784, 512, 256, 10), 64)]
SCALING_BATCHES, SCALING_WIDTHS = (16, 64, 256), (64, 128, 512)


# ---------------------------------------------------------------------- the three contenders
def time_ours(data: Dataset, sizes, batch: int, seed: int) -> float:
    """Seconds for one epoch of ``nn.fit`` (training only: the test split is empty)."""
    train_only = Dataset(data.x_train, data.y_train, data.x_test[:0], data.y_test[:0])
    model = MLP(sizes, activation="relu", seed=seed)
    start = time.perf_counter()
    fit(model, Adam(1e-3), train_only, FitOptions(epochs=1, batch_size=batch, seed=seed))
    return time.perf_counter() - start


def time_torch(x: torch.Tensor, y: torch.Tensor, sizes, batch: int, seed: int) -> float:
    """Seconds for one epoch of the textbook PyTorch loop on the same data."""
    torch.manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")  # He, as ours
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    order = torch.randperm(len(x))
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def time_floor(data: Dataset, sizes, batch: int, seed: int) -> float:
    """Seconds spent in X @ W1 and X.T @ dZ1 alone, for the same shuffled batches as an epoch."""
    x = data.x_train
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    W1 = rng.standard_normal((sizes[0], sizes[1]), dtype=np.float32)
    gW1 = np.empty_like(W1)
    xb_full = np.empty((batch, sizes[0]), np.float32)
    z_full = np.empty((batch, sizes[1]), np.float32)
    total = 0.0
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        xb, z = np.take(x, idx, axis=0, out=xb_full[:len(idx)]), z_full[:len(idx)]  # gathered untimed
        start = time.perf_counter()
        np.matmul(xb, W1, out=z)
        np.matmul(xb.T, z, out=gW1)  # z stands in for dZ1: same shape, same cost
        total += time.perf_counter() - start
    return total


# ---------------------------------------------------------------------- tables
def arch(sizes) -> str:
    return "-".join(map(str, sizes))


def bench(data: Dataset, configs, repeats: int, with_torch: bool, with_floor: bool, scale: float):
    """Median seconds per epoch of each contender for each config, timed alternately, repeat after repeat."""
    if with_torch:
        tx, ty = torch.from_numpy(np.array(data.x_train)), torch.from_numpy(np.array(data.y_train))
    times = {(c, who): [] for c in configs for who in ("ours", "torch", "floor")}
    for r in range(repeats + 1):  # repeat 0 warms up caches, BLAS threads and torch's allocator: discarded
        for config in configs:
            sizes, batch = config
            runs = [("ours", lambda: time_ours(data, sizes, batch, r))]
            if with_torch:
                runs.append(("torch", lambda: time_torch(tx, ty, sizes, batch, r)))
            if with_floor:
                runs.append(("floor", lambda: time_floor(data, sizes, batch, r)))
            if r % 2:
                runs.reverse()  # alternate who goes first, so neither always follows the other
            for who, run in runs:
                seconds = run() * scale
                if r:
                    times[config, who].append(seconds)
        print(f"  repeat {r}/{repeats} done", file=sys.stderr, flush=True)
    return {key: statistics.median(v) for key, v in times.items() if v}


def headline(args, data: Dataset, scale: float) -> None:
    configs = HEADLINE[:3] if args.quick else HEADLINE
    with_torch = torch is not None and not args.no_torch
    med = bench(data, configs, args.repeats, with_torch, True, scale)
    what = "s/epoch" + (f" (timed on {len(data.y_train)} images, scaled to 60,000)" if scale != 1 else "")
    print(f"\nMedian {what} over {args.repeats} interleaved repeats; torch threads: "
          f"{torch.get_num_threads() if with_torch else '-'}\n")
    print("| config | ours | PyTorch | PyTorch / ours | floor | ours / floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for config in configs:
        sizes, batch = config
        ours, floor = med[config, "ours"], med[config, "floor"]
        tt = med.get((config, "torch"))
        t_cell, ratio = (f"{tt:.3f}", f"{tt / ours:.2f}x") if tt else ("-", "-")
        print(f"| {arch(sizes)} b{batch} | {ours:.3f} | {t_cell} | {ratio} | {floor:.3f} | {ours / floor:.2f}x |")


def scaling(args, data: Dataset, scale: float) -> None:
    configs = [((784, w, 10), b) for b in SCALING_BATCHES for w in SCALING_WIDTHS]
    med = bench(data, configs, args.repeats, False, False, scale)
    print(f"\nOurs, median s/epoch (784-width-10, Adam, float32) over {args.repeats} repeats"
          + (f", timed on {len(data.y_train)} images and scaled to 60,000" if scale != 1 else "") + "\n")
    print("| batch \\ width | " + " | ".join(map(str, SCALING_WIDTHS)) + " |")
    print("|---|" + "---:|" * len(SCALING_WIDTHS))
    for b in SCALING_BATCHES:
        print(f"| {b} | " + " | ".join(f"{med[((784, w, 10), b), 'ours']:.3f}" for w in SCALING_WIDTHS) + " |")


# ---------------------------------------------------------------------- whole-run measurements
def peak_memory(args) -> None:
    """Max RSS of a headless 10-epoch run, measured by a small launcher process.

    The launcher matters: Linux's RUSAGE_CHILDREN max RSS also counts the image a child was forked from,
    so measuring straight from this (big) process would report this process's size.
    """
    run = [sys.executable, "-m", "experiments", "run", "--epochs", "10"]
    launcher = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True); "
                "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
                "sys.stderr.write(done.stderr.decode()[-300:])")
    with tempfile.TemporaryDirectory() as tmp:  # the run's store goes to a scratch file, not results/
        env = dict(os.environ, RESULTS_DB=str(Path(tmp) / "runs.sqlite"))
        if args.data_dir:
            env["MNIST_DIR"] = args.data_dir
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", launcher, *run], cwd=ROOT, env=env, capture_output=True,
                              text=True)
        seconds = time.perf_counter() - start
    code, max_rss_kib = (int(v) for v in done.stdout.split()) if done.returncode == 0 else (done.returncode, 0)
    if code != 0:
        print(f"\npeak memory: `python -m experiments run --epochs 10` failed ({code}): {done.stderr.strip()}")
        return
    print(f"\nPeak memory of `python -m experiments run --epochs 10` (784-128-10, b64): "
          f"{max_rss_kib / 1024:.0f} MB max RSS, {seconds:.1f} s wall")


def runner_overhead(args, data: Dataset) -> None:
    """Wall time of runs through experiments.runs.runner.RunManager against fit called directly, alternately."""
    try:
        from experiments.config import RunConfig
        from experiments.runs.execute import train_config
        from experiments.runs.runner import RunManager
        from experiments.runs.store import RunStore
    except ImportError as exc:
        print(f"\nrunner overhead: not measured ({exc})")
        return
    config = RunConfig(epochs=args.runner_epochs, data_dir=args.data_dir or "")
    bare, managed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        manager = RunManager(RunStore(Path(tmp) / "runs.sqlite"), data_loader=lambda c: data)
        for r in range(args.repeats + 1):
            start = time.perf_counter()
            train_config(config, data)
            t_bare = time.perf_counter() - start
            start = time.perf_counter()
            run_id = manager.submit(config, source="benchmark")
            manager.wait([run_id])
            t_managed = time.perf_counter() - start
            if r:  # repeat 0 is a warm-up
                bare.append(t_bare)
                managed.append(t_managed)
    b, m = statistics.median(bare), statistics.median(managed)
    print(f"\nRunner overhead ({config.architecture} b{config.batch_size}, {config.epochs} epochs with test "
          f"evaluation, {args.repeats} alternated repeats): bare train_config {b:.2f} s, RunManager "
          f"submit+wait {m:.2f} s, ratio {m / b:.3f}x")


def environment() -> str:
    """Versions, CPUs and which BLAS kernel NumPy runs (OPENBLAS_CORETYPE etc. can change it)."""
    text = f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, {os.cpu_count()} CPUs"
    try:
        from threadpoolctl import threadpool_info
        text += "".join(f"; {p.get('internal_api')} {p.get('version')} kernel {p.get('architecture')} "
                        f"threads {p.get('num_threads')}" for p in threadpool_info() if p.get("user_api") == "blas")
    except ImportError:
        pass
    flags = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    return text + (f"; environment {flags}" if flags else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per contender (default %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, a quarter of an epoch scaled up, the 784-128-10 b16/64/128 rows only")
    parser.add_argument("--fraction", type=float, default=1.0, help="time this fraction of an epoch and scale up")
    parser.add_argument("--scaling", action="store_true", help="the batch x width table (ours only) instead")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    parser.add_argument("--no-memory", action="store_true", help="skip the 10-epoch peak-memory run")
    parser.add_argument("--no-runner", action="store_true", help="skip the background-runner overhead")
    parser.add_argument("--runner-epochs", type=int, default=2, help="epochs per run for the runner overhead")
    parser.add_argument("--threads", type=int, default=0,
                        help="BLAS threads for NumPy and intra-op threads for torch (default: their own defaults)")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", ""), help="MNIST folder ($MNIST_DIR)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.fraction = min(args.repeats, 3), 0.25
    if args.threads:
        from threadpoolctl import threadpool_limits  # requirements-bench.txt
        threadpool_limits(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    data = load_mnist(args.data_dir or None)
    if args.fraction < 1:
        n = max(1, int(len(data.y_train) * args.fraction))
        data = Dataset(data.x_train[:n], data.y_train[:n], data.x_test, data.y_test, data.source)
    scale = 60000 / len(data.y_train)
    print(environment(), file=sys.stderr)
    if args.scaling:
        scaling(args, data, scale)
        return 0
    headline(args, data, scale)
    if not args.quick and not args.no_memory:
        peak_memory(args)
    if not args.quick and not args.no_runner:
        runner_overhead(args, load_mnist(args.data_dir or None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
