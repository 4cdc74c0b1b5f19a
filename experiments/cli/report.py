"""``python -m experiments reproduce | report``: train the course report's comparisons, then write them as HTML.

The report's outcomes, HTML and frames (pandas) are imported when a command runs, so building the command
line stays light.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.cli.common import open_store
from experiments.config import ConfigError
from experiments.i18n import _, ngettext
from experiments.interrupt import CtrlC
from experiments.runs.runner import RunManager
from experiments.runs.threads import cores
from experiments.runs.training import load_data
from nn.status import RunStatus


def add_report_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``reproduce`` and ``report`` commands."""
    repro = sub.add_parser("reproduce",
                           help=_("train the course report's comparisons (see experiments/report/presets.py)"))
    repro.add_argument("comparisons", nargs="*", metavar="COMPARISON",
                       help=_("comparison ids (default: all): {ids}").format(ids=", ".join(_comparison_ids())))
    repro.add_argument("--seeds", type=int, default=3, help=_("seeds per configuration (default %(default)s)"))
    repro.add_argument("--jobs", type=int, default=0, help=_("runs trained at once (default: one per core)"))
    repro.add_argument("--epochs-scale", type=float, default=1.0,
                       help=_("multiply every epoch count, e.g. 0.1 for a quick look (default %(default)s)"))
    repro.add_argument("--variant", default="both", help=_("the batch gradient: mean (the correct network), sum (as "
                                                              "the report probably ran it) or both (default "
                                                              "%(default)s)"))
    repro.add_argument("--train-size", type=int, default=0, help=_("train on the first N images only (0 = all)"))
    repro.add_argument("--data-dir", default="", help=_("folder with the MNIST IDX files (default: $MNIST_DIR)"))
    repro.set_defaults(func=cmd_reproduce)

    report = sub.add_parser("report", help=_("write an HTML page: the reproduced comparisons beside the report"))
    report.add_argument("comparisons", nargs="*", metavar="COMPARISON", help=_("comparison ids (default: all)"))
    report.add_argument("--output", "-o", default="report.html", help=_("file to write (default %(default)s)"))
    report.add_argument("--group", default=None, help=_("use this reproduction (default: the newest per comparison)"))
    report.add_argument("--variant", default="both", help=_("mean (the correct network), sum (as the report "
                                                               "probably ran it) or both, overlaid (default "
                                                               "%(default)s)"))
    report.set_defaults(func=cmd_report)


def _comparison_ids() -> list[str]:
    from experiments.report.presets import COMPARISON_IDS
    return list(COMPARISON_IDS)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Queue the report's comparisons (each config with N seeds), train them with a progress bar."""
    from experiments.report import presets
    from experiments.report.reproduce import queue, wait_with_progress

    try:
        comparisons = presets.select(args.comparisons)
        comparisons = presets.variants([c.scaled(args.epochs_scale) for c in comparisons], args.variant)
    except (KeyError, ValueError) as exc:
        raise ConfigError(str(exc).strip("'\"")) from None
    changes = {"data_dir": args.data_dir} if args.data_dir else {}
    if args.train_size:
        changes["train_size"] = args.train_size
    comparisons = [c.with_settings(**changes) for c in comparisons]
    presets.plan(comparisons, args.seeds)  # refuse a bad seed count before touching the data
    load_data(comparisons[0].members[0].config)  # fail fast, before any run is stored, if the data is missing
    args.jobs = args.jobs if args.jobs > 0 else cores()
    manager = RunManager(open_store(args), max_concurrent=args.jobs)
    queued = queue(manager, comparisons, args.seeds)
    ids = ", ".join(dict.fromkeys(c.id for c in comparisons))
    print(_("group {group}: {runs} runs, {epochs} epochs ({ids}; gradient {variant}; {seeds}, {jobs} at a "
            "time)").format(group=queued.group_id, runs=len(queued.run_ids), epochs=queued.total_epochs, ids=ids,
                            variant=args.variant, jobs=args.jobs,
                            seeds=ngettext("{n} seed", "{n} seeds", args.seeds).format(n=args.seeds)), flush=True)
    with CtrlC(manager.stop_all) as ctrl_c:  # Ctrl-C stops every run after its current batch
        seconds = wait_with_progress(manager, queued)
    if ctrl_c.pressed:
        print(_("stopped by Ctrl-C: the finished epochs are kept in the store"))
    runs = [manager.store.get_run(i) for i in queued.run_ids]
    counts = {s: sum(r.status == s for r in runs) for s in dict.fromkeys(r.status for r in runs)}
    print(_("wall time {seconds} s; {counts}").format(seconds=f"{seconds:.0f}",
                                                       counts=", ".join(f"{n} {s}" for s, n in counts.items())))
    print(_("next: {command}   (the runs: {runs})").format(command="python -m experiments report",
                                                          runs="python -m experiments list --tag report"))
    # A diverged run is a result (the summed-gradient variant at lr 0.1 often diverges), not a failure.
    ended_well = counts.get(RunStatus.FINISHED, 0) + counts.get(RunStatus.DIVERGED, 0)
    return 0 if ended_well == len(runs) else 3


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML page of the reproduced comparisons (both variants), print their verdicts."""
    from experiments.report import presets
    from experiments.report.html import render_report
    from experiments.report.outcomes import collect_variants
    from experiments.store.export import epochs_frame

    try:
        comparisons = presets.select(args.comparisons)
        presets.variants(comparisons[:1], args.variant)  # refuse a bad variant before reading the store
    except (KeyError, ValueError) as exc:
        raise ConfigError(str(exc).strip("'\"")) from None
    _check_output_path(args.output)  # refuse a path we cannot write before reading the store
    store = open_store(args)
    found = collect_variants(store, comparisons, args.variant, args.group)
    ids = sorted({i for v in found for o in v.outcomes for ids in o.runs_by_label().values() for i in ids})
    page = render_report(found, epochs_frame(store, ids), _store_words(args))
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as exc:
        raise ConfigError(_("cannot write the report to {path}: {reason}").format(
            path=args.output, reason=exc.strerror or exc)) from None
    _print_outcomes(found)
    print(_("wrote {path}").format(path=args.output))
    return 0 if any(o.complete for v in found for o in v.outcomes) else 1


def _check_output_path(path: str) -> None:
    """ConfigError (one line) if ``path`` is a folder or its folder does not exist."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(_("cannot write the report to {path}: it is a folder; give a file name, e.g. "
                            "{example}").format(path=path, example=target / "report.html"))
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(_("cannot write the report to {path}: the folder {folder} does not exist").format(
            path=path, folder=folder))


def _store_words(args: argparse.Namespace) -> str:
    """Which run store the report read, in words (the page may be mailed: it names no path on this machine)."""
    if args.db:
        return _("the run store given with --db")
    return _("the run store named by RESULTS_DB") if os.environ.get("RESULTS_DB") else _("the default run store")


def _print_outcomes(found: Sequence[Any]) -> None:
    """Each variant's verdict line, its lines' numbers, and the flip note (``collect_variants`` results)."""
    from experiments.report import presets
    from experiments.report.wording import flip_note, verdict_line

    for v in found:
        for o in v.outcomes:
            print(verdict_line(o))
            for line in o.lines if o.complete else ():
                m = line.member
                report = m.report_text
                final = _(" (final {acc})").format(acc=line.final_test.text()) if m.measure == "mean" else ""
                print(_("    {label:<34} report {report:>7}   ours train {train:>15}   test {test:>15}{final}").format(
                    label=presets.line_name(m.label), report=report, train=line.text("train"), test=line.text("test"),
                    final=final))
        flip = flip_note(v.mean, v.sum)
        if flip:
            print(f"  -> {flip}")
