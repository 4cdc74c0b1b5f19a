"""``python -m experiments fix RUN_ID``: diagnose a stored run, then test the proposed fix with seeds.

Queues the run's settings and the fixed settings, ``--seeds`` seeds each, as one group; waits for them
(printing each run's end), and prints Welch's verdict: did the fix help, by how much, or is it within seed
noise. Exit codes as ``run``: 0 when every run finished, 3 when some did not, 2 for a run without a fix,
130 after Ctrl-C (the runs stop after their current batch and stay in the store).
"""
from __future__ import annotations

import argparse

from experiments.analysis.diagnosis import DiagnosisKind
from experiments.analysis.diagnosis_text import describe, fix_text
from experiments.analysis.rounding import acc_percent
from experiments.i18n import _, ngettext
from experiments.interrupt import CtrlC, say_interrupted
from experiments.runs.runner import RunManager, runs_at_once
from experiments.store import RunStore
from nn.status import RunStatus


def add_fix_parser(sub: argparse._SubParsersAction) -> None:
    fix = sub.add_parser("fix", help=_("diagnose a run and test the proposed fix: the run's settings and the fixed "
                                       "ones, 3 seeds each, then the verdict"))
    fix.add_argument("id", type=int, help=_("the run to fix"))
    fix.add_argument("--seeds", type=int, default=3, choices=range(2, 11), metavar="N",
                     help=_("seeds per side, 2 to 10 (default %(default)s)"))
    fix.add_argument("--kind", default=None, choices=[k.value for k in DiagnosisKind],
                     help=_("which finding to fix (default: the first one with a fix)"))
    fix.set_defaults(func=cmd_fix)


def _plain(text: str) -> str:
    return text.replace("**", "")


def cmd_fix(args: argparse.Namespace) -> int:
    # imported here: its statistics bring SciPy, which a plain `run` should not load (memory, start-up)
    from experiments.analysis.fix_trial import NoFixError, fix_verdict, plan_fix, queue_fix

    store = RunStore(args.db)
    try:
        plan = plan_fix(store, args.id, DiagnosisKind(args.kind) if args.kind else None, args.seeds)
    except NoFixError as exc:
        print(_("error: {reason}").format(reason=exc))
        return 2
    words = describe(plan.finding)
    print(_("run {id}: {message}").format(id=args.id, message=_plain(words.message)))
    print(ngettext("fix: {fix}; {n} seed each ({seeds})", "fix: {fix}; {n} seeds each ({seeds})",
                   len(plan.seeds)).format(fix=_plain(fix_text(plan.finding)), n=len(plan.seeds),
                                           seeds=", ".join(map(str, plan.seeds))))
    manager = RunManager(store, max_concurrent=runs_at_once())
    group_id = queue_fix(manager, plan, source="cli")
    ids = [r.id for r in store.search_runs(group_id=group_id)]
    print(_("queued runs {ids} as group {group}").format(ids=", ".join(map(str, sorted(ids))), group=group_id),
          flush=True)

    def stop_all() -> None:
        for run_id in ids:
            manager.stop(run_id)

    with CtrlC(stop_all) as ctrl_c:  # Ctrl-C stops every run of the group after its current batch
        while not manager.wait(ids, timeout=0.5):
            pass
    runs = store.search_runs(group_id=group_id, order_by="id", descending=False)
    for r in runs:
        acc = acc_percent(r.test_acc)
        print(_("  run {id} {name}: {status}, test accuracy {acc}").format(id=r.id, name=r.name, status=r.status,
                                                                            acc=acc))
    print(fix_verdict(store, group_id).text)
    if ctrl_c.pressed:
        return say_interrupted(_("the group's runs are kept in the store ({group})").format(group=group_id))
    return 0 if all(r.status == RunStatus.FINISHED for r in runs) else 3
