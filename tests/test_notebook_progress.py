"""How the notebook API shows a run's progress (experiments/notebook_progress.py): one display, updated at a
bounded rate, or one rewritten text line; which of them where; the words of a run's outcome. The real Jupyter
kernel drawing the chart is tests/notebooks/test_tour.py's."""
from __future__ import annotations

import io
import sys
import types

import plotly.io as pio
import pytest

from experiments import notebook_progress
from experiments.config import RunConfig
from experiments.notebook_progress import (
    CHART_EVERY,
    TEXT_EVERY,
    ProgressView,
    ProgressWatch,
    RunView,
    in_kernel,
    progress_view,
    run_line,
)
from nn.status import RunStatus

EPOCH = {"train_loss": 0.5, "train_acc": 0.8, "val_loss": 0.45, "val_acc": 0.85, "test_loss": 0.4, "test_acc": 0.86,
         "seconds": 1.0, "elapsed": 1.0}


class FakeClock:
    """``time.monotonic`` for the module under test, moved on by hand: the rate is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class DisplayRecorder:
    """Stands in for IPython's ``display``: records what was displayed and every update of its handle."""

    def __init__(self) -> None:
        self.shown: list[dict] = []
        self.updates: list[dict] = []

    def __call__(self, bundle: dict, raw: bool = False, display_id: bool = False) -> DisplayRecorder:
        assert raw and display_id  # a raw mime bundle, with a handle to update it in place
        self.shown.append(bundle)
        return self

    def update(self, bundle: dict, raw: bool = False) -> None:
        assert raw
        self.updates.append(bundle)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(notebook_progress.time, "monotonic", fake)
    return fake


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> DisplayRecorder:
    import IPython.display

    recorder = DisplayRecorder()
    monkeypatch.setattr(IPython.display, "display", recorder)
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")  # what Plotly picks in a Jupyter kernel
    return recorder


def _running_run(store, epochs: int = 3) -> int:
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=epochs), name="watched", source="notebook")
    store.set_status(run_id, RunStatus.RUNNING)
    return run_id


def _end_epoch(store, run_id: int, watch: ProgressWatch, epoch: int) -> None:
    """What the trainer's thread does at an epoch's end: the store first, then the watch."""
    store.log_epoch(run_id, {"epoch": epoch, **EPOCH})
    watch.on_epoch_end(epoch, {})


def test_the_chart_is_one_display_updated_at_most_every_half_second_and_once_at_the_end(store, clock, display):
    run_id = _running_run(store)
    watch = ProgressWatch()
    view = RunView(store, run_id, 3, watch, ProgressView.CHART)
    watch.on_train_begin({"batches_per_epoch": 10})
    watch.on_epoch_begin(1, {})
    for step in range(30):  # a draw every 0.1 s for 3 s, an epoch ending every second
        watch.on_batch_end(step % 10, {"loss": 1.0 / (step + 1)})
        if step % 10 == 9:
            _end_epoch(store, run_id, watch, step // 10 + 1)
        view.draw()
        clock.now += 0.1
    store.set_status(run_id, RunStatus.FINISHED)
    view.close()
    assert len(display.shown) == 1
    draws = 1 + len(display.updates)
    assert draws <= 3 / CHART_EVERY + 2  # at most every 0.5 s, and the end
    final = display.updates[-1]
    figure = final["application/vnd.plotly.v1+json"]
    assert [t["x"] for t in figure["data"] if t["name"] == "train"] == [[1, 2, 3], [1, 2, 3]]
    assert final["text/plain"] == run_line(store.get_run(run_id))
    assert figure["layout"]["title"]["text"].startswith(f"run {run_id} finished after 3/3 epochs")
    assert any(" · batch " in update["text/plain"] for update in display.updates)  # within-epoch progress


def test_the_text_line_is_rewritten_in_place_at_a_bounded_rate(store, clock):
    run_id = _running_run(store, epochs=1)
    watch, out = ProgressWatch(), io.StringIO()
    view = RunView(store, run_id, 1, watch, ProgressView.TEXT, out)
    watch.on_epoch_begin(1, {})
    for batch in range(20):
        watch.on_batch_end(batch, {"loss": 0.5})
        view.draw()
        clock.now += 0.05
    _end_epoch(store, run_id, watch, 1)
    store.set_status(run_id, RunStatus.FINISHED)
    line = view.close()
    text = out.getvalue()
    assert text.count("\r") <= 20 * 0.05 / TEXT_EVERY + 2 and text.count("\n") == 1
    assert text.endswith("\n") and text[:-1].rsplit("\r", 1)[-1].rstrip() == line  # the last line, padded
    assert f"run {run_id} · epoch 1/1 · batch" in text


def test_none_draws_nothing(store, clock):
    run_id = _running_run(store)
    out = io.StringIO()
    view = RunView(store, run_id, 3, ProgressWatch(), ProgressView.NONE, out)
    view.draw()
    view.close()
    assert out.getvalue() == ""


def test_auto_is_the_chart_in_a_jupyter_kernel_and_the_line_elsewhere(monkeypatch):
    assert not in_kernel() and progress_view("auto") is ProgressView.TEXT  # pytest has no kernel
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert in_kernel() and progress_view("auto") is ProgressView.CHART
    terminal = types.SimpleNamespace()  # IPython in a terminal: a shell without a kernel
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: terminal))
    assert progress_view(ProgressView.AUTO) is ProgressView.TEXT
    assert progress_view("none") is ProgressView.NONE
    with pytest.raises(ValueError, match="progress 'chart' needs a Jupyter kernel"):
        progress_view("chart")


def test_a_runs_line_reads_it_at_its_best_epoch_by_validation(store):
    run_id = _running_run(store, epochs=2)
    store.log_epoch(run_id, {"epoch": 1, **EPOCH})
    store.log_epoch(run_id, {"epoch": 2, **{**EPOCH, "val_loss": 0.6, "val_acc": 0.9, "test_acc": 0.91}})
    store.set_status(run_id, RunStatus.STOPPED, "stopped by the user")
    line = run_line(store.get_run(run_id))
    assert line.startswith(f"run {run_id} stopped after 2/2 epochs · val. accuracy 85.00% at the best epoch "
                           f"(lowest val. loss), epoch 1 · test accuracy there 86.00%")
    assert line.endswith("(stopped by the user)")
