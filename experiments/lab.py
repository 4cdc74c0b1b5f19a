"""The lab from Python (``from experiments import Lab``): train, read, compare and sweep runs from a notebook.

One ``Lab`` is one run store (``Lab()`` opens the one the dashboard and the command line use: ``RESULTS_DB``,
else ``results/runs.sqlite``), so a run trained here appears on every page, and every run of the dashboard
can be read here. The API is a thin layer over the same pieces the command line calls, never a second copy:

- settings go through ``RunConfig`` (one-line ``ValueError`` naming the setting, as the CLI's flags and the
  sidebar's widgets); a run trains through ``RunManager`` and ``execute_run`` (``experiments/runs/``), into
  the store, with its checkpoints;
- a run's history is ``epochs_frame``, its best epoch the store's (``store/best.py``), its chart
  ``figures.training_figure``; a comparison is Compare's (``analysis/comparison.py``: seed groups, bands,
  the verdict on each seed's last epoch); the learning-rate finder is ``analysis/lr_find.py``; sweeps are
  ``experiments/sweeps/``.

Progress: a chart updated in place in Jupyter (JupyterLab, Notebook, VS Code, Colab: no ipywidgets), a line
in a terminal (``notebook_progress.py``). Ctrl-C (the kernel's interrupt) stops the run after its current
batch, through the command line's handler (``interrupt.CtrlC``: whatever handler was there, Python's or a Ray
driver's, which raises nothing); the finished epochs are kept, the run is "stopped" and can be resumed with
``lab.resume(run_id)``.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from experiments.access import LOCAL_USER, Identity
from experiments.analysis import comparison, ranking, seeds
from experiments.analysis.figures import LiveRun, compare_figure, mark_best, training_figure
from experiments.analysis.lr_find import LRFindReport, find_learning_rate, rounded_lr
from experiments.analysis.lr_find_figure import lr_find_figure
from experiments.analysis.runs_table import runs_frame
from experiments.config import ConfigError, RunConfig, differing_fields
from experiments.i18n import _, decimal, ngettext
from experiments.interrupt import CtrlC
from experiments.notebook_progress import (
    ProgressView,
    ProgressWatch,
    RunView,
    outcome_text,
    progress_view,
    run_line,
)
from experiments.runs.completion import RunEpochs, completion, status_word
from experiments.runs.lifecycle import check_fits, plan_resume
from experiments.runs.runner import RunManager
from experiments.runs.training import load_data
from experiments.store import RunNotFoundError, RunRecord, RunStore
from experiments.store.best import SummaryBy
from experiments.store.export import epochs_frame
from experiments.sweeps.catalog import count_statuses, trial_counts
from experiments.sweeps.local import LocalSweep
from experiments.sweeps.spec import SweepSpec, expand, load_spec, new_sweep_id, parse_spec, parse_text
from experiments.sweeps.tpe import TpeSweep, check_space
from nn import MLP
from nn.status import RunStatus

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

SOURCE = "notebook"  # the runs' source, as History shows it
TICK = 0.1           # seconds between two looks at a training run from the calling thread
SWEEP_TICK = 1.0     # the same for a sweep (its line changes at most once an epoch of some trial)
IMAGE_SIDE = 28


class Run:
    """One stored run, read from the store each time it is asked (so it shows a run that is still training,
    or has been resumed, as it is now).

    ``id``, ``name``, ``status``, ``config`` (its RunConfig), ``history`` (one row per epoch), ``best_epoch``
    (chosen on validation, as the store keeps it; None without a validation set), ``model`` (the ``nn.MLP``
    with its saved weights), ``predict(images)`` and ``plot()``.
    """

    def __init__(self, store: RunStore, run_id: int):
        self._store, self.id = store, int(run_id)
        self._model: MLP | None = None
        self._model_file: tuple[int, int] | None = None

    @property
    def record(self) -> RunRecord:
        """The run's row as stored now (settings, status, summary metrics)."""
        return self._store.get_run(self.id)

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def status(self) -> RunStatus:
        return self.record.status

    @property
    def config(self) -> RunConfig:
        """The run's settings; ValueError (one line) if this version cannot read them."""
        record = self.record
        if record.config is None:
            raise ValueError(_("run {id}: {note}").format(id=self.id, note=record.settings_note))
        return record.config

    @property
    def history(self) -> pd.DataFrame:
        """Every finished epoch, one row each, with its metrics (train, validation, test, lr, seconds...)."""
        return epochs_frame(self._store, [self.id]).drop(columns="run_id")

    @property
    def best_epoch(self) -> int | None:
        """The epoch the run's validation metric picks (its early-stopping monitor, else the validation loss);
        None for a run without a validation set or without a finished epoch."""
        return self.record.best_epoch

    @property
    def model(self) -> MLP:
        """The network with the run's saved weights (those of its last finished epoch, or of its best epoch
        where early stopping restored them); read again when the run has trained further since."""
        path = self._store.weights_path(self.id)
        try:
            stat = path.stat()
        except OSError:
            record = self.record
            raise FileNotFoundError(_("run {id} has no saved weights ({status} after {done} epochs): they are saved "
                                      "after a finished epoch").format(id=self.id, status=status_word(record.status),
                                                                       done=record.epochs_done)) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._model is None or stamp != self._model_file:
            self._model, self._model_file = MLP.load(path), stamp
        return self._model

    def predict(self, images: Any) -> np.ndarray:
        """The predicted digit of every image: ``(n, 784)`` floats scaled to [0, 1] or uint8 pixels (0-255), as
        MNIST is stored (``nn/pixels.py``); ``(n, 28, 28)`` and a single image are accepted too."""
        model = self.model
        return model.predict(network_inputs(images, model.sizes[0]))

    def plot(self) -> go.Figure:
        """The run's loss and accuracy per epoch (the chart ``Lab.train`` draws while it trains)."""
        record = self.record
        return training_figure(LiveRun(_("run {id}").format(id=self.id), self._store.get_epochs(self.id),
                                       record.planned_epochs), title=run_line(record))

    def __repr__(self) -> str:
        record = self.record
        settings = comparison.settings_text(record.config, []) or record.settings_note
        return f"<Run {self.id} '{record.name}' [{settings}]: {outcome_text(record)}>"


def network_inputs(images: Any, features: int = IMAGE_SIDE * IMAGE_SIDE) -> np.ndarray:
    """``images`` as rows a network reads: uint8 pixels stay pixels (the network scales them), floats must be
    scaled to [0, 1] already; one image or ``(n, 28, 28)`` is reshaped to rows. ValueError in one line."""
    x = np.asarray(images)
    if x.dtype != np.uint8 and not np.issubdtype(x.dtype, np.floating):
        raise ValueError(_("images must be uint8 pixels (0-255) or floats in [0, 1], got {dtype}").format(
            dtype=x.dtype))
    if x.size % features or x.size == 0:
        raise ValueError(_("images must have {features} pixels each (shape (n, {features}) or (n, 28, 28)), got "
                           "shape {shape}").format(features=features, shape=x.shape))
    rows = x.reshape(-1, features)
    if x.dtype != np.uint8 and len(rows) and not (np.isfinite(rows).all() and rows.min() >= 0 and rows.max() <= 1):
        raise ValueError(_("images as floats must be scaled to [0, 1] (got values from {low} to {high}): divide "
                           "pixels by 255, or pass them as uint8").format(low=f"{float(np.nanmin(rows)):g}",
                                                                          high=f"{float(np.nanmax(rows)):g}"))
    return rows


@dataclass(frozen=True)
class Comparison:
    """Compare's view of some runs: ``figure`` (a seed group as its mean with a band, single runs with their
    best epoch starred), ``verdicts`` (each configuration against the best, on validation accuracy at each
    seed's last epoch) and ``left_out`` (runs not drawn, and why). ``verdict`` is the verdicts as text."""

    run_ids: list[int]
    figure: go.Figure
    verdicts: comparison.Verdicts
    left_out: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """Every verdict line, then how they were reached; or why there is no verdict."""
        lines = [_("Verdict ({subject}, best against the others): {verdict}").format(subject=line.subject,
                                                                                      verdict=line.text)
                 for line in self.verdicts.lines]
        if not lines and not self.verdicts.caption:
            return _("A verdict needs at least two configurations with two or more seeds each.")
        return "\n".join([*lines, self.verdicts.caption] if self.verdicts.caption else lines)

    def __repr__(self) -> str:
        ids = ", ".join(map(str, self.run_ids))
        notes = "".join(f"\n({note})" for note in self.left_out)
        return "<" + _("Comparison of runs {ids}").format(ids=ids) + f">\n{self.verdict}{notes}"


@dataclass(frozen=True)
class LRFind:
    """The learning-rate finder's sweep for some settings: ``suggestion`` (the lr to try first, rounded),
    ``report`` (the curve and both suggestions), ``plot()``. Nothing is stored."""

    report: LRFindReport

    @property
    def suggestion(self) -> float | None:
        found = self.report.suggestion
        return rounded_lr(found) if found is not None else None

    def plot(self) -> go.Figure:
        r = self.report
        return lr_find_figure(r.lrs, r.losses, r.smoothed, r.steepest, r.minimum)

    def __repr__(self) -> str:
        found = (_("suggested lr {lr}").format(lr=f"{self.suggestion:g}") if self.suggestion is not None
                 else _("no suggestion (no descent)"))
        c = self.report.config
        outcome = _("batch {batch}: {found}; {steps} steps in {seconds} s").format(
            batch=c.batch_size, found=found, steps=len(self.report.lrs), seconds=decimal(self.report.seconds, 1))
        return f"<LRFind {c.architecture} {c.optimizer}, {outcome}>"


class Lab:
    """The runs of one store, from Python: ``train``, ``resume``, ``runs``, ``run``, ``compare``, ``lr_find``,
    ``sweep``. ``path``: the store file (default ``RESULTS_DB``, else ``results/runs.sqlite``).

    ``identity``: who acts. By default the machine's user (``access.LOCAL_USER``), who owns every run, as on
    the command line: whoever can open the store file can change it. A Lab for a signed-in student stores
    runs under their name and resumes only theirs (``Identity.may_change``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, identity: Identity = LOCAL_USER):
        self.store = RunStore(path)
        self.identity = identity
        self._runner: RunManager | None = None

    @property
    def path(self) -> Path:
        return self.store.path

    def __repr__(self) -> str:
        count = self.store.count_runs()
        return f"<Lab {self.path}: " + ngettext("{n} run", "{n} runs", count).format(n=count) + ">"

    def close(self) -> None:
        """Close the store's connections (a Lab is usable again afterwards: they reopen when needed)."""
        self.store.close_all()

    # ------------------------------------------------------------------ training
    def train(self, config: RunConfig | None = None, *, name: str | None = None, tags: Sequence[str] = (),
              progress: str = "auto", **settings: Any) -> Run:
        """Train one run with RunConfig's settings by name (``hidden=(128,)``, ``optimizer="adam"``, ``lr=1e-3``,
        ``epochs=5``, ``train_size=5000``...; the rest keep their defaults, or ``config``'s: ``lab.train(run.config,
        seed=2)`` trains a run's settings again with another seed), store it and return it.

        Bad settings raise ValueError naming the setting, before anything is stored. ``progress``: "auto" (a
        chart in Jupyter, a line elsewhere), "chart", "text" or "none". Ctrl-C stops the run after its current
        batch and returns it, "stopped", with its finished epochs.
        """
        view = progress_view(progress)
        config = run_config(config, settings)
        check_fits(config, load_data(config))  # missing data or a batch too large: said before a run is stored
        watch = ProgressWatch()
        run_id = self._manager().submit(config, name=name, source=SOURCE, callbacks=[watch], tags=list(tags),
                                        student=self.identity.name)
        return self._follow(run_id, config.epochs, watch, view)

    def resume(self, run_id: int, progress: str = "auto") -> Run:
        """Go on with a run that ended early (stopped, interrupted, failed) from its last finished epoch, in the
        same run; the result equals an unbroken run's. One-line error (nothing changed) if it cannot."""
        view = progress_view(progress)
        if not self.identity.may_change(self.store.get_run(run_id).student):
            raise PermissionError(_("run {id} is another student's: only they or the teacher may resume it").format(
                id=run_id))
        plan = plan_resume(self.store, run_id)
        check_fits(plan.config, load_data(plan.config))
        watch = ProgressWatch()
        self._manager().resume_run(run_id, [watch])
        return self._follow(run_id, plan.config.epochs, watch, view)

    def _manager(self) -> RunManager:
        if self._runner is None:
            self._runner = RunManager(self.store)
        return self._runner

    def _follow(self, run_id: int, planned: int, watch: ProgressWatch, view: ProgressView) -> Run:
        """Draw the run's progress until it ends; Ctrl-C stops it after its current batch."""
        manager = self._manager()
        drawing = RunView(self.store, run_id, planned, watch, view)
        with CtrlC(lambda: manager.stop(run_id)) as ctrl_c:  # a press stops it; the loop waits for its end
            while not manager.wait([run_id], timeout=TICK):
                drawing.draw()
        drawing.close()
        run = Run(self.store, run_id)
        if ctrl_c.pressed:
            print(_("stopped by Ctrl-C: run {id} kept with its {done} finished epoch(s); lab.resume({id}) goes on "
                    "from there").format(id=run_id, done=run.record.epochs_done), file=sys.stderr, flush=True)
        return run

    # ------------------------------------------------------------------ reading
    def run(self, run_id: int) -> Run:
        """The stored run ``run_id``; RunNotFoundError (one line) if there is none."""
        self.store.get_run(run_id)
        return Run(self.store, run_id)

    def runs(self, status: str | Sequence[str] | None = None, text: str | None = None, tag: str | None = None,
             group: str | None = None, student: str | None = None, sort: str = "validation", by: str = "best",
             limit: int | None = None) -> pd.DataFrame:
        """History's table: one row per run with its settings and its metrics at its best epoch (``by="last"``:
        its last), filtered as History filters (``status``, ``text``: words or ``lr=0.1``-style settings,
        ``tag``, ``group``: a sweep's or a fix's id, ``student``). ``sort``: "validation" (History's default:
        val. accuracy, runs without a validation set after) or a store column ("created", "test_acc"...)."""
        summary_by = SummaryBy(by)
        if sort == "validation":
            records = ranking.rank(self.store.search_runs(status=status, text=text, tag=tag, group_id=group,
                                                          student=student), summary_by)[:limit]
        else:
            records = self.store.search_runs(status=status, text=text, tag=tag, group_id=group, student=student,
                                             order_by=sort, limit=limit)
        return runs_frame(records, summary_by)

    def compare(self, run_ids: Iterable[int], metric: str = "val_acc", x_axis: str = "epoch",
                group_seeds: bool = True) -> Comparison:
        """Compare's chart and seed verdicts for these runs: runs that differ only by seed are drawn as their
        mean with a band (``group_seeds``) and judged with Welch's test on validation accuracy at each seed's
        last epoch. RunNotFoundError (one line) names a run that does not exist."""
        ids = list(dict.fromkeys(int(i) for i in run_ids))
        picked, epochs, left_out = self._readable_runs(ids)
        drawn = [r for r in picked if epochs[r.id]]
        differ = differing_fields([comparison.config_of(r) for r in picked])
        groups: Sequence[Sequence[RunRecord]] = (seeds.group_by_config(drawn) if group_seeds
                                                 else [[r] for r in drawn])
        curves = comparison.seed_curves(groups, epochs, differ, metric, x_axis)
        figure = mark_best(compare_figure(curves, metric, x_axis),
                           comparison.best_marks(groups, curves, epochs, metric, x_axis))
        return Comparison(ids, figure, comparison.seed_verdicts(groups, differ), left_out)

    def _readable_runs(self, ids: Sequence[int]) -> tuple[list[RunRecord], dict[int, list], list[str]]:
        """The runs of ``ids`` whose settings can be read, their epochs, and a note on each run left out or not
        drawn (settings unreadable, no finished epoch). RunNotFoundError names the ids that do not exist."""
        found = {r.id: r for r in self.store.search_runs(ids=ids)}
        if missing := [i for i in ids if i not in found]:
            raise RunNotFoundError(ngettext("there is no run {ids}", "there are no runs {ids}", len(missing)).format(
                ids=", ".join(map(str, missing))))
        picked = [found[i] for i in ids if found[i].config is not None]
        epochs = {r.id: self.store.get_epochs(r.id) for r in picked}
        left_out = [_("run {id}: settings unreadable").format(id=i) for i in ids if found[i].config is None]
        left_out += [_("run {id}: no finished epoch ({status})").format(id=r.id, status=status_word(r.status))
                     for r in picked if not epochs[r.id]]
        return picked, epochs, left_out

    # ------------------------------------------------------------------ searching
    def lr_find(self, config: RunConfig | None = None, *, steps: int | None = None, **settings: Any) -> LRFind:
        """The learning-rate finder for these settings (as ``train`` takes them): the lr swept from 1e-6 to 10
        over one epoch's batches (or ``steps``) on a throwaway copy of the network. Nothing is stored."""
        config = run_config(config, settings)
        if steps is not None and steps < 2:
            raise ConfigError(_("steps must be at least 2 (got {steps})").format(steps=steps))
        data = load_data(config)
        check_fits(config, data)
        return LRFind(find_learning_rate(config, data, steps=steps))

    def sweep(self, spec: str | os.PathLike[str] | Mapping[str, Any], workers: int | None = None,
              progress: str = "auto") -> pd.DataFrame:
        """Run a sweep on this machine's cores and return its trials, best on validation first (``lab.runs``'
        table; ``lab.runs(group=...)`` with the sweep id in the ``group_id`` of ``lab.run(id).record`` reads
        them again). ``spec``: a .toml or .json file, TOML text, or a dict, as ``python -m experiments
        sweep`` reads them (grid, random or TPE; see the README's Sweeps). Every trial is validated before
        anything is stored. Ctrl-C stops the trials after their current batch and keeps their finished epochs.
        (Ray sweeps run from the command line: ``--engine ray``.)"""
        parsed = sweep_spec(spec)
        if parsed.engine != "local":
            raise ConfigError(_("lab.sweep runs sweeps on this machine; run engine {engine} with python -m "
                                "experiments sweep SPEC --engine {name}").format(engine=repr(parsed.engine),
                                                                                 name=parsed.engine))
        trials = [] if parsed.is_tpe else expand(parsed)
        load_data(check_space(parsed) if parsed.is_tpe else trials[0].config)  # fail fast if the data is missing
        sweep_id = new_sweep_id()
        running: LocalSweep | TpeSweep
        if parsed.is_tpe:
            running = TpeSweep(self.store, parsed, workers=workers, sweep_id=sweep_id, source=SOURCE)
        else:
            running = LocalSweep(self.store, parsed, trials, workers=workers, sweep_id=sweep_id, source=SOURCE)
        running.start()
        show, shown = progress_view(progress) is not ProgressView.NONE, ""
        with CtrlC(running.stop) as ctrl_c:
            while not running.wait(timeout=SWEEP_TICK):
                if show and (line := self._sweep_line(sweep_id)) != shown:  # rewritten when it changes
                    print("\r" + _("sweep {id}: {progress}").format(id=sweep_id, progress=line), end="", flush=True)
                    shown = line
        if ctrl_c.pressed:
            print("\n" + _("stopped by Ctrl-C: sweep {id}, its finished epochs kept").format(id=sweep_id),
                  file=sys.stderr, flush=True)
        if show:
            print("\r" + _("sweep {id}: {progress}").format(id=sweep_id, progress=self._sweep_line(sweep_id)),
                  flush=True)
        return runs_frame(ranking.rank(self.store.search_runs(group_id=sweep_id)))

    def _sweep_line(self, sweep_id: str) -> str:
        """The sweep's epochs as every progress bar counts them, and its trials by status."""
        runs = self.store.search_runs(group_id=sweep_id)
        reach = completion(RunEpochs(r.epochs_done, r.planned_epochs, r.status.is_active) for r in runs)
        return f"{reach.epochs_text()}; " + trial_counts(count_statuses(r.status for r in runs))


def run_config(base: RunConfig | None, settings: Mapping[str, Any]) -> RunConfig:
    """``base`` (default: RunConfig's defaults) with ``settings`` by name, validated as the CLI's flags are: a
    ConfigError (a ValueError) names an unknown or bad setting in one line."""
    if base is not None and not isinstance(base, RunConfig):
        raise ConfigError(_("the settings to start from must be a RunConfig (e.g. run.config), got {type}: give "
                            "settings by name, e.g. lr=0.01").format(type=type(base).__name__))
    return RunConfig.from_dict({**(base.to_dict() if base else {}), **settings})


def sweep_spec(spec: str | os.PathLike[str] | Mapping[str, Any]) -> SweepSpec:
    """A sweep spec from a dict, TOML text (it has a newline or a ``=``) or a .toml/.json file's path."""
    if isinstance(spec, Mapping):
        return parse_spec(spec)
    if isinstance(spec, str) and ("\n" in spec or "=" in spec):
        return parse_text(spec, "toml")
    return load_spec(Path(spec))
