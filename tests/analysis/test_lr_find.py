"""The learning-rate finder for a RunConfig (experiments/analysis/lr_find.py): its suggestion trains far better
than a tiny lr, its table, JSON and rounding, its figure, and the sweep on the real MNIST."""
from __future__ import annotations

import json

import numpy as np
import pytest

from experiments.analysis.lr_find import find_learning_rate, rounded_lr
from experiments.analysis.lr_find_figure import lr_find_figure
from experiments.config import RunConfig
from nn import MLP, Dataset, FitOptions, evaluate, fit, get_optimizer


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_suggestion_trains_far_better_than_a_tiny_lr(blobs, optimizer):
    config = RunConfig(hidden=(16,), optimizer=optimizer, batch_size=16)
    suggestion = find_learning_rate(config, blobs, steps=300).suggestion
    assert suggestion is not None
    accuracies = {}
    for lr in (suggestion, 1e-6):
        model = MLP([blobs.num_features, 16, 10], seed=0)
        fit(model, get_optimizer(optimizer, lr), blobs, FitOptions(epochs=2, batch_size=16))
        accuracies[lr] = evaluate(model, blobs.x_test, blobs.y_test)["acc"]
    assert accuracies[suggestion] > accuracies[1e-6] + 0.3, accuracies


def test_report_table_json_and_rounding(blobs):
    report = find_learning_rate(RunConfig(hidden=(8,), optimizer="sgd", batch_size=16), blobs, steps=200)
    rows = report.table(5)
    assert len(rows) == 5 and rows[0][0] == pytest.approx(1e-6) and rows[-1][0] == pytest.approx(report.lrs[-1])
    parsed = json.loads(json.dumps(report.to_dict()))  # non-finite losses would break strict JSON readers
    assert parsed["steepest"] == report.steepest and len(parsed["lrs"]) == len(report.lrs)
    assert report.seconds > 0
    assert rounded_lr(0.05318) == 0.053 and rounded_lr(37.0) == 10.0


def test_figure_has_a_log_axis_and_both_suggestions():
    lrs = np.geomspace(1e-6, 1, 50)
    fig = lr_find_figure(lrs, np.linspace(2, 1, 50), np.linspace(2, 1, 50), 1e-3, 1e-2)
    assert fig.layout.xaxis.type == "log"
    assert sorted(s.x0 for s in fig.layout.shapes) == [1e-3, 1e-2]
    assert {a.text.split(":")[0] for a in fig.layout.annotations} == {"steepest descent", "minimum / 10"}
    nothing = lr_find_figure(lrs, np.full(50, np.inf), np.full(50, np.nan), None, None)
    assert not nothing.layout.shapes


@pytest.mark.mnist
def test_784_128_10_sweep_is_fast_and_sensible(mnist):
    config = RunConfig()
    report = find_learning_rate(config, Dataset(mnist.x_train, mnist.y_train, mnist.x_test[:0], mnist.y_test[:0]))
    assert report.steepest is not None and report.minimum is not None
    print(f"lr finder on 784-128-10 adam: {report.seconds:.2f} s, {len(report.lrs)} steps, "
          f"steepest {report.steepest:.3g}, minimum/10 {report.minimum:.3g}")
    assert report.seconds < 10
    assert report.stopped_early  # the loss blew up before lr 10
    assert 1e-5 < report.steepest < 1e-1 and 1e-5 < report.minimum < 1e-1
