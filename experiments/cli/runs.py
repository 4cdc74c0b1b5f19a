"""``python -m experiments run | list | show``: train one run, and browse the stored runs (exports: ``exports.py``)."""
from __future__ import annotations

import argparse

from experiments.analysis.rounding import acc_percent
from experiments.cli.common import (
    PrintEpochs,
    add_config_arguments,
    config_from_args,
    json_text,
    metric_text,
    open_store,
)
from experiments.i18n import _, ngettext
from experiments.interrupt import CtrlC, say_interrupted
from experiments.runs.completion import shown_message
from experiments.runs.lifecycle import check_fits
from experiments.runs.runner import RunManager
from experiments.runs.training import load_data
from experiments.store import RunRecord
from nn.status import RunStatus


def add_runs_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``run``, ``list`` and ``show`` commands."""
    run = sub.add_parser("run", help=_("train one network, store it, and print each epoch"))
    add_config_arguments(run)
    run.add_argument("--name", default=None, help=_("a name for the run"))
    run.add_argument("--json", action="store_true", help=_("print one JSON object per epoch"))
    run.set_defaults(func=cmd_run)

    ls = sub.add_parser("list", help=_("list stored runs, newest first"))
    ls.add_argument("--status", default=None, help=_("only runs with this status"))
    ls.add_argument("--text", default=None, help=_("only runs whose name, notes or settings contain this"))
    ls.add_argument("--tag", default=None, help=_("only runs with this tag"))
    ls.add_argument("--sort", default="created", help=_("created, best_val_acc, test_acc, ... (default %(default)s)"))
    ls.add_argument("--limit", type=_positive_int, default=None, help=_("at most this many runs"))
    ls.add_argument("--json", action="store_true", help=_("print the runs as one JSON list"))
    ls.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help=_("one run's settings and epochs"))
    show.add_argument("id", type=int, help=_("the run's id"))
    show.add_argument("--json", action="store_true", help=_("print the run and its epochs as one JSON object"))
    show.set_defaults(func=cmd_show)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(_("expected a whole number of at least 1, got {text}").format(text=repr(text)))
    return value


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
        print(ended_line(run_id, run))
    if ctrl_c.pressed:
        return say_interrupted(ngettext("run {id} kept in the store with its {n} finished epoch",
                                        "run {id} kept in the store with its {n} finished epochs",
                                        run.epochs_done).format(id=run_id, n=run.epochs_done))
    return 0 if run.status == RunStatus.FINISHED else 3


def cmd_list(args: argparse.Namespace) -> int:
    runs = open_store(args).search_runs(status=args.status, text=args.text, tag=args.tag,
                                        order_by=args.sort, limit=args.limit)
    if args.json:
        print(json_text([r.flat() for r in runs]))
        return 0
    words = (_("status"), _("epochs"), _("at epoch"), _("val acc"), _("test acc"), _("created"), _("name / settings"))
    wide = max(8, len(words[3]), len(words[4]))  # the accuracy columns fit their headers in every language
    print("{:>5}  {:<11} {:>6} {:>9} {:>{w}} {:>{w}}  {:<25} {}".format("id", *words, w=wide))
    for r in runs:  # at the best epoch by validation (the last one for a run without a validation set), named
        best = r.summary()
        val, acc = (acc_percent(v) for v in (best.val_acc, best.test_acc))
        at = f"{best.by.word} {best.epoch}" if best.epoch is not None else "-"
        c = r.config
        settings = (f"{c.architecture} {c.activation} {c.optimizer} lr={c.lr:g} l2={c.l2:g} batch={c.batch_size} "
                    f"seed={c.seed}") if c else r.settings_note
        print(f"{r.id:>5}  {r.status:<11} {r.epochs_done:>3}/{r.planned_epochs:<3}{at:>9} {val:>{wide}} {acc:>{wide}}  "
              f"{r.created:<25} {r.name}  [{settings}]")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    run = store.get_run(args.id)
    epochs = store.get_epochs(run.id)
    if args.json:
        print(json_text({**run.flat(), **run.to_json_dict(), "epochs": epochs}))  # tags a list, as in export
        return 0
    said = f"{run.status}: {shown_message(run.message)}" if run.message else run.status
    print(_("run {id}: {name}  ({status})").format(id=run.id, name=run.name, status=said))
    print(_("created {created}  source {source}  group {group}  tags {tags}").format(
        created=run.created, source=run.source or "-", group=run.group_id or "-", tags=", ".join(run.tags) or "-"))
    settings = run.config.to_dict().items() if run.config else ()
    print(_("settings: {settings}").format(settings=", ".join(f"{k}={v}" for k, v in settings) or run.settings_note))
    if run.notes:
        print(_("notes: {notes}").format(notes=run.notes))
    printer = PrintEpochs(False, run.planned_epochs)
    for e in epochs:
        printer.on_epoch_end(e["epoch"], e)
    print(best_line(run))
    return 0


def best_line(run: RunRecord) -> str:
    """The run's best epoch by validation and its test accuracy there, or why there is none."""
    if run.best_epoch is None:
        return _("best epoch: none (no validation set: the test numbers above were not held out from choosing)")
    monitor = run.config.monitor if run.config else "val_loss"
    test = acc_percent(run.test_acc_at_best)
    return _("best epoch {epoch} by {monitor}: val acc {val_acc}, test acc there {test_acc} (the held-out final "
             "check)").format(epoch=run.best_epoch, monitor=monitor,
                              val_acc=metric_text(run.flat(), "best_val_acc", ".2%"), test_acc=test)


def ended_line(run_id: int, run: RunRecord) -> str:
    """How a run ended, in a line: "run 3 finished", "run 3 failed: <why>"."""
    if run.message:
        return _("run {id} {status}: {message}").format(id=run_id, status=run.status,
                                                        message=shown_message(run.message))
    return _("run {id} {status}").format(id=run_id, status=run.status)
