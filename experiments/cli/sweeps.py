"""``python -m experiments sweep SPEC``: run a sweep from a TOML or JSON spec, with text progress.

Ctrl-C stops the sweep's trials (after the current batch locally, at the next epoch on Ray), keeps
every finished epoch in the store and exits 130, as ``run`` does.
"""
from __future__ import annotations

import argparse
import threading
import time

from experiments.analysis.ranking import rank
from experiments.analysis.rounding import acc_percent
from experiments.i18n import _, decimal, ngettext
from experiments.interrupt import CtrlC, say_interrupted
from experiments.runs.completion import RunEpochs, completion
from experiments.runs.training import load_data
from experiments.store import RunStore
from experiments.sweeps.local import LocalSweep
from experiments.sweeps.spec import TAG_PREFIX, expand, load_spec, new_sweep_id
from experiments.sweeps.tpe import TpeSweep, check_space
from nn.status import RunStatus


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help=_("grid, random or TPE search from a TOML/JSON spec (see README: Sweeps)"))
    sweep.add_argument("spec", metavar="SPEC", help=_("sweep spec file (.toml or .json)"))
    sweep.add_argument("--engine", choices=("local", "ray"), default=None,
                       help=_("local process pool (default) or Ray Tune; overrides the spec's engine"))
    sweep.add_argument("--workers", type=int, default=None,
                       help=_("trials trained at once (default: one per core; Ray: as many as the cluster fits)"))
    sweep.add_argument("--address", default=None, help=_("Ray: join this cluster (e.g. 10.0.0.5:6379 or auto)"))
    sweep.add_argument("--asha", action="store_true",
                       help=_("Ray: stop weak trials early with ASHA, judged on validation accuracy (test accuracy "
                              "only when the trials hold out no validation set)"))
    sweep.add_argument("--db", default=argparse.SUPPRESS, help=_("run store file (as the top-level --db)"))
    sweep.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Expand and validate the spec, store its trials, train them, print progress and a summary."""
    spec = load_spec(args.spec)
    # every trial (TPE: every end of its space) validated before anything is stored
    trials = [] if spec.is_tpe else expand(spec)
    first = check_space(spec) if spec.is_tpe else trials[0].config
    engine = args.engine or spec.engine
    if engine == "local" or not args.address:
        load_data(first)  # fail fast if the data is missing (a cluster loads its own)
    store = RunStore(args.db)
    sweep_id = new_sweep_id()
    stop = threading.Event()
    began = time.perf_counter()
    with CtrlC(stop.set):  # the engines watch ``stop``
        _run(args, store, spec, trials, engine, sweep_id, stop)
    code = _summary(store, sweep_id, time.perf_counter() - began)
    if stop.is_set():
        return say_interrupted(_("sweep {sweep}, its finished epochs kept in the store").format(sweep=sweep_id))
    return code


def _run(args: argparse.Namespace, store: RunStore, spec, trials, engine: str, sweep_id: str,
         stop: threading.Event) -> None:
    """Train the trials on the chosen engine, printing progress; Ctrl-C sets ``stop``."""
    what = (_("TPE, budget {n} trials, pruner {pruner}").format(n=spec.size, pruner=spec.tpe.pruner) if spec.is_tpe
            else ngettext("{n} trial", "{n} trials", len(trials)).format(n=len(trials)))
    if engine == "ray":
        from experiments.sweeps.ray_engine import run_ray_sweep
        print(_("sweep {sweep}: {what} on Ray ({address}), tag {tag}").format(
            sweep=sweep_id, what=what, address=args.address or _("local"), tag=f"{TAG_PREFIX}{sweep_id}"), flush=True)
        run_ray_sweep(store, spec, trials, address=args.address, asha=args.asha or spec.is_tpe,
                      workers=args.workers, sweep_id=sweep_id, source="cli", stop_event=stop,
                      progress=lambda line: print(line, flush=True))
        return
    sweep: LocalSweep | TpeSweep
    if spec.is_tpe:
        sweep = TpeSweep(store, spec, workers=args.workers, sweep_id=sweep_id, source="cli")
    else:
        sweep = LocalSweep(store, spec, trials, workers=args.workers, sweep_id=sweep_id, source="cli")
    sweep.start()
    print(_("sweep {sweep}: {what}, {workers} worker processes, tag {tag}").format(
        sweep=sweep_id, what=what, workers=sweep.workers, tag=f"{TAG_PREFIX}{sweep_id}"), flush=True)
    last = ""
    while not sweep.wait(timeout=1.0):
        if stop.is_set() and not sweep.stopping:
            sweep.stop()
        line = _progress_line(store, sweep_id)
        if line != last:
            print(line, flush=True)
            last = line


def _progress_line(store: RunStore, sweep_id: str) -> str:
    """The sweep's epochs as every progress bar counts them (a trial that ended early is done) and its
    trials by status."""
    runs = store.search_runs(group_id=sweep_id)
    reach = completion(RunEpochs(r.epochs_done, r.planned_epochs, RunStatus(r.status).is_active) for r in runs)
    counts = {s: sum(r.status == s for r in runs) for s in dict.fromkeys(r.status for r in runs)}
    return f"{reach.epochs_text()}; " + ", ".join(f"{n} {s}" for s, n in counts.items())


def _summary(store: RunStore, sweep_id: str, seconds: float) -> int:
    """The trials, best on validation first, and an exit status: 0 when every trial finished (or was pruned)."""
    runs = rank(store.search_runs(group_id=sweep_id))  # on validation accuracy at each run's best epoch
    words = (_("status"), _("epochs"), _("at epoch"), _("val acc"), _("test acc"), _("name"))
    wide = max(8, len(words[3]), len(words[4]))  # the accuracy columns fit their headers in every language
    print("{:>5}  {:<9} {:>6} {:>9} {:>{w}} {:>{w}}  {}".format("id", *words, w=wide))
    for r in runs:  # each read at its best epoch (lowest val. loss), or its last without one: the row says which
        s = r.summary()
        val, test = (acc_percent(v) for v in (s.val_acc, s.test_acc))
        at = f"{s.by.word} {s.epoch}" if s.epoch is not None else "-"
        print(f"{r.id:>5}  {r.status:<9} {r.epochs_done:>3}/{r.planned_epochs:<3}{at:>9} {val:>{wide}} "
              f"{test:>{wide}}  {r.name}")
    finished = sum(r.status == RunStatus.FINISHED for r in runs)
    pruned = sum(r.status == RunStatus.PRUNED for r in runs)
    best = runs[0] if runs and runs[0].best_val_acc is not None else None
    print(_("wall time {seconds} s; {finished} of {n} finished").format(seconds=decimal(seconds, 1), finished=finished,
                                                                         n=len(runs))
          + (_(", {n} pruned").format(n=pruned) if pruned else "")
          + (_("; best on validation: run {id} (its test accuracy is the final check)").format(id=best.id)
             if best else ""))
    return 0 if finished + pruned == len(runs) else 3
