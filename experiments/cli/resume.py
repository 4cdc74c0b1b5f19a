"""``python -m experiments resume RUN_ID`` and ``continue RUN_ID --epochs N``: train a stored run further.

``resume`` goes on from the last finished epoch of a run that ended early (interrupted, stopped, failed);
``continue`` gives a finished run N more epochs. Both append to the same run, print each epoch as ``run``
does, and refuse with one line (exit 2, nothing changed) a run that cannot go on: see
experiments/runs/lifecycle.py. Ctrl-C stops the run after the current batch (exit 130); resume it again later.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from experiments.cli.common import PrintEpochs, open_store
from experiments.cli.runs import ended_line
from experiments.i18n import _, ngettext
from experiments.interrupt import CtrlC, say_interrupted
from experiments.runs.completion import shown_message
from experiments.runs.lifecycle import ResumePlan, check_fits, plan_continue, plan_resume
from experiments.runs.runner import RunManager
from experiments.runs.training import load_data
from nn.status import RunStatus


def add_resume_parsers(sub: argparse._SubParsersAction) -> None:
    resume = sub.add_parser("resume", help=_("go on with a run that ended early, from its last finished epoch"))
    resume.add_argument("id", type=int, metavar="RUN_ID", help=_("the run's id"))
    resume.add_argument("--json", action="store_true", help=_("print one JSON object per epoch"))
    resume.set_defaults(func=cmd_resume)

    more = sub.add_parser("continue", help=_("train a finished run for more epochs, appending to it"))
    more.add_argument("id", type=int, metavar="RUN_ID", help=_("the run's id"))
    more.add_argument("--epochs", type=int, required=True, metavar="N", help=_("how many more epochs"))
    more.add_argument("--json", action="store_true", help=_("print one JSON object per epoch"))
    more.set_defaults(func=cmd_continue)


def cmd_resume(args: argparse.Namespace) -> int:
    store = open_store(args)
    plan = plan_resume(store, args.id)  # every refusal before the data is loaded or anything changes
    return _train(args, plan, lambda manager, printer: manager.resume_run(args.id, [printer]))


def cmd_continue(args: argparse.Namespace) -> int:
    store = open_store(args)
    plan = plan_continue(store, args.id, args.epochs)
    return _train(args, plan, lambda manager, printer: manager.continue_run(args.id, args.epochs, [printer]))


def _train(args: argparse.Namespace, plan: ResumePlan, queue: Callable[[RunManager, PrintEpochs], object]) -> int:
    """Load the data (fail fast, nothing changed yet), queue the run through a run manager, follow it."""
    data = load_data(plan.config)
    check_fits(plan.config, data)
    manager = RunManager(open_store(args))
    printer = PrintEpochs(args.json, plan.config.epochs)
    if not args.json:
        start = (_("after epoch {epoch}").format(epoch=plan.from_epoch) if plan.from_epoch
                 else _("from the start (no epoch was finished)"))
        print(_("run {id}: training epochs {first}-{last}, going on {start}").format(
            id=plan.run_id, first=plan.from_epoch + 1, last=plan.config.epochs, start=start), flush=True)
    queue(manager, printer)
    with CtrlC(lambda: manager.stop(plan.run_id)) as ctrl_c:
        while not manager.wait([plan.run_id], timeout=0.2):
            pass
    run = manager.store.get_run(plan.run_id)
    if not args.json:
        print(ended_line(plan.run_id, run))
    elif run.status not in (RunStatus.FINISHED, RunStatus.STOPPED):
        print(_("run {id} {status}: {message}").format(id=plan.run_id, status=run.status,
                                                       message=shown_message(run.message)), file=sys.stderr)
    if ctrl_c.pressed:
        return say_interrupted(ngettext("run {id} kept with its {n} finished epoch; resume it again later",
                                        "run {id} kept with its {n} finished epochs; resume it again later",
                                        run.epochs_done).format(id=plan.run_id, n=run.epochs_done))
    return 0 if run.status == RunStatus.FINISHED else 3
