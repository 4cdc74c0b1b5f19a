"""How fast does a run train where users run it? Ours (the command line and the dashboard's runner) against
PyTorch eager, JAX (jit step loop and whole-epoch scan) and the floor, with every goal of issue 21.

    MNIST_DIR=/path/to/mnist python benchmarks/bench_epoch.py            # everything: table, load, long run, ...
    python benchmarks/bench_epoch.py --quick                             # a quarter epoch, 2 repeats, 3 rows
    python benchmarks/bench_epoch.py --scaling                           # batch size x hidden width, ours only

Every contender does the same work (see benchmarks/contenders.py): a fresh He-initialised ReLU network trained
for ``--epochs`` epochs of the 60,000 MNIST training images in fresh shuffled orders with Adam (lr 1e-3),
float32, each epoch followed by a pass over the 10,000 test images; a contender's time is the median of its
epochs after the first. "ours (CLI)" is ``python -m experiments run`` in its own process and "ours
(runner)" the dashboard's RunManager, both with their default callbacks and store (benchmarks/user_path.py);
"bare" is ``train_config`` alone, to show the product's overhead. torch and JAX use their default thread
pools (all cores), as a user would run them.

The machine is shared and noisy, so the contenders are timed alternately within each repeat (the order flips
every repeat), repeat 0 (compilation, caches, allocators) is discarded, and the tables show medians and ratios
of medians, with the load average printed. Needs ``pip install -r requirements-bench.txt`` (torch, jax) for
their columns; without them those stay empty.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import contenders as c  # noqa: E402
from benchmarks import user_path as u  # noqa: E402
from benchmarks.whole_run import long_run, peak_memory, reproduction_minutes, under_load  # noqa: E402
from nn import Dataset, load_mnist  # noqa: E402

Config = tuple[tuple[int, ...], int]
HEADLINE: list[Config] = [((784, 128, 10), b) for b in (16, 64, 128, 256, 512)] + [
    ((784, 128, 96, 10), 64), ((784, 512, 256, 10), 64)]
SCALING_BATCHES, SCALING_WIDTHS = (16, 64, 256), (64, 128, 512)
COLUMNS = {"cli": "ours (CLI)", "runner": "ours (runner)", "bare": "bare train_config", "torch": "PyTorch eager",
           "jax_loop": "JAX jit loop", "jax_scan": "JAX scan", "floor": "floor"}
Runner = Callable[[tuple[int, ...], int, int], list[float]]


def contenders(args: argparse.Namespace, data: Dataset, wanted: list[str]) -> dict[str, Runner]:
    """The timing function of every wanted contender whose library is installed."""
    floats = c.float_inputs(data)  # theirs (and the floor's) made float once, untimed; ours scales each batch
    epochs = args.epochs
    runners: dict[str, Runner] = {
        "runner": lambda s, b, r: u.time_runner(data, s, b, r, epochs),
        "bare": lambda s, b, r: u.time_bare(data, s, b, r, epochs),
        "floor": lambda s, b, r: c.time_floor(floats, s, b, r, epochs)}
    if args.fraction == 1:  # the command line trains on all the images (its --train-size keeps the whole test set)
        runners["cli"] = lambda s, b, r: u.time_cli(args.data_dir, s, b, r, epochs)
    if c.torch is not None and "torch" in wanted:
        td = c.TorchData(floats)
        runners["torch"] = lambda s, b, r: c.time_torch(td, s, b, r, epochs)
    if c.jax is not None and "jax" in wanted:
        jd = c.JaxData(floats)
        runners["jax_loop"] = lambda s, b, r: c.time_jax_loop(jd, s, b, r, epochs)
        runners["jax_scan"] = lambda s, b, r: c.time_jax_scan(jd, s, b, r, epochs)
    if "ours" in wanted:
        wanted = [*wanted, "cli", "runner", "bare"]
    return {who: run for who, run in runners.items() if who in wanted or who.startswith(tuple(wanted))}


def bench(runners: dict[str, Runner], configs: list[Config], repeats: int, scale: float) -> dict:
    """Median seconds per epoch of each contender for each config, timed alternately, repeat after repeat."""
    times: dict[tuple[Config, str], list[float]] = {(cf, who): [] for cf in configs for who in runners}
    for r in range(repeats + 1):  # repeat 0 warms up caches, threads, allocators and JAX's compiler: discarded
        for config in configs:
            sizes, batch = config
            order = list(runners.items())
            if r % 2:
                order.reverse()  # alternate who goes first, so neither always follows the other
            for who, run in order:
                seconds = [t * scale for t in run(sizes, batch, r)]
                if r:
                    times[config, who].extend(seconds)
        print(f"  repeat {r}/{repeats} done (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    return {key: statistics.median(v) for key, v in times.items() if v}


def arch(sizes: tuple[int, ...]) -> str:
    return "-".join(map(str, sizes))


def ours(med: dict) -> str:
    """The column every ratio is taken against: what a user gets (the command line; the runner in --quick)."""
    return "cli" if any(who == "cli" for _, who in med) else "runner"


def print_table(med: dict, configs: list[Config], who: list[str]) -> None:
    mine = ours(med)
    rivals = [w for w in ("torch", "jax_loop", "jax_scan") if w in who]
    print(f"ratios against {COLUMNS[mine]}\n")
    print("| config | " + " | ".join(COLUMNS[w] for w in who) + " | "
          + " | ".join(f"{COLUMNS[w]} / ours" for w in rivals) + " | ours / bare | ours / floor |")
    print("|---|" + "---:|" * (len(who) + len(rivals) + 2))
    for config in configs:
        base = med[config, mine]
        cells = [f"{med[config, w]:.3f}" for w in who]
        ratios = [f"{med[config, w] / base:.2f}x" for w in rivals]
        extra = [f"{base / med[config, w]:.2f}x" if (config, w) in med else "-" for w in ("bare", "floor")]
        print(f"| {arch(config[0])} b{config[1]} | " + " | ".join(cells + ratios + extra) + " |")


@dataclass(frozen=True)
class Goal:
    """One target of issue 21: ``value`` must reach ``target`` (at least, or at most when ``at_most``)."""

    text: str
    value: float | None
    target: float
    at_most: bool = False

    def line(self) -> str:
        if self.value is None or not np.isfinite(self.value):
            return f"- {self.text}: n/a yet (target {'<=' if self.at_most else '>='} {self.target:g})"
        met = self.value <= self.target if self.at_most else self.value >= self.target
        return f"- {self.text}: {self.value:.2f} (target {'<=' if self.at_most else '>='} {self.target:g}) " + \
            ("met" if met else "NOT met")


def ratio(med: dict, config: Config, a: str, b: str) -> float | None:
    """med[a] / med[b] for ``config``, or None when either was not measured."""
    if (config, a) not in med or (config, b) not in med:
        return None
    return med[config, a] / med[config, b]


def epoch_goals(med: dict) -> list[Goal]:
    """Issue 21's goals on the user's path: JAX scan, PyTorch, the floor and the product's overhead."""
    mine, b64 = ours(med), ((784, 128, 10), 64)
    goals = [Goal("784-128-10 b64: JAX scan / ours", ratio(med, b64, "jax_scan", mine), 1.15)]
    for config in [((784, 128, 10), 16), ((784, 128, 10), 256), ((784, 128, 10), 512), ((784, 512, 256, 10), 64)]:
        name = f"{arch(config[0])} b{config[1]}"
        goals.append(Goal(f"{name}: JAX scan / ours", ratio(med, config, "jax_scan", mine), 1.0))
    for config in sorted({cf for cf, _ in med}):
        name = f"{arch(config[0])} b{config[1]}"
        goals.append(Goal(f"{name}: PyTorch eager / ours", ratio(med, config, "torch", mine), 2.0))
    goals.append(Goal("784-128-10 b64: ours / floor", ratio(med, b64, mine, "floor"), 1.6, at_most=True))
    for who in ("cli", "runner"):
        if any(w == who for _, w in med):
            worst = max(med[cf, who] / med[cf, "bare"] for cf, w in med if w == who and (cf, "bare") in med)
            goals.append(Goal(f"{COLUMNS[who]} / bare train_config, worst row", worst, 1.05, at_most=True))
    return goals


def extras_goals(args: argparse.Namespace, data: Dataset) -> list[Goal]:
    """Per-batch logging, per-layer statistics and checkpoints: each within 5% of an epoch (n/a when skipped)."""
    names = ("per-batch logging", "per-layer statistics", "checkpoint every epoch")
    costs: dict[str, float | None] = dict.fromkeys(names)
    if not args.quick and not args.no_hooks:
        from benchmarks.hook_costs import hook_costs
        costs.update(hook_costs(data, args.repeats))
    return [Goal(f"{name}: extra time per epoch, %", None if cost is None else 100 * cost, 5, at_most=True)
            for name, cost in costs.items()]


def headline(args: argparse.Namespace, data: Dataset, scale: float) -> list[Goal]:
    configs = [cf for cf in HEADLINE if cf[1] in (16, 64, 128)][:3] if args.quick else HEADLINE
    runners = contenders(args, data, args.contenders.split(","))
    med = bench(runners, configs, args.repeats, scale)
    what = "s/epoch" + (f" (timed on {len(data.y_train)} images, scaled to 60,000)" if scale != 1 else "")
    torch_threads = c.torch.get_num_threads() if "torch" in runners else "-"
    print(f"\nMedian {what}, epochs 2-{args.epochs} of one run each with its test pass, over {args.repeats} "
          f"interleaved repeats; PyTorch threads {torch_threads}; load average now {os.getloadavg()[0]:.2f}; ")
    print_table(med, configs, [w for w in COLUMNS if w in runners])
    return epoch_goals(med)


def scaling(args: argparse.Namespace, data: Dataset, scale: float) -> None:
    configs: list[Config] = [((784, w, 10), b) for b in SCALING_BATCHES for w in SCALING_WIDTHS]
    med = bench(contenders(args, data, ["bare"]), configs, args.repeats, scale)
    print(f"\nOurs (bare train_config), median s/epoch (784-width-10, Adam, float32) over {args.repeats} repeats"
          + (f", timed on {len(data.y_train)} images and scaled to 60,000" if scale != 1 else "") + "\n")
    print("| batch \\ width | " + " | ".join(map(str, SCALING_WIDTHS)) + " |")
    print("|---|" + "---:|" * len(SCALING_WIDTHS))
    for b in SCALING_BATCHES:
        print(f"| {b} | " + " | ".join(f"{med[((784, w, 10), b), 'bare']:.3f}" for w in SCALING_WIDTHS) + " |")


def environment() -> str:
    """Versions, CPUs, load, and which BLAS kernel NumPy runs (OPENBLAS_CORETYPE etc. can change it)."""
    versions = [f"numpy {np.__version__}", f"torch {c.torch.__version__ if c.torch else 'absent'}",
                f"jax {c.jax.__version__ if c.jax else 'absent'}"]
    text = ", ".join(versions) + f", {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    try:
        from threadpoolctl import threadpool_info
        text += "".join(f"; {p.get('internal_api')} {p.get('version')} kernel {p.get('architecture')} "
                        f"threads {p.get('num_threads')}" for p in threadpool_info() if p.get("user_api") == "blas")
    except ImportError:
        pass
    flags = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "MLP_"))}
    return text + (f"; environment {flags}" if flags else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per contender (default %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, a quarter of an epoch scaled up, the 784-128-10 b16/64/128 rows only")
    parser.add_argument("--fraction", type=float, default=1.0, help="time this fraction of an epoch and scale up")
    parser.add_argument("--scaling", action="store_true", help="the batch x width table (ours only) instead")
    parser.add_argument("--contenders", default="ours,torch,jax,floor",
                        help="comma-separated subset of ours,torch,jax,floor (default %(default)s)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch intra-op threads (default: its own, all cores; its spinning OpenMP threads "
                             "can make it 10-50x slower when other work loads the machine)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs of each timed run; its epochs after the first are timed (default %(default)s)")
    parser.add_argument("--steps", action="store_true", help="only the before/after table of issue 17's changes")
    parser.add_argument("--profile", action="store_true", help="only profile one epoch of 784-128-10 b64")
    parser.add_argument("--no-hooks", action="store_true", help="skip the per-epoch extras' costs")
    parser.add_argument("--no-memory", action="store_true", help="skip the 10-epoch peak-memory run")
    parser.add_argument("--no-load", action="store_true", help="skip the row trained beside a busy process per core")
    parser.add_argument("--no-long-run", action="store_true",
                        help="skip the report's 100-epoch Adam run (epoch 100 against epoch 2; about a minute)")
    parser.add_argument("--no-reproduction", action="store_true",
                        help="skip timing the whole report reproduction (about 2-4 minutes)")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", ""), help="MNIST folder ($MNIST_DIR)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.fraction = min(args.repeats, 2), 0.25
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = load_mnist(args.data_dir or None)
    if args.fraction < 1:
        n, m = (max(1, int(len(y) * args.fraction)) for y in (data.y_train, data.y_test))
        data = data.subset(n, m)  # the test pass shrinks too, so scaling up keeps train and test in proportion
    scale = 60000 / len(data.y_train)
    if args.torch_threads and c.torch is not None:
        c.torch.set_num_threads(args.torch_threads)
    print(environment(), file=sys.stderr)
    if args.scaling:
        scaling(args, data, scale)
        return 0
    if args.steps:
        from benchmarks.steps import steps
        steps(data, args.repeats, scale)
        return 0
    if args.profile:
        from benchmarks.epoch_profile import profile_epoch
        profile_epoch(data)
        return 0
    goals = headline(args, data, scale)
    if not args.quick and not args.no_load:
        goals.append(under_load(args))
    if not args.quick and not args.no_long_run:
        goals.append(long_run(args))
    goals += extras_goals(args, data)
    memory = None if args.quick or args.no_memory else peak_memory(args)
    goals.append(Goal("peak memory of a headless 10-epoch run, MB", memory, 400, at_most=True))
    minutes = None if args.quick or args.no_reproduction else reproduction_minutes(args)
    goals.append(Goal("whole report reproduction (both variants, 3 seeds), minutes", minutes, 4, at_most=True))
    print(f"\nGoals of issue 21 (load average now {os.getloadavg()[0]:.2f}):")
    print("\n".join(goal.line() for goal in goals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
