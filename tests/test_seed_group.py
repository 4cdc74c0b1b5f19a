"""A seed group trains each model exactly as fit trains it alone: same parameters, same logs, bit for bit."""
import threading

import numpy as np
import pytest

from nn import MLP, fit
from nn.optim import SGD, Adam, Momentum
from nn.seed_group import StackedMLP, fit_group

COMPARED = ("train_loss", "train_acc", "test_loss", "test_acc", "majority_fraction", "dead_fraction", "epoch")


def alone(sizes, make_optimizer, data, seeds, **kw):
    models = [MLP(sizes, seed=s) for s in seeds]
    return models, [fit(m, make_optimizer(), data, seed=s, **kw) for m, s in zip(models, seeds)]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("make_optimizer, l2, reduction", [(lambda: Adam(1e-2), 0.0, "mean"),
                                                           (lambda: Momentum(0.05), 1e-3, "mean"),
                                                           (lambda: SGD(0.01), 0.0, "sum")])
def test_group_matches_fit_bit_for_bit(blobs, threads, make_optimizer, l2, reduction):
    sizes, seeds, kw = [20, 16, 12, 10], [4, 0, 7], dict(epochs=3, batch_size=48, l2=l2, reduction=reduction)
    want_models, want = alone(sizes, make_optimizer, blobs, seeds, **kw)
    models = [MLP(sizes, seed=s) for s in seeds]
    got = fit_group(models, make_optimizer, blobs, seeds=seeds, threads=threads, **kw)
    for model, result, want_model, want_result in zip(models, got, want_models, want):
        assert np.array_equal(model.flat_params, want_model.flat_params)
        assert result.status == want_result.status and len(result.history) == 3
        for logs, want_logs in zip(result.history, want_result.history):
            assert {k: logs[k] for k in COMPARED} == {k: want_logs[k] for k in COMPARED}


def test_group_matches_fit_on_mnist(mnist):
    data = mnist.subset(3000, 1000)
    sizes, seeds, kw = [784, 64, 10], [1, 2, 3], dict(epochs=2, batch_size=64)
    want_models, _ = alone(sizes, lambda: Adam(1e-3), data, seeds, **kw)
    models = [MLP(sizes, seed=s) for s in seeds]
    fit_group(models, lambda: Adam(1e-3), data, seeds=seeds, threads=2, **kw)
    for model, want_model in zip(models, want_models):
        assert np.array_equal(model.flat_params, want_model.flat_params)


def test_a_diverging_model_stops_alone_and_keeps_its_last_good_parameters(blobs):
    """lr 50 sends plain SGD on summed losses to overflow; the group's other models are unaffected."""
    sizes, kw = [20, 16, 10], dict(epochs=2, batch_size=100, reduction="sum")
    lrs = iter([50.0, 0.01])  # a part per thread: the first gets the exploding step size
    bad, good = MLP(sizes, seed=1), MLP(sizes, seed=2)
    got = fit_group([bad, good], lambda: SGD(next(lrs)), blobs, seeds=[1, 2], threads=2, **kw)
    want_bad, want_good = MLP(sizes, seed=1), MLP(sizes, seed=2)
    alone_bad = fit(want_bad, SGD(50.0), blobs, seed=1, **kw)
    fit(want_good, SGD(0.01), blobs, seed=2, **kw)
    assert got[0].status == alone_bad.status == "diverged" and got[0].message == alone_bad.message
    assert np.array_equal(bad.flat_params, want_bad.flat_params, equal_nan=True)
    assert got[1].status == "finished" and np.array_equal(good.flat_params, want_good.flat_params)


def test_a_set_stop_event_stops_every_model(blobs):
    stop = threading.Event()
    stop.set()
    results = fit_group([MLP([20, 8, 10], seed=s) for s in (0, 1)], lambda: Adam(1e-3), blobs, epochs=2,
                        batch_size=50, seeds=[0, 1], stop_event=stop)
    assert [r.status for r in results] == ["stopped", "stopped"] and not results[0].history


def test_models_of_different_shapes_cannot_be_stacked():
    with pytest.raises(ValueError, match="one architecture"):
        StackedMLP([MLP([4, 3, 2]), MLP([4, 5, 2])])
