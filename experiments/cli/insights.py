"""``python -m experiments insights``: which setting mattered, and which configurations are really worse.

The same numbers as the dashboard's Insights page (``experiments.analysis.insights``), as text or ``--json``.
"""
from __future__ import annotations

import argparse
import json

from experiments.analysis.importance import SHUFFLES
from experiments.analysis.selection import InsightError, Metric, Source, SourceKind
from experiments.i18n import _
from experiments.store import RunStore


def add_insights_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("insights", help=_("importance of each setting (with a seed-noise floor) and a verdict "
                                               "table over configurations, for a sweep, a tag or a search"))
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--sweep", help=_("a sweep id (sw-...)"))
    which.add_argument("--tag", help=_("runs with this tag"))
    which.add_argument("--search", help=_("History's search text, e.g. 'lr=0.01 adam'"))
    which.add_argument("--dataset", help=_("every finished run on this dataset and split, written as the page "
                                           "shows it (e.g. 'data=default MNIST, train_size=10000')"))
    parser.add_argument("--metric", choices=[m.value for m in Metric], default=None,
                        help=_("best_*: at each run's best epoch (lowest val. loss, the epoch every page calls best), "
                               "final_*: at its last epoch; default: best_val_acc (runs without validation "
                               "numbers: final_test_acc, said so)"))
    parser.add_argument("--include-pruned", action="store_true", help=_("count runs a sweep's pruner ended early"))
    parser.add_argument("--shuffles", type=int, default=SHUFFLES,
                        help=_("null histories for the noise floor (default %(default)s)"))
    parser.add_argument("--json", action="store_true", help=_("print everything as one JSON object"))
    parser.add_argument("--db", default=argparse.SUPPRESS, help=_("run store file (as the top-level --db)"))
    parser.set_defaults(func=cmd_insights)


def source_from_args(args: argparse.Namespace) -> Source:
    for kind in SourceKind:
        value = getattr(args, kind.value, None)
        if value is not None:
            return Source(kind, value)
    raise InsightError(_("choose the runs with --sweep, --tag, --search or --dataset"))


def cmd_insights(args: argparse.Namespace) -> int:
    # imported here: it brings pandas, SciPy and Plotly, which a plain `run` should not load (about 150 MB)
    from experiments.analysis.insights import compute

    if args.shuffles < 10:
        raise InsightError(_("--shuffles must be at least 10 (got {shuffles})").format(shuffles=args.shuffles))
    result = compute(RunStore(args.db), source_from_args(args), Metric(args.metric) if args.metric else None,
                     args.include_pruned, args.shuffles)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print("\n".join(result.text_lines()))
    return 0
