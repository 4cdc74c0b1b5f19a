"""A run's progress where the notebook API trains it: one chart updated in place in Jupyter, one line in a terminal.

Why one updated display: progress bars built on ipywidgets (``tqdm.notebook``, fastprogress) fail where the
widget extension is missing ("IProgress not found") or behaves differently (VS Code, Colab), and printing a
line per step floods and freezes JupyterLab. IPython's ``display(..., display_id=True)`` followed by
``update(...)`` replaces one output in place, which the classic Notebook, JupyterLab, VS Code and Colab all
support; redraws come at most every ``CHART_EVERY`` seconds and once at the end, so a fast run cannot flood
the front end. The chart is ``figures.training_figure`` (the Train page's loss and accuracy charts side by
side) with the progress line as its title, sent as the mime bundle Plotly's own renderer picks for the front
end, plus that line as plain text. Outside a Jupyter kernel (a script, IPython in a terminal) the same line is
rewritten in place with a carriage return.

The trainer's thread only records where the run is (``ProgressWatch``, a callback cheap enough for every
batch); the calling thread draws (``RunView``), so every display call is made by the thread whose cell owns
the output, and a Ctrl-C in that thread never lands inside the trainer.
"""
from __future__ import annotations

import sys
import time
from enum import StrEnum
from typing import Any, TextIO

from experiments.analysis.figures import LiveRun, training_figure
from experiments.analysis.rounding import percent_text, rounded
from experiments.i18n import _, localized
from experiments.runs.completion import status_word
from experiments.store import RunRecord, RunStore
from experiments.store.best import best_epoch_name
from nn import Callback

CHART_EVERY = 0.5   # seconds between two redraws of the chart, at most
TEXT_EVERY = 0.2    # seconds between two rewrites of the text line, at most


class ProgressView(StrEnum):
    """How ``Lab.train`` shows a run's progress."""

    AUTO = "auto"    # the chart in a Jupyter kernel, else the text line
    CHART = "chart"  # one chart, updated in place (needs a Jupyter kernel)
    TEXT = "text"    # one line, rewritten in place
    NONE = "none"    # nothing until the run has ended


def progress_view(value: str | ProgressView) -> ProgressView:
    """The view named by ``value``, AUTO resolved to what this process can show; ValueError in one line."""
    try:
        view = ProgressView(value)
    except ValueError:
        raise ValueError(_("progress must be one of {choices}, got {value}").format(
            choices=", ".join(v.value for v in ProgressView), value=repr(value))) from None
    if view is ProgressView.AUTO:
        return ProgressView.CHART if in_kernel() else ProgressView.TEXT
    if view is ProgressView.CHART and not in_kernel():
        raise ValueError(_("progress 'chart' needs a Jupyter kernel, and this is not one: use 'text' (or 'auto')"))
    return view


def in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (its shell has a kernel; IPython in a terminal has none).

    IPython is looked up among the loaded modules, never imported: a kernel has always loaded it, and a
    script that has not needs no chart."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class ProgressWatch(Callback):
    """Where a run is, recorded from the trainer's thread: the epoch being trained, its last batch and that
    batch's loss, and how many epochs have ended (each is in the store by then: this callback runs after
    ``StoreEpochs``). Plain attribute writes, read by the calling thread without a lock."""

    def __init__(self) -> None:
        self.epoch = 0
        self.batch = 0
        self.batches = 0
        self.loss: float | None = None
        self.ended_epochs = 0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.batches = int(logs.get("batches_per_epoch") or 0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch, self.batch = epoch, 0

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.batch, self.loss = batch + 1, logs.get("loss")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.ended_epochs += 1


def run_line(run: RunRecord) -> str:
    """A stored run in one line: "run 3 finished after 5/5 epochs · ..." (see ``outcome_text``)."""
    return _("run {id} {outcome}").format(id=run.id, outcome=outcome_text(run))


def outcome_text(run: RunRecord) -> str:
    """Where a stored run is: its status and epochs, its validation accuracy at its best epoch and the test
    accuracy there (a run without validation: at its last epoch), its time and message."""
    summary = run.summary()
    head = _("{status} after {done}/{planned} epochs").format(status=status_word(run.status), done=run.epochs_done,
                                                             planned=run.planned_epochs)
    if summary.epoch is None:
        parts = [head]
    elif summary.val_acc is not None:
        monitor = run.config.monitor if run.config else "val_loss"
        parts = [head, _("val. accuracy {accuracy} at the {best_epoch}, epoch {epoch}").format(
            accuracy=percent_text(summary.val_acc), best_epoch=best_epoch_name(monitor), epoch=summary.epoch)]
    else:
        parts = [head, _("no validation set")]
    if summary.epoch is not None and summary.test_acc is not None:
        parts.append((_("test accuracy there {accuracy}") if summary.val_acc is not None
                      else _("test accuracy at the last epoch {accuracy}")).format(
            accuracy=percent_text(summary.test_acc)))
    if run.seconds:
        parts.append(_("{seconds} s").format(seconds=localized(rounded(run.seconds, 1))))
    return " · ".join(parts) + (f" ({run.message})" if run.message else "")


def _training_line(run_id: int, planned: int, watch: ProgressWatch, last: dict[str, Any] | None) -> str:
    """Where a running run is: its epoch and batch, the batch's loss, and the last epoch's validation (or test)
    accuracy."""
    if not watch.epoch:
        return _("run {id}: starting").format(id=run_id)
    parts = [_("run {id}").format(id=run_id), _("epoch {epoch}/{planned}").format(epoch=watch.epoch, planned=planned)]
    if watch.batches:
        parts.append(_("batch {batch}/{batches}").format(batch=watch.batch, batches=watch.batches))
    if watch.loss is not None:
        parts.append(_("batch loss {loss}").format(loss=localized(rounded(float(watch.loss), 4))))
    if last:
        if last.get("val_acc") is not None:
            parts.append(_("val. accuracy {accuracy} after epoch {epoch}").format(
                accuracy=percent_text(last["val_acc"]), epoch=last["epoch"]))
        elif last.get("test_acc") is not None:
            parts.append(_("test. accuracy {accuracy} after epoch {epoch}").format(
                accuracy=percent_text(last["test_acc"]), epoch=last["epoch"]))
    return " · ".join(parts)


class RunView:
    """Draws one run's progress, from the calling thread, at a bounded rate: ``draw()`` as often as the caller
    likes (it redraws only when due), ``close()`` once the run has ended (the final chart or line).

    ``view`` is CHART or TEXT or NONE (see ``progress_view``); ``out`` receives the text line."""

    def __init__(self, store: RunStore, run_id: int, planned_epochs: int, watch: ProgressWatch, view: ProgressView,
                 out: TextIO | None = None):
        self.store, self.run_id, self.planned, self.watch, self.view = store, run_id, planned_epochs, watch, view
        self.out = out or sys.stdout
        self._drawn_at = -float("inf")
        self._epochs: list[dict[str, Any]] = []
        self._epochs_seen = -1
        self._handle: Any = None
        self._width = 0

    def draw(self) -> None:
        """Redraw if the last redraw is older than the view's interval."""
        every = CHART_EVERY if self.view is ProgressView.CHART else TEXT_EVERY
        if self.view is ProgressView.NONE or time.monotonic() - self._drawn_at < every:
            return
        epochs = self._stored_epochs()
        self._show(_training_line(self.run_id, self.planned, self.watch, epochs[-1] if epochs else None), final=False)

    def close(self) -> str:
        """The final drawing: the chart with every stored epoch and the run's line, or the line and a newline.
        Returns that line."""
        line = run_line(self.store.get_run(self.run_id))
        self._epochs_seen = -1  # read the store once more: the last epoch may have arrived since
        self._stored_epochs()
        if self.view is not ProgressView.NONE:
            self._show(line, final=True)
        return line

    def _stored_epochs(self) -> list[dict[str, Any]]:
        """The run's stored epochs, read again only when another has ended (or on ``close``)."""
        seen = self.watch.ended_epochs
        if seen != self._epochs_seen:
            self._epochs, self._epochs_seen = self.store.get_epochs(self.run_id), seen
        return self._epochs

    def _show(self, line: str, final: bool) -> None:
        self._drawn_at = time.monotonic()
        if self.view is ProgressView.CHART:
            self._show_chart(line)
        else:
            self._show_text(line, final)

    def _show_chart(self, line: str) -> None:
        from IPython.display import display  # a kernel has IPython (CHART is chosen only there)

        figure = training_figure(LiveRun(_("run {id}").format(id=self.run_id), self._epochs, self.planned), title=line)
        bundle = {**figure._repr_mimebundle_(), "text/plain": line}  # what Plotly shows in this front end
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def _show_text(self, line: str, final: bool) -> None:
        padding = " " * max(0, self._width - len(line))  # wipe the rest of a longer line before
        self.out.write("\r" + line + padding + ("\n" if final else ""))
        self.out.flush()
        self._width = 0 if final else len(line)
