"""Command line: ``python -m experiments run --hidden 128 --optimizer adam --lr 0.001 ...``.

The one entry: builds the parser from the command modules (each adds its sub-commands) and turns the errors
a user can cause into one line on stderr and an exit code. The command modules import ``common``, never
this module.

The language is chosen first, before the parser is built (its help is written in it): ``--lang es`` (anywhere
on the line), else LC_ALL, LC_MESSAGES or LANG, else English. argparse's own words ("usage:", "options", "show
this help message and exit", its refusals) are read through the lab's catalog too (``ARGPARSE_TEXTS``).
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
from experiments.i18n import N_, _
from experiments.interrupt import EXIT_INTERRUPTED
from experiments.store import StoreError
from nn import DataError

# argparse words these through the names ``_`` and ``ngettext`` it imported from gettext (Python 3.11-3.13), in the
# process-wide gettext domain, which knows nothing of the lab's language; ``speak_argparse`` points those names at
# the lab's translator instead. Listed here so that Babel extracts them into the catalog; "%(name)s" is argparse's
# own formatting. Only the words this command line can show are listed (it opens no files through argparse and
# has no fixed nargs count); a Python whose argparse words them differently simply shows its English.
ARGPARSE_TEXTS = (
    N_("usage: "), N_("options"), N_("positional arguments"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("invalid %(type)s value: %(value)r"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("expected one argument"), N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"), N_("ignored explicit argument %r"),
)


def speak_argparse() -> None:
    """argparse's own words in the current language, from now on in this process (the command line's)."""
    argparse._ = i18n._  # type: ignore[attr-defined]
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments",
                                     description=_("Train the NumPy MLP on MNIST and browse the stored runs."))
    parser.add_argument("--db", default=None, help=_("run store file (default: $RESULTS_DB or results/runs.sqlite)"))
    _add_language(parser)
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


def _add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=tuple(i18n.LANGUAGES), default=None,
                        help=_("the language of messages and help (default: from LC_ALL, LC_MESSAGES or LANG, "
                               "else en)"))


def choose_language(argv: Sequence[str]) -> tuple[str, list[str]]:
    """The command line's language (``--lang``, else the environment) and the arguments without ``--lang``."""
    early = argparse.ArgumentParser(prog="python -m experiments", add_help=False)
    _add_language(early)
    known, rest = early.parse_known_args(list(argv))
    return i18n.set_language(known.lang or i18n.from_environment()), rest


def main(argv: Sequence[str] | None = None) -> int:
    _chosen, rest = choose_language(sys.argv[1:] if argv is None else argv)
    speak_argparse()
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
