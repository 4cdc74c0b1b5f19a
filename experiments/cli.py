"""Command line: ``python -m experiments run --hidden 128 --optimizer adam --lr 0.001 ...``."""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.config import ConfigError, RunConfig, schema
from experiments.interrupt import EXIT_INTERRUPTED, CtrlC, say_interrupted
from experiments.runs.execution import check_fits
from experiments.runs.export import export_csv, export_json
from experiments.runs.runner import RunManager
from experiments.runs.store import RunRecord, RunStore, StoreError
from experiments.runs.threads import cores
from experiments.runs.training import load_data
from nn import Callback, DataError
from nn.status import RunStatus


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per RunConfig setting, generated from the schema (values are parsed by RunConfig, not argparse)."""
    for entry in schema():
        default = entry.setting.parse.to_text(entry.default)
        shown = f"; default {default}" if default else ""
        text = f"{entry.setting.help} Accepted: {entry.setting.parse.describe()}{shown}."
        parser.add_argument(entry.setting.cli_flag(entry.name), dest=entry.name, default=default,
                            metavar=entry.name.upper(), help=text.replace("%", "%%"))


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The RunConfig of the flags added by ``add_config_arguments``; ConfigError names a bad one."""
    return RunConfig.from_dict({entry.name: getattr(args, entry.name) for entry in schema()})


class PrintEpochs(Callback):
    """Prints one line (or one JSON object) per epoch."""

    def __init__(self, as_json: bool, epochs: int):
        self.as_json, self.epochs = as_json, epochs

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.as_json:
            print(json_text(logs), flush=True)
        else:
            val = (f"val loss {_number(logs, 'val_loss', '.4f')}  val acc {_number(logs, 'val_acc', '.2%')}  "
                   if logs.get("val_loss") is not None or logs.get("val_acc") is not None else "")
            print(f"epoch {epoch:>3}/{self.epochs}  loss {_number(logs, 'train_loss', '.4f')}  "
                  f"train acc {_number(logs, 'train_acc', '.2%')}  {val}test loss {_number(logs, 'test_loss', '.4f')}  "
                  f"test acc {_number(logs, 'test_acc', '.2%')}  {_number(logs, 'seconds', '.2f')}s", flush=True)


def _number(logs: dict, key: str, spec: str) -> str:
    """A metric as text; "-" where it is missing (a diverged epoch's loss is stored as NULL)."""
    value = logs.get(key)
    return "-" if value is None else format(value, spec)


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
    return RunStore(args.db)


def write_output(path: str, text: str, example: str = "runs.csv") -> None:
    """Write ``text`` to the file the user named, or raise OutputError with a one-line reason."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputError(f"{path} is a folder: give a file name, e.g. {target / example}")
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {target.parent} does not exist")
    try:
        with open(target, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror or exc})") from None


def cmd_run(args: argparse.Namespace) -> int:
    """Train one run through the run manager, into the store, printing each epoch."""
    config = config_from_args(args)
    data = load_data(config)  # fail fast, before a run is stored, if the data is missing or too small
    check_fits(config, data)
    manager = RunManager(open_store(args))
    run_id = manager.submit(config, name=args.name, source="cli", callbacks=[PrintEpochs(args.json, config.epochs)])
    with CtrlC(lambda: manager.stop(run_id)) as ctrl_c:  # Ctrl-C stops the run after the current batch
        while not manager.wait([run_id], timeout=0.2):
            pass
    run = manager.store.get_run(run_id)
    if not args.json:
        print(f"run {run_id} {run.status}{': ' + run.message if run.message else ''}")
    if ctrl_c.pressed:
        return say_interrupted(f"run {run_id} kept in the store with its {run.epochs_done} finished epoch(s)")
    return 0 if run.status == RunStatus.FINISHED else 3


def cmd_list(args: argparse.Namespace) -> int:
    runs = open_store(args).search_runs(status=args.status, text=args.text, tag=args.tag,
                                        order_by=args.sort, limit=args.limit)
    if args.json:
        print(json_text([r.flat() for r in runs]))
        return 0
    print(f"{'id':>5}  {'status':<11} {'epochs':>6} {'val acc':>8} {'test acc':>8}  {'created':<25} name / settings")
    for r in runs:  # at the best epoch by validation (the last one for a run without a validation set)
        best = r.summary()
        val, acc = (f"{v:.2%}" if v is not None else "-" for v in (best.val_acc, best.test_acc))
        c = r.config
        settings = (f"{c.architecture} {c.activation} {c.optimizer} lr={c.lr:g} l2={c.l2:g} batch={c.batch_size} "
                    f"seed={c.seed}") if c else r.settings_note
        print(f"{r.id:>5}  {r.status:<11} {r.epochs_done:>3}/{r.planned_epochs:<3}{val:>8} {acc:>8}  "
              f"{r.created:<25} {r.name}  [{settings}]")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    run = store.get_run(args.id)
    epochs = store.get_epochs(run.id)
    if args.json:
        print(json_text({**run.flat(), **run.to_json_dict(), "epochs": epochs}))  # tags a list, as in export
        return 0
    print(f"run {run.id}: {run.name}  ({run.status}{': ' + run.message if run.message else ''})")
    print(f"created {run.created}  source {run.source or '-'}  group {run.group_id or '-'}  "
          f"tags {', '.join(run.tags) or '-'}")
    settings = run.config.to_dict().items() if run.config else ()
    print("settings: " + (", ".join(f"{k}={v}" for k, v in settings) or run.settings_note))
    if run.notes:
        print(f"notes: {run.notes}")
    printer = PrintEpochs(False, run.planned_epochs)
    for e in epochs:
        printer.on_epoch_end(e["epoch"], e)
    print(best_line(run))
    return 0


def best_line(run: RunRecord) -> str:
    """The run's best epoch by validation and its test accuracy there, or why there is none."""
    if run.best_epoch is None:
        return "best epoch: none (no validation set: the test numbers above were not held out from choosing)"
    monitor = run.config.monitor if run.config else "val_loss"
    test = f"{run.test_acc_at_best:.2%}" if run.test_acc_at_best is not None else "-"
    return (f"best epoch {run.best_epoch} by {monitor}: val acc {_number(run.flat(), 'best_val_acc', '.2%')}, "
            f"test acc there {test} (the held-out final check)")


def cmd_export(args: argparse.Namespace) -> int:
    store = open_store(args)
    ids = list(dict.fromkeys(args.ids)) or None
    if ids:
        found = {r.id for r in store.search_runs(ids=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise StoreError(f"there is no run {', '.join(map(str, missing))}: nothing written")
    text = export_json(store, ids) if args.format == "json" else export_csv(store, ids, epochs=args.epochs)
    if args.output:
        write_output(args.output, text, example=f"runs.{args.format}")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


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
    print(f"group {queued.group_id}: {len(queued.run_ids)} runs, {queued.total_epochs} epochs "
          f"({ids}; gradient {args.variant}; {args.seeds} seed(s), {args.jobs} at a time)", flush=True)
    interrupted: list[bool] = []

    def on_ctrl_c(*_: object) -> None:  # stop every run after its current batch
        interrupted.append(True)
        manager.stop_all()

    signal.signal(signal.SIGINT, on_ctrl_c)
    seconds = wait_with_progress(manager, queued)
    if interrupted:
        print("stopped by Ctrl-C: the finished epochs are kept in the store")
    runs = [manager.store.get_run(i) for i in queued.run_ids]
    counts = {s: sum(r.status == s for r in runs) for s in dict.fromkeys(r.status for r in runs)}
    print(f"wall time {seconds:.0f} s; " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    print("next: python -m experiments report   (the runs: python -m experiments list --tag report)")
    # A diverged run is a result (the summed-gradient variant at lr 0.1 often diverges), not a failure.
    ended_well = counts.get(RunStatus.FINISHED, 0) + counts.get(RunStatus.DIVERGED, 0)
    return 0 if ended_well == len(runs) else 3


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML page of the reproduced comparisons (both variants), print their verdicts."""
    from experiments.report import presets
    from experiments.report.html import render_report
    from experiments.report.outcomes import collect_variants
    from experiments.runs.frames import epochs_frame

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
        raise ConfigError(f"cannot write the report to {args.output}: {exc.strerror or exc}") from None
    _print_outcomes(found)
    print(f"wrote {args.output}")
    return 0 if any(o.complete for v in found for o in v.outcomes) else 1


def _check_output_path(path: str) -> None:
    """ConfigError (one line) if ``path`` is a folder or its folder does not exist."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"cannot write the report to {path}: it is a folder; give a file name, "
                          f"e.g. {target / 'report.html'}")
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write the report to {path}: the folder {folder} does not exist")


def _store_words(args: argparse.Namespace) -> str:
    """Which run store the report read, in words (the page may be mailed: it names no path on this machine)."""
    if args.db:
        return "the run store given with --db"
    return "the run store named by RESULTS_DB" if os.environ.get("RESULTS_DB") else "the default run store"


def _print_outcomes(found: Sequence[Any]) -> None:
    """Each variant's verdict line, its lines' numbers, and the flip note (``collect_variants`` results)."""
    from experiments.report.wording import flip_note, verdict_line

    for v in found:
        for o in v.outcomes:
            print(verdict_line(o))
            for line in o.lines if o.complete else ():
                m = line.member
                report = f"{m.report_pct:.2f}%" if m.report_pct is not None else "-"
                final = f" (final {line.final_test.text()})" if m.measure == "mean" else ""
                print(f"    {m.label:<34} report {report:>7}   ours train {line.text('train'):>15}   "
                      f"test {line.text('test'):>15}{final}")
        flip = flip_note(v.mean, v.sum)
        if flip:
            print(f"  -> {flip}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments",
                                     description="Train the NumPy MLP on MNIST and browse the stored runs.")
    parser.add_argument("--db", default=None, help="run store file (default: $RESULTS_DB or results/runs.sqlite)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="train one network, store it, and print each epoch")
    add_config_arguments(run)
    run.add_argument("--name", default=None, help="a name for the run")
    run.add_argument("--json", action="store_true", help="print one JSON object per epoch")
    run.set_defaults(func=cmd_run)

    ls = sub.add_parser("list", help="list stored runs, newest first")
    ls.add_argument("--status", default=None, help="only runs with this status")
    ls.add_argument("--text", default=None, help="only runs whose name, notes or settings contain this")
    ls.add_argument("--tag", default=None, help="only runs with this tag")
    ls.add_argument("--sort", default="created", help="created, best_val_acc, test_acc, ... (default %(default)s)")
    ls.add_argument("--limit", type=_positive_int, default=None, help="at most this many runs")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="one run's settings and epochs")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    export = sub.add_parser("export", help="export runs as CSV or JSON")
    export.add_argument("ids", nargs="*", type=int, help="run ids (default: all)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--epochs", action="store_true", help="CSV: one row per epoch instead of per run")
    export.add_argument("--output", "-o", default=None, help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)

    repro = sub.add_parser("reproduce",
                           help="train the course report's comparisons (see experiments/report/presets.py)")
    repro.add_argument("comparisons", nargs="*", metavar="COMPARISON",
                       help="comparison ids (default: all): " + ", ".join(_comparison_ids()))
    repro.add_argument("--seeds", type=int, default=3, help="seeds per configuration (default %(default)s)")
    repro.add_argument("--jobs", type=int, default=0, help="runs trained at once (default: one per core)")
    repro.add_argument("--epochs-scale", type=float, default=1.0,
                       help="multiply every epoch count, e.g. 0.1 for a quick look (default %(default)s)")
    repro.add_argument("--variant", default="both", help="the batch gradient: mean (the correct network), sum (as "
                       "the report probably ran it) or both (default %(default)s)")
    repro.add_argument("--train-size", type=int, default=0, help="train on the first N images only (0 = all)")
    repro.add_argument("--data-dir", default="", help="folder with the MNIST IDX files (default: $MNIST_DIR)")
    repro.set_defaults(func=cmd_reproduce)

    report = sub.add_parser("report", help="write an HTML page: the reproduced comparisons beside the report")
    report.add_argument("comparisons", nargs="*", metavar="COMPARISON", help="comparison ids (default: all)")
    report.add_argument("--output", "-o", default="report.html", help="file to write (default %(default)s)")
    report.add_argument("--group", default=None, help="use this reproduction (default: the newest per comparison)")
    report.add_argument("--variant", default="both", help="mean (the correct network), sum (as the report probably "
                        "ran it) or both, overlaid (default %(default)s)")
    report.set_defaults(func=cmd_report)

    _add_tool_parsers(sub)
    return parser


def _add_tool_parsers(sub: argparse._SubParsersAction) -> None:
    """The commands defined in their own modules: sweep, insights, lr-find, fix, resume and continue."""
    from experiments.fix_cli import add_fix_parser
    from experiments.insights_cli import add_insights_parser
    from experiments.lr_find_cli import add_lr_find_parser
    from experiments.resume_cli import add_resume_parsers
    from experiments.sweeps.cli import add_sweep_parser
    add_sweep_parser(sub)
    add_insights_parser(sub)
    add_lr_find_parser(sub)
    add_fix_parser(sub)
    add_resume_parsers(sub)


def _comparison_ids() -> list[str]:
    from experiments.report.presets import COMPARISON_IDS
    return list(COMPARISON_IDS)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DataError, StoreError, OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a training loop (loading the data, reading the store)
        print("stopped by Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `list | head`: the reader left; say nothing more and exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
