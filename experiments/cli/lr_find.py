"""``python -m experiments lr-find --optimizer sgd ...``: suggest a learning rate for these settings.

Sweeps the lr exponentially on a throwaway copy of the network (see nn/lr_finder.py), prints both
suggestions and a small table of the curve, or everything as one JSON object with ``--json``. Nothing is
stored.
"""
from __future__ import annotations

import argparse
import json

from experiments.analysis.lr_find import find_learning_rate, rounded_lr
from experiments.cli.common import add_config_arguments, config_from_args
from experiments.config import ConfigError
from experiments.runs.lifecycle import check_fits
from experiments.runs.training import load_data


def add_lr_find_parser(sub: argparse._SubParsersAction) -> None:
    finder = sub.add_parser("lr-find", help="suggest a learning rate: sweep it from 1e-6 to 10 on a throwaway "
                                            "copy of the network and read the loss curve (nothing is stored)")
    add_config_arguments(finder)
    finder.add_argument("--steps", type=int, default=None,
                        help="batches to sweep over (default: one epoch's)")
    finder.add_argument("--json", action="store_true", help="print the curve and suggestions as one JSON object")
    finder.set_defaults(func=cmd_lr_find)


def cmd_lr_find(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.steps is not None and args.steps < 2:
        raise ConfigError(f"--steps must be at least 2 (got {args.steps})")
    data = load_data(config)
    check_fits(config, data)
    report = find_learning_rate(config, data, steps=args.steps)
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    print(f"lr finder for {config.architecture} {config.activation} {config.optimizer}, batch {config.batch_size}, "
          f"l2 {config.l2:g}: {len(report.lrs)} steps in {report.seconds:.1f} s"
          + (" (stopped when the loss blew up)" if report.stopped_early else ""))
    print(f"{'lr':>10}  {'loss':>8}  {'smoothed':>8}")
    for lr, loss, smooth in report.table():
        print(f"{lr:>10.3g}  {loss:>8.4f}  {smooth:>8.4f}")
    for name, found in (("minimum / 10", report.minimum), ("steepest descent", report.steepest)):
        print(f"suggested lr ({name}): " + (f"{rounded_lr(found):g}" if found is not None else "none (no descent)"))
    if report.suggestion is not None:
        lr = rounded_lr(report.suggestion)
        print(f"next: python -m experiments run --optimizer {config.optimizer} --lr {lr:g} ...")
    return 0 if report.suggestion is not None else 1
