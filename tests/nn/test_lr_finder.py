"""The learning-rate finder in nn/lr_finder.py: schedule, smoothing, suggestions, the sweep on a copy. (The
config-level report and its figure: tests/analysis/test_lr_find.py; the command: tests/cli/test_lr_find.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

from nn import MLP, get_optimizer
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
