"""Command line: ``python -m experiments run --hidden 128 --optimizer adam --lr 0.001 ...``."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Sequence

from nn import DataError

from .config import ConfigError, RunConfig
from .execute import load_data, train_config

DEFAULTS = RunConfig()


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per RunConfig setting (values are validated by RunConfig, not by argparse)."""
    parser.add_argument("--hidden", default=",".join(map(str, DEFAULTS.hidden)),
                        help="hidden-layer widths, e.g. '128' or '128,64' (default %(default)s)")
    parser.add_argument("--activation", default=DEFAULTS.activation, help="relu, sigmoid or tanh")
    parser.add_argument("--optimizer", default=DEFAULTS.optimizer, help="sgd, momentum, rmsprop or adam")
    parser.add_argument("--lr", default=DEFAULTS.lr, help="learning rate (default %(default)s)")
    parser.add_argument("--l2", default=DEFAULTS.l2, help="L2 penalty coefficient (default %(default)s)")
    parser.add_argument("--epochs", default=DEFAULTS.epochs, help="default %(default)s")
    parser.add_argument("--batch-size", default=DEFAULTS.batch_size, help="default %(default)s")
    parser.add_argument("--seed", default=DEFAULTS.seed, help="default %(default)s")
    parser.add_argument("--dtype", default=DEFAULTS.dtype, help="float32 or float64")
    parser.add_argument("--reduction", default=DEFAULTS.reduction,
                        help="how the batch gradient is reduced: mean (default) or sum")
    parser.add_argument("--train-size", default=DEFAULTS.train_size,
                        help="train on the first N images only (0 = all)")
    parser.add_argument("--data-dir", default="", help="folder with the MNIST IDX files (default: $MNIST_DIR)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    return RunConfig(hidden=args.hidden, activation=args.activation, optimizer=args.optimizer, lr=args.lr,
                     l2=args.l2, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                     dtype=args.dtype, reduction=args.reduction, train_size=args.train_size,
                     data_dir=args.data_dir)


class PrintEpochs:
    """Prints one line (or one JSON object) per epoch."""

    def __init__(self, as_json: bool, epochs: int):
        self.as_json, self.epochs = as_json, epochs

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.as_json:
            print(json.dumps(logs), flush=True)
        else:
            print(f"epoch {epoch:>3}/{self.epochs}  loss {logs['train_loss']:.4f}  "
                  f"train acc {logs['train_acc']:.2%}  test loss {logs['test_loss']:.4f}  "
                  f"test acc {logs['test_acc']:.2%}  {logs['seconds']:.2f}s", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    data = load_data(config)
    if config.batch_size > len(data.y_train):
        raise ConfigError(f"batch_size ({config.batch_size}) is larger than the training set ({len(data.y_train)})")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C stops after the current batch
    _, result = train_config(config, data, [PrintEpochs(args.json, config.epochs)], stop_event=stop)
    if not args.json:
        print(f"{result.status}{': ' + result.message if result.message else ''}")
    return 0 if result.status in ("finished", "stopped") else 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments",
                                     description="Train the NumPy MLP on MNIST from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train one network and print each epoch")
    add_config_arguments(run)
    run.add_argument("--json", action="store_true", help="print one JSON object per epoch")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
