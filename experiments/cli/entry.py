"""Command line: ``python -m experiments run --hidden 128 --optimizer adam --lr 0.001 ...``.

The one entry: builds the parser from the command modules (each adds its sub-commands) and turns the errors
a user can cause into one line on stderr and an exit code. The command modules import ``common``, never
this module.

The language is chosen first, before the parser is built (its help is written in it): ``--lang es`` (anywhere
on the line), else LC_ALL, LC_MESSAGES or LANG, else English; argparse's own words ("usage:", "options", its
refusals) follow it (``i18n.choose_command_line_language``).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from experiments import i18n
from experiments.cli.common import OutputError
from experiments.cli.exports import add_export_parsers
from experiments.cli.fix import add_fix_parser
from experiments.cli.insights import add_insights_parser
from experiments.cli.lr_find import add_lr_find_parser
from experiments.cli.report import add_report_parsers
from experiments.cli.resume import add_resume_parsers
from experiments.cli.runs import add_runs_parsers
from experiments.cli.sweeps import add_sweep_parser
from experiments.config import ConfigError
from experiments.exports import ExportError
from experiments.i18n import _
from experiments.interrupt import EXIT_INTERRUPTED
from experiments.store import StoreError
from nn import DataError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments",
                                     description=_("Train the NumPy MLP on MNIST and browse the stored runs."))
    parser.add_argument("--db", default=None, help=_("run store file (default: $RESULTS_DB or results/runs.sqlite)"))
    i18n.add_language_option(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    add_runs_parsers(sub)  # run, list, show
    add_export_parsers(sub)  # export, export-model
    add_report_parsers(sub)  # reproduce, report
    add_sweep_parser(sub)
    add_insights_parser(sub)
    add_lr_find_parser(sub)
    add_fix_parser(sub)
    add_resume_parsers(sub)  # resume, continue
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    rest = i18n.choose_command_line_language(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(rest)
    try:
        return args.func(args)
    except (ConfigError, DataError, StoreError, OutputError, ExportError) as exc:
        print(_("error: {reason}").format(reason=exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a training loop (loading the data, reading the store)
        print(_("stopped by Ctrl-C"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `list | head`: the reader left; say nothing more and exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
