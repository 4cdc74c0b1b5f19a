"""The learning-rate finder: schedule, smoothing, suggestions, the sweep on a copy, the config-level report,
the command line and the figure."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from experiments.analysis.lr_find import find_learning_rate, rounded_lr
from experiments.analysis.lr_find_figure import lr_find_figure
from experiments.cli.entry import main
from experiments.config import RunConfig
from nn import MLP, Dataset, FitOptions, evaluate, fit, get_optimizer
from nn.lr_finder import MIN_STEPS, copy_model, find_lr, lr_schedule, smooth_losses, suggest


# ---------------------------------------------------------------------- the pieces
def test_schedule_is_geometric_from_start_to_end():
    lrs = lr_schedule(8, 1e-6, 10.0)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(10.0)
    assert np.allclose(lrs[1:] / lrs[:-1], (10.0 / 1e-6) ** (1 / 7))
    with pytest.raises(ValueError):
        lr_schedule(1)
    with pytest.raises(ValueError):
        lr_schedule(10, 1.0, 0.1)


def test_smoothing_is_a_bias_corrected_moving_average():
    assert np.allclose(smooth_losses(np.full(20, 2.5)), 2.5)  # no pull towards 0 at the start
    losses = np.array([3.0, 1.0, 2.0])
    beta = 0.5
    expected = [3.0, (0.25 * 3 + 0.5 * 1) / 0.75, (0.125 * 3 + 0.25 * 1 + 0.5 * 2) / 0.875]
    assert np.allclose(smooth_losses(losses, beta), expected)


def test_suggestions_on_a_known_curve():
    lrs = np.geomspace(1e-6, 10, 400)
    x = np.log10(lrs)
    # falls fastest at lr 1e-3 (a logistic step centred there), lowest near 1e-1, then blows up
    loss = 2.3 - 2.0 / (1 + np.exp(-3 * (x + 3))) + np.where(x > -1, 5 * (x + 1) ** 2, 0.0)
    steepest, minimum = suggest(lrs, loss)
    assert steepest == pytest.approx(1e-3, rel=0.1)
    assert minimum == pytest.approx(lrs[np.argmin(loss)] / 10)
    assert suggest(lrs, np.linspace(1, 5, 400)) == (None, pytest.approx(lrs[40] / 10))  # only rises
    assert suggest(lrs[:2], loss[:2]) == (None, None)  # too few points to say anything


def test_copy_is_independent():
    model = MLP([5, 4, 3], seed=1)
    clone = copy_model(model)
    assert np.array_equal(clone.flat_params, model.flat_params)
    clone.weights[0][...] = 0
    assert model.weights[0].any()


# ---------------------------------------------------------------------- the sweep
def test_sweep_leaves_the_network_alone_and_stops_when_the_loss_blows_up(blobs):
    model = MLP([blobs.num_features, 16, 10], activation="tanh", seed=0)  # relu would die at ln 10, not blow up
    before = model.flat_params.copy()
    result = find_lr(model, get_optimizer("adam", 0.1), blobs.x_train, blobs.y_train, batch_size=16, steps=300)
    assert np.array_equal(model.flat_params, before)
    assert result.stopped_early and len(result.lrs) < 300
    assert result.smoothed[-1] > 4 * np.min(result.smoothed[:-1]) or not math.isfinite(result.smoothed[-1])
    assert np.all(np.diff(result.lrs) > 0) and len(result.losses) == len(result.lrs) == len(result.smoothed)
    assert result.steepest is not None and result.minimum is not None


def test_sweep_is_seeded_and_needs_a_fresh_optimizer(blobs):
    model = MLP([blobs.num_features, 16, 10], seed=0)
    runs = [find_lr(model, get_optimizer("adam", 1e-3), blobs.x_train, blobs.y_train, batch_size=32, seed=4)
            for _ in range(2)]
    assert np.array_equal(runs[0].losses, runs[1].losses)
    short = runs[0]  # one epoch is 19 batches here: too few for a curve, so MIN_STEPS are taken
    assert len(short.lrs) == MIN_STEPS or (short.stopped_early and len(short.lrs) < MIN_STEPS)
    big = find_lr(model, get_optimizer("adam", 1e-3), np.repeat(blobs.x_train, 20, axis=0),
                  np.repeat(blobs.y_train, 20), batch_size=100)  # one epoch is 120 batches
    assert len(big.lrs) == 120 or (big.stopped_early and len(big.lrs) < 120)
    used = get_optimizer("sgd", 0.1)
    used.step([model.flat_params.copy()], [np.zeros_like(model.flat_params)])
    with pytest.raises(ValueError, match="fresh"):
        find_lr(model, used, blobs.x_train, blobs.y_train, batch_size=32)


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


# ---------------------------------------------------------------------- real MNIST
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


@pytest.mark.mnist
def test_command_line(mnist_dir, capsys):
    assert main(["lr-find", "--optimizer", "sgd", "--train-size", "3000", "--data-dir", mnist_dir]) == 0
    out = capsys.readouterr().out
    assert "suggested lr (steepest descent):" in out and "suggested lr (minimum / 10):" in out
    assert main(["lr-find", "--train-size", "3000", "--steps", "100", "--json", "--data-dir", mnist_dir]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert len(parsed["lrs"]) <= 100 and parsed["suggestion"] > 0
    assert main(["lr-find", "--lr", "-1"]) == 2
    assert "lr must be" in capsys.readouterr().err
