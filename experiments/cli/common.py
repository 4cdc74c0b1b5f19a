"""What every command of the command line shares: the RunConfig flags, the epoch printer, the store, output.

The command modules import these; this module imports none of them (nor the entry), so the CLI has no
import circle.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from experiments.config import RunConfig, schema, setting_flag
from experiments.i18n import _, localized, percent_sign
from experiments.store import RunStore
from nn import Callback


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per RunConfig setting, generated from the schema (values are parsed by RunConfig, not argparse)."""
    for entry in schema():
        default = entry.setting.parse.to_text(entry.default)
        accepted = entry.setting.parse.describe()
        text = (_("{help} Accepted: {accepted}; default {default}.") if default
                else _("{help} Accepted: {accepted}.")).format(help=entry.setting.help, accepted=accepted,
                                                                default=default)
        parser.add_argument(entry.setting.cli_flag(entry.name), dest=entry.name, default=default,
                            metavar=entry.name.upper(), help=text.replace("%", "%%"))


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The RunConfig of the flags added by ``add_config_arguments``; ConfigError names a bad one."""
    return RunConfig.from_user({entry.name: getattr(args, entry.name) for entry in schema()}, setting_flag)


class PrintEpochs(Callback):
    """Prints one line (or one JSON object) per epoch."""

    def __init__(self, as_json: bool, epochs: int):
        self.as_json, self.epochs = as_json, epochs

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.as_json:
            print(json_text(logs), flush=True)
        else:
            print(epoch_line(epoch, self.epochs, logs), flush=True)


def epoch_line(epoch: int, epochs: int, logs: dict) -> str:
    """One epoch's numbers in a line: its losses, accuracies and seconds ("-" for a missing one)."""
    val = (_("val loss {loss}  val acc {acc}  ").format(loss=metric_text(logs, "val_loss", ".4f"),
                                                         acc=metric_text(logs, "val_acc", ".2%"))
           if logs.get("val_loss") is not None or logs.get("val_acc") is not None else "")
    return _("epoch {epoch:>3}/{epochs}  loss {loss}  train acc {train_acc}  {val}test loss {test_loss}  "
             "test acc {test_acc}  {seconds}s").format(
        epoch=epoch, epochs=epochs, loss=metric_text(logs, "train_loss", ".4f"),
        train_acc=metric_text(logs, "train_acc", ".2%"), val=val, test_loss=metric_text(logs, "test_loss", ".4f"),
        test_acc=metric_text(logs, "test_acc", ".2%"), seconds=metric_text(logs, "seconds", ".2f"))


def metric_text(logs: dict, key: str, spec: str) -> str:
    """A metric as text in the current language ("0.1234", "97.81%" / "0,1234", "97,81 %"); "-" where it is
    missing (a diverged epoch's loss is stored as NULL)."""
    value = logs.get(key)
    if value is None:
        return "-"
    text = format(value, spec)
    return percent_sign(text[:-1]) if text.endswith("%") else localized(text)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, in dicts and lists too."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def json_text(value: Any) -> str:
    """Strict JSON: NaN and infinity (a diverged run's losses) become null, which every JSON reader accepts."""
    return json.dumps(_finite(value), allow_nan=False)


class OutputError(Exception):
    """A file the user asked for cannot be written (the message names the file and the reason)."""


def open_store(args: argparse.Namespace) -> RunStore:
    """The run store named by ``--db`` (None: $RESULTS_DB or the default file)."""
    return RunStore(args.db)


def write_output(path: str, text: str, example: str = "runs.csv") -> None:
    """Write ``text`` to the file the user named, or raise OutputError with a one-line reason."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputError(_("{path} is a folder: give a file name, e.g. {example}").format(
            path=path, example=target / example))
    if not target.parent.is_dir():
        raise OutputError(_("cannot write {path}: the folder {folder} does not exist").format(
            path=path, folder=target.parent))
    try:
        with open(target, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    except OSError as exc:
        raise OutputError(_("cannot write {path} ({reason})").format(path=path, reason=exc.strerror or exc)) from None
