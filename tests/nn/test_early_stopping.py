"""Early stopping: stops after `patience` epochs without improvement, restores the best epoch's weights."""
import pytest

from nn import MLP, Callback, FitOptions, RunStatus, evaluate, fit, split_validation
from nn.callbacks import RunState
from nn.early_stopping import EarlyStopping, best_epoch
from nn.optim import Adam
from tests.conftest import make_blobs


def overfitting_data():
    """Few noisy training examples and a big network: validation loss rises after a few epochs."""
    return split_validation(make_blobs(n_train=300, features=20, seed=4), 200)


def drive(stopper, values, monitor="val_loss"):
    """Feed ``values`` as successive epochs' logs; return the epochs seen before the stop request."""
    loop = RunState(MLP([2, 2]), Adam(0.1), FitOptions(epochs=len(values), batch_size=1))
    stopper.set_loop(loop)
    for epoch, value in enumerate(values, start=1):
        stopper.on_epoch_end(epoch, {"epoch": epoch, monitor: value})
        if loop.stop_requested:
            return epoch, loop
    return len(values), loop


def test_patience_counts_epochs_without_improvement():
    epoch, loop = drive(EarlyStopping(patience=2, restore_best_weights=False), [1.0, 0.8, 0.9, 0.85, 0.7])
    assert epoch == 4 and loop.status == RunStatus.FINISHED
    assert "early stopping after epoch 4" in loop.message and "at epoch 2" in loop.message


def test_min_delta_and_accuracy_direction():
    stopper = EarlyStopping("val_acc", patience=1, min_delta=0.05, restore_best_weights=False)
    epoch, _ = drive(stopper, [0.5, 0.54, 0.6], monitor="val_acc")
    assert epoch == 2 and stopper.best_epoch == 1  # +0.04 is not more than min_delta
    assert drive(EarlyStopping("val_acc", patience=1), [0.5, 0.6, 0.7], monitor="val_acc")[0] == 3


def test_restored_weights_evaluate_to_the_best_epochs_logged_metrics():
    data = overfitting_data()
    stopper = EarlyStopping("val_loss", patience=3)
    model = MLP([20, 256, 10], seed=0)
    result = fit(model, Adam(0.03), data, FitOptions(epochs=40, batch_size=10), [stopper])
    assert result.status == RunStatus.FINISHED and result.message.startswith("early stopping after epoch")
    assert stopper.best_epoch < result.history[-1]["epoch"]  # restoring mattered
    assert stopper.best_logs == best_epoch(result.history, "val_loss")
    restored = evaluate(model, data.x_val, data.y_val)
    assert restored["loss"] == stopper.best_logs["val_loss"] and restored["acc"] == stopper.best_logs["val_acc"]


def test_without_restoring_the_last_weights_stay():
    data = overfitting_data()
    model = MLP([20, 256, 10], seed=0)
    result = fit(model, Adam(0.03), data, FitOptions(epochs=40, batch_size=10), [EarlyStopping(patience=3,
                                                                                 restore_best_weights=False)])
    assert evaluate(model, data.x_val, data.y_val)["loss"] == result.history[-1]["val_loss"]


def test_no_validation_split_is_refused_before_training():
    trained = []

    class Count(Callback):
        def on_batch_end(self, batch, logs):
            trained.append(batch)

    with pytest.raises(ValueError, match="no validation split"):
        fit(MLP([20, 8, 10]), Adam(0.01), make_blobs(), FitOptions(3, 50), [EarlyStopping(), Count()])
    assert trained == []


@pytest.mark.parametrize("kwargs", [dict(patience=0), dict(patience=1.5), dict(min_delta=-1), dict(monitor="loss")])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="early stopping"):
        EarlyStopping(**kwargs)


def test_best_epoch_of_a_history():
    history = [{"epoch": 1, "val_acc": 0.5}, {"epoch": 2, "val_acc": 0.7}, {"epoch": 3, "val_acc": 0.7}]
    assert best_epoch(history, "val_acc")["epoch"] == 2
    assert best_epoch([{"epoch": 1}], "val_acc") is None


def test_its_state_goes_on_where_it_was():
    """Saved after two epochs without improvement, loaded into a fresh one: it stops one epoch later, as the
    uninterrupted one does, with the best epoch's logs and weights."""
    whole = EarlyStopping(patience=3)
    assert drive(whole, [1.0, 0.5, 0.6, 0.7, 0.8])[0] == 5
    first = EarlyStopping(patience=3)
    drive(first, [1.0, 0.5, 0.6, 0.7])
    state = first.state_dict()
    assert state["best_weights"] is not first.best_weights and state["wait"] == 2
    resumed = EarlyStopping(patience=3)
    resumed.load_state_dict(state)
    loop = RunState(MLP([2, 2]), Adam(0.1), FitOptions(epochs=5, batch_size=1))
    resumed.set_loop(loop)
    resumed.on_epoch_end(5, {"epoch": 5, "val_loss": 0.8})
    assert loop.stop_requested and (resumed.best_epoch, resumed.stopped_epoch) == (2, 5)
    assert resumed.best_weights is not None and loop.message == whole.loop.message


def test_a_state_it_stopped_at_starts_a_fresh_patience_and_another_monitor_is_refused():
    stopped = EarlyStopping(patience=1)
    drive(stopped, [1.0, 2.0])
    assert stopped.stopped_epoch == 2
    again = EarlyStopping(patience=1)
    again.load_state_dict(stopped.state_dict())
    assert (again.wait, again.stopped_epoch, again.best_epoch) == (0, 0, 1)  # continued for more epochs
    with pytest.raises(ValueError, match="monitors val_loss"):
        EarlyStopping("val_acc").load_state_dict(stopped.state_dict())
