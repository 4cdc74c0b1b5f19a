"""Does TPE with pruning find (nearly) the grid's best for a third of the grid's epochs?

    MNIST_DIR=/path/to/mnist python benchmarks/bench_search.py             # about 10 minutes on 2 busy cores
    python benchmarks/bench_search.py --train-size 2000 --epochs 2          # a quick look

A fixed space: learning rate x batch size x hidden width x L2 (3 x 2 x 2 x 2 = 24 configurations), each
trained for ``--epochs`` epochs (5) on the first ``--train-size`` training images (5,000 by default, so the
whole benchmark fits on 2 shared cores; the numbers are for that reduced problem, not full MNIST).

* grid: every configuration, all epochs; its best is the target.
* TPE:  the same values as categories, Optuna's TPE sampler (``--startup`` random trials first) and the
        median pruner judging every epoch, ``--trials`` trials, once per search seed (``--seeds``, 3).

Both are ranked by the best validation accuracy of a run (its best epoch), or by the best test accuracy
when the runs carry no validation numbers (said in the output). For each search seed the table gives the
best TPE reached, its gap to the grid's best in points, the epochs it trained (pruned trials count the
epochs they ran) as a share of the grid's, and whether it met the goal: within ``--within`` points (0.2)
using at most a third of the grid's epochs. Every store is a temporary file, removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.analysis.selection import Metric, metric_values  # noqa: E402
from experiments.store import RunStore  # noqa: E402
from experiments.sweeps.local import LocalSweep  # noqa: E402
from experiments.sweeps.spec import expand, parse_spec  # noqa: E402
from experiments.sweeps.tpe import TpeSweep  # noqa: E402

SPACE = {"lr": [0.03, 0.003, 0.0003], "batch_size": [32, 128], "hidden": ["32", "128"], "l2": [0.0, 0.001]}


def _base(args: argparse.Namespace) -> dict:
    return {"epochs": args.epochs, "train_size": args.train_size}


def _score(store: RunStore, sweep_id: str) -> tuple[float, int, str, int]:
    """Best metric over the sweep's runs, epochs trained, the metric used, and the number of pruned runs."""
    runs = store.search_runs(group_id=sweep_id)
    metric = Metric.BEST_VAL_ACC
    values = metric_values(store, runs, metric)
    if not any(v is not None for v in values):
        metric = Metric.BEST_TEST_ACC
        values = metric_values(store, runs, metric)
    best = max(v for v in values if v is not None)
    return best, sum(r.epochs_done for r in runs), metric.label, sum(r.status == "pruned" for r in runs)


def run_grid(folder: Path, args: argparse.Namespace) -> dict:
    spec = parse_spec({"name": "grid", "base": _base(args), "grid": SPACE})
    store = RunStore(folder / "grid.sqlite")
    sweep = LocalSweep(store, spec, expand(spec), workers=args.workers)
    began = time.perf_counter()
    sweep.start()
    sweep.wait()
    best, epochs, metric, _ = _score(store, sweep.sweep_id)
    return {"best": best, "epochs": epochs, "metric": metric, "seconds": time.perf_counter() - began,
            "trials": spec.size}


def run_tpe(folder: Path, args: argparse.Namespace, seed: int) -> dict:
    spec = parse_spec({"name": "tpe", "method": "tpe", "seed": seed, "base": _base(args), "grid": SPACE,
                       "tpe": {"trials": args.trials, "startup_trials": args.startup, "pruner": args.pruner}})
    store = RunStore(folder / f"tpe-{seed}.sqlite")
    sweep = TpeSweep(store, spec, workers=args.workers)
    began = time.perf_counter()
    sweep.start()
    sweep.wait()
    best, epochs, metric, pruned = _score(store, sweep.sweep_id)
    return {"seed": seed, "best": best, "epochs": epochs, "metric": metric, "pruned": pruned,
            "seconds": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-size", type=int, default=5000)
    parser.add_argument("--trials", type=int, default=12, help="TPE's trial budget (default %(default)s)")
    parser.add_argument("--startup", type=int, default=4, help="TPE's random start-up trials")
    parser.add_argument("--pruner", default="median")
    parser.add_argument("--seeds", type=int, default=3, help="search seeds (default %(default)s)")
    parser.add_argument("--within", type=float, default=0.2, help="points of accuracy (default %(default)s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        folder = Path(tmp)
        grid = run_grid(folder, args)
        tpe = [run_tpe(folder, args, seed) for seed in range(args.seeds)]
    for row in tpe:
        row["gap_points"] = (grid["best"] - row["best"]) * 100
        row["epoch_share"] = row["epochs"] / grid["epochs"]
        row["goal_met"] = row["gap_points"] <= args.within and row["epoch_share"] <= 1 / 3
    if args.json:
        print(json.dumps({"grid": grid, "tpe": tpe}))
        return
    print(f"space {SPACE}; {args.epochs} epochs on {args.train_size} training images; ranked by {grid['metric']}")
    print(f"grid: {grid['trials']} trials, {grid['epochs']} epochs, best {grid['best']:.2%} ({grid['seconds']:.0f} s)")
    print(f"{'seed':>4} {'best':>8} {'gap (points)':>13} {'epochs':>7} {'share':>6} {'pruned':>6}  goal met")
    for row in tpe:
        print(f"{row['seed']:>4} {row['best']:>8.2%} {row['gap_points']:>13.2f} {row['epochs']:>7} "
              f"{row['epoch_share']:>6.0%} {row['pruned']:>6}  {'yes' if row['goal_met'] else 'no'}")
    print(f"goal: within {args.within} points of the grid's best with at most a third of its epochs; "
          f"met for {sum(r['goal_met'] for r in tpe)} of {len(tpe)} search seeds")


if __name__ == "__main__":
    main()
