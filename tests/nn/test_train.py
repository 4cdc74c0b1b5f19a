"""The training loop: learning, determinism, callbacks, stop, pause, divergence."""
import threading

import numpy as np
import pytest

from nn import MLP, FitOptions, PauseOnEvent, StopOnEvent, fit
from nn.optim import SGD, Adam

LOG_KEYS = {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "lr"}


class Recorder:
    def __init__(self):
        self.epochs, self.logs, self.ended = [], [], None

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(epoch)
        self.logs.append(dict(logs))

    def on_train_end(self, logs):
        self.ended = logs


def test_learns_blobs_and_reports_logs(blobs):
    rec = Recorder()
    model = MLP([20, 32, 10], seed=0)
    result = fit(model, Adam(0.01), blobs, FitOptions(epochs=5, batch_size=32), [rec])
    assert result.status == "finished" and result.message == ""
    assert rec.epochs == [1, 2, 3, 4, 5]
    assert set(rec.logs[0]) >= LOG_KEYS
    assert rec.logs[-1]["train_loss"] < rec.logs[0]["train_loss"]
    assert rec.logs[-1]["test_acc"] > 0.9
    assert rec.ended == {"status": "finished", "message": ""}
    assert result.history == rec.logs


def test_train_loss_is_mean_of_batch_losses(blobs):
    """Replays the loop by hand with the same seeded shuffle and checks logs['train_loss']."""
    model, twin = MLP([20, 8, 10], seed=5), MLP([20, 8, 10], seed=5)
    result = fit(model, SGD(0.1), blobs, FitOptions(epochs=1, batch_size=100, seed=9))
    order = np.random.default_rng([9, 1]).permutation(len(blobs.y_train))  # epoch 1's shuffle
    opt, losses = SGD(0.1), []
    for start in range(0, len(order), 100):
        idx = order[start:start + 100]
        loss, _ = twin.backprop(blobs.x_train[idx], blobs.y_train[idx])
        opt.step([twin.flat_params], [twin.flat_grads])
        losses.append(loss)
    assert result.history[0]["train_loss"] == pytest.approx(np.mean(losses), rel=1e-6)
    np.testing.assert_allclose(model.flat_params, twin.flat_params, rtol=1e-6)


def test_same_seed_gives_identical_history(blobs):
    def run(seed):
        result = fit(MLP([20, 16, 10], seed=seed), Adam(0.01), blobs, FitOptions(epochs=3, batch_size=16, seed=seed))
        return [{k: v for k, v in h.items() if k not in ("seconds", "elapsed")} for h in result.history]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_stop_event_takes_effect_within_one_batch(blobs):
    stop = threading.Event()
    batches = []

    class StopAfterTwoBatches(SGD):
        def step(self, params, grads):
            super().step(params, grads)
            batches.append(1)
            if len(batches) == 2:
                stop.set()

    result = fit(MLP([20, 8, 10]), StopAfterTwoBatches(0.1), blobs, FitOptions(epochs=5, batch_size=10),
                 [StopOnEvent(stop)])
    assert result.status == "stopped"
    assert len(batches) == 2  # no batch ran after the stop was requested
    assert result.history == []  # the first epoch never finished


def test_pause_holds_training_until_resumed(blobs):
    pause, steps = threading.Event(), []
    pause.set()

    class Counting(SGD):
        def step(self, params, grads):
            steps.append(1)
            super().step(params, grads)

    thread = threading.Thread(target=fit, args=(MLP([20, 8, 10]), Counting(0.1), blobs,
                                                FitOptions(epochs=1, batch_size=50), [PauseOnEvent(pause)]))
    thread.start()
    thread.join(0.3)
    assert steps == [] and thread.is_alive()
    pause.clear()
    thread.join(10)
    assert not thread.is_alive() and len(steps) == 12


def test_huge_learning_rate_ends_as_diverged_not_exception(blobs):
    result = fit(MLP([20, 64, 10], seed=0), SGD(1e6), blobs, FitOptions(epochs=3, batch_size=32))
    assert result.status == "diverged"
    assert "learning rate" in result.message and "lower" in result.message


def test_diagnostics_in_logs(blobs):
    rec = Recorder()
    fit(MLP([20, 16, 10], seed=0), Adam(0.01), blobs, FitOptions(epochs=1, batch_size=32), [rec])
    assert 0.0 <= rec.logs[0]["dead_fraction"] <= 1.0
    assert 0.1 <= rec.logs[0]["majority_fraction"] <= 1.0


def test_float32_curves_track_float64(blobs):
    def curve(dtype):
        result = fit(MLP([20, 16, 10], seed=0, dtype=dtype), Adam(0.005), blobs, FitOptions(epochs=4, batch_size=32))
        return np.array([h["train_loss"] for h in result.history])

    np.testing.assert_allclose(curve(np.float32), curve(np.float64), rtol=1e-3)


@pytest.mark.parametrize("bad", [dict(batch_size=0), dict(initial_epoch=4), dict(initial_epoch=-1), dict(seed=-1),
                                 dict(l2=-0.1), dict(reduction="median")])
def test_fit_options_refuse_bad_values(bad):
    with pytest.raises(ValueError):
        FitOptions(**{"epochs": 3, "batch_size": 8, **bad})


def test_epoch_shuffle_depends_only_on_seed_and_epoch(blobs):
    """Epoch 3 trained from the same starting weights sees the same batches whether or not epochs 1-2 ran."""
    seen = {}

    class Batches(SGD):
        def step(self, params, grads):
            seen.setdefault(self.tag, []).append(grads[0].copy())
            super().step(params, grads)

    first, resumed = Batches(0.1), Batches(0.1)
    first.tag, resumed.tag = "first", "resumed"
    fit(MLP([20, 8, 10], seed=3), first, blobs, FitOptions(epochs=3, batch_size=100, seed=4))
    start = MLP([20, 8, 10], seed=3)
    fit(start, SGD(0.1), blobs, FitOptions(epochs=2, batch_size=100, seed=4))
    fit(start, resumed, blobs, FitOptions(epochs=3, batch_size=100, seed=4, initial_epoch=2))
    for a, b in zip(seen["first"][-6:], seen["resumed"]):
        np.testing.assert_array_equal(a, b)


def test_initial_epoch_numbers_the_epochs(blobs):
    result = fit(MLP([20, 8, 10]), SGD(0.1), blobs, FitOptions(epochs=4, batch_size=100, initial_epoch=2))
    assert [h["epoch"] for h in result.history] == [3, 4]
