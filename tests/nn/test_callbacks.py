"""The Keras-shaped callback hooks, their explicit order, and the controls built on them: stop, pause, divergence."""
import threading

import pytest

from nn import (
    MLP,
    BackupAndRestore,
    Callback,
    DivergenceGuard,
    EarlyStopping,
    FitOptions,
    LearningRateScheduler,
    Order,
    PauseOnEvent,
    RunClock,
    RunStatus,
    Stateful,
    StopOnEvent,
    fit,
)
from nn.batch_curve import BatchCurve
from nn.callbacks import CallbackList, RunState
from nn.dynamics import LayerMonitor
from nn.optim import SGD, Adam
from nn.schedules import Constant


class Trace(Callback):
    """Records every hook call in order."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append(("train_begin", dict(logs)))

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_begin(self, batch, logs):
        self.calls.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs):
        self.calls.append(("batch_end", batch, logs["size"]))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch))

    def on_train_end(self, logs):
        self.calls.append(("train_end", dict(logs)))


def test_hooks_run_in_keras_order(blobs):
    trace = Trace()
    small = blobs.subset(25, 10)
    fit(MLP([20, 4, 10]), SGD(0.1), small, FitOptions(epochs=2, batch_size=10), [trace])
    per_epoch = lambda e: [("epoch_begin", e), ("batch_begin", 0), ("batch_end", 0, 10), ("batch_begin", 1),  # noqa: E731
                           ("batch_end", 1, 10), ("batch_begin", 2), ("batch_end", 2, 5), ("epoch_end", e)]
    assert trace.calls == [("train_begin", {"epochs": 2, "initial_epoch": 0, "batches_per_epoch": 3}),
                           *per_epoch(1), *per_epoch(2),
                           ("train_end", {"status": RunStatus.FINISHED, "message": ""})]


def test_callbacks_get_the_run_state_and_can_end_the_run(blobs):
    class StopAfterSecond(Callback):
        def on_epoch_end(self, epoch, logs):
            assert self.loop.history[-1] is logs and self.loop.epoch == epoch
            if epoch == 2:
                self.loop.request_stop(RunStatus.STOPPED, "enough")

    late = Trace()
    result = fit(MLP([20, 4, 10]), SGD(0.1), blobs, FitOptions(epochs=5, batch_size=100), [StopAfterSecond(), late])
    assert (result.status, result.message) == (RunStatus.STOPPED, "enough")
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert ("epoch_end", 2) in late.calls  # a callback after the one that stopped still sees the epoch


def test_first_stop_request_wins():
    loop = RunState(MLP([2, 2]), SGD(0.1), FitOptions(epochs=1, batch_size=1))
    loop.request_stop(RunStatus.DIVERGED, "first")
    loop.request_stop(RunStatus.STOPPED, "second")
    assert (loop.status, loop.message) == (RunStatus.DIVERGED, "first")


def test_only_overridden_hooks_are_dispatched():
    class EpochOnly(Callback):
        def on_epoch_end(self, epoch, logs):
            pass

    class Proxy:  # no base class (e.g. a benchmark's timing proxy): only the hooks it has are called
        def on_batch_end(self, batch, logs):
            pass

    hooks = CallbackList([EpochOnly(), Proxy()], RunState(MLP([2, 2]), SGD(0.1), FitOptions(1, 1)))
    assert (len(hooks.batch_begin), len(hooks.batch_end), len(hooks.epoch_end)) == (0, 1, 1)


def test_callbacks_run_in_their_order_whatever_order_they_are_given_in(tmp_path):
    """Controls first (pause before stop), then what adds to the logs, the protocol, recorders (ties keep
    the given order), the checkpoint last: the run state lists them so."""
    stop, pause = threading.Event(), threading.Event()
    first, second = Callback(), Callback()
    given = [BackupAndRestore(tmp_path / "c.npz"), first, EarlyStopping("test_loss"), RunClock(), second,
             LearningRateScheduler(Constant(lr=0.1)), StopOnEvent(stop), PauseOnEvent(pause, stop)]
    run = RunState(MLP([2, 2]), SGD(0.1), FitOptions(1, 1))
    hooks = CallbackList(given, run)
    assert [type(cb).__name__ for cb in hooks.callbacks] == [
        "PauseOnEvent", "StopOnEvent", "RunClock", "EarlyStopping", "LearningRateScheduler", "Callback", "Callback",
        "BackupAndRestore"]
    assert hooks.callbacks.index(first) < hooks.callbacks.index(second) and run.callbacks == hooks.callbacks
    assert [cb.order for cb in hooks.callbacks] == sorted(cb.order for cb in given)
    assert DivergenceGuard.order == Order.STOP < EarlyStopping.order  # a divergence is reported, not an early stop


def test_every_stateful_piece_says_so():
    stateful = [EarlyStopping(), LearningRateScheduler(Constant(lr=0.1)), LayerMonitor(), RunClock(), SGD(0.1)]
    assert all(isinstance(piece, Stateful) for piece in stateful)
    assert not any(isinstance(cb, Stateful) for cb in (BatchCurve(), DivergenceGuard(), Callback()))


def test_stop_event_set_before_training_runs_no_batch(blobs):
    stop, trace = threading.Event(), Trace()
    stop.set()
    result = fit(MLP([20, 4, 10]), SGD(0.1), blobs, FitOptions(epochs=3, batch_size=10), [StopOnEvent(stop), trace])
    assert result.status == RunStatus.STOPPED and result.message == "stopped by the user during epoch 1"
    assert not any(call[0] == "batch_end" for call in trace.calls)


def test_divergence_guard_is_on_by_default_and_replaceable(blobs):
    options = FitOptions(epochs=2, batch_size=50)
    strict = fit(MLP([20, 8, 10]), Adam(0.01), blobs, options, [DivergenceGuard(threshold=1e-6)])
    assert strict.status == RunStatus.DIVERGED and "epoch 1, batch 1" in strict.message
    assert fit(MLP([20, 8, 10]), Adam(0.01), blobs, options).status == RunStatus.FINISHED
    exploded = fit(MLP([20, 64, 10]), SGD(1e6), blobs, options)
    assert exploded.status == RunStatus.DIVERGED and "lower it" in exploded.message


def test_divergence_found_at_evaluation_ends_the_run(blobs):
    class Overflow(Callback):  # the parameters overflow after the last batch of epoch 1
        def on_batch_end(self, batch, logs):
            if batch == 11:
                self.loop.model.flat_params[:] = float("inf")

    result = fit(MLP([20, 8, 10]), SGD(0.1), blobs, FitOptions(epochs=3, batch_size=50), [Overflow()])
    assert result.status == RunStatus.DIVERGED and "overflowed in epoch 1" in result.message
    assert len(result.history) == 1


def test_divergence_guard_rejects_a_nonpositive_threshold():
    with pytest.raises(ValueError, match="threshold"):
        DivergenceGuard(0)
