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
from experiments.i18n import _, decimal
from experiments.runs.lifecycle import check_fits
from experiments.runs.training import load_data


def add_lr_find_parser(sub: argparse._SubParsersAction) -> None:
    finder = sub.add_parser("lr-find", help=_("suggest a learning rate: sweep it from 1e-6 to 10 on a throwaway "
                                              "copy of the network and read the loss curve (nothing is stored)"))
    add_config_arguments(finder)
    finder.add_argument("--steps", type=int, default=None,
                        help=_("batches to sweep over (default: one epoch's)"))
    finder.add_argument("--json", action="store_true", help=_("print the curve and suggestions as one JSON object"))
    finder.set_defaults(func=cmd_lr_find)


def cmd_lr_find(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.steps is not None and args.steps < 2:
        raise ConfigError(_("--steps must be at least 2 (got {steps})").format(steps=args.steps))
    data = load_data(config)
    check_fits(config, data)
    report = find_learning_rate(config, data, steps=args.steps)
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    print(_("lr finder for {architecture} {activation} {optimizer}, batch {batch_size}, l2 {l2}: {steps} steps in "
            "{seconds} s").format(architecture=config.architecture, activation=config.activation,
                                  optimizer=config.optimizer, batch_size=config.batch_size, l2=f"{config.l2:g}",
                                  steps=len(report.lrs), seconds=decimal(report.seconds, 1))
          + (_(" (stopped when the loss blew up)") if report.stopped_early else ""))
    print("{:>10}  {:>8}  {:>8}".format("lr", _("loss"), _("smoothed")))
    for lr, loss, smooth in report.table():
        print(f"{lr:>10.3g}  {decimal(loss, 4):>8}  {decimal(smooth, 4):>8}")
    for name, found in ((_("minimum / 10"), report.minimum), (_("steepest descent"), report.steepest)):
        print(_("suggested lr ({rule}): {lr}").format(
            rule=name, lr=f"{rounded_lr(found):g}" if found is not None else _("none (no descent)")))
    if report.suggestion is not None:
        lr = rounded_lr(report.suggestion)
        print(_("next: {command}").format(command=f"python -m experiments run --optimizer {config.optimizer} "
                                                  f"--lr {lr:g} ..."))
    return 0 if report.suggestion is not None else 1
