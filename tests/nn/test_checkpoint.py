"""Checkpoints: a resumed run replays an uninterrupted one bit for bit, its callbacks' state included; bad
files give one clear error and change nothing."""
import numpy as np
import pytest

import nn.checkpoint as checkpoint
from nn import (
    MLP,
    BackupAndRestore,
    CheckpointError,
    EarlyStopping,
    FitOptions,
    LearningRateScheduler,
    RunClock,
    fit,
    load_checkpoint,
    save_checkpoint,
    split_validation,
)
from nn.dynamics import LayerMonitor
from nn.optim import SGD, Adam, Momentum, RMSprop
from nn.schedules import Cosine
from tests.conftest import make_blobs

TIMING = ("seconds", "elapsed")


def numbers(history):
    return [{k: v for k, v in h.items() if k not in TIMING} for h in history]


@pytest.mark.parametrize("make_optimizer", [lambda: Adam(0.01), lambda: Momentum(0.05), lambda: RMSprop(0.005)])
def test_resume_after_two_epochs_equals_a_straight_five_epoch_run(blobs, tmp_path, make_optimizer):
    straight_model = MLP([20, 16, 10], seed=1)
    straight = fit(straight_model, make_optimizer(), blobs, FitOptions(epochs=5, batch_size=32, l2=1e-4, seed=7))

    model, optimizer = MLP([20, 16, 10], seed=1), make_optimizer()
    first = fit(model, optimizer, blobs, FitOptions(epochs=2, batch_size=32, l2=1e-4, seed=7))
    save_checkpoint(tmp_path / "run.npz", model, optimizer, epoch=2, seed=7, history=first.history)
    del model, optimizer

    ckpt = load_checkpoint(tmp_path / "run.npz")
    assert (ckpt.epoch, ckpt.seed) == (2, 7)
    model, optimizer = ckpt.build()
    rest = fit(model, optimizer, blobs,
               FitOptions(epochs=5, batch_size=32, l2=1e-4, seed=ckpt.seed, initial_epoch=ckpt.epoch))
    assert numbers(ckpt.history + rest.history) == numbers(straight.history)
    np.testing.assert_array_equal(model.flat_params, straight_model.flat_params)


def test_backup_and_restore_keeps_the_latest_epoch(blobs, tmp_path):
    path = tmp_path / "run.npz"
    model, optimizer = MLP([20, 8, 10]), Adam(0.01)
    result = fit(model, optimizer, blobs, FitOptions(epochs=3, batch_size=50), [BackupAndRestore(path)])
    ckpt = load_checkpoint(path)
    restored, restored_optimizer = ckpt.build()
    assert ckpt.epoch == 3 and restored_optimizer.steps == optimizer.steps
    assert numbers(ckpt.history) == numbers(result.history)
    np.testing.assert_array_equal(restored.flat_params, model.flat_params)
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary files left behind


def test_restore_into_given_objects(blobs, tmp_path):
    model, optimizer = MLP([20, 8, 10], seed=2), Adam(0.01)
    fit(model, optimizer, blobs, FitOptions(epochs=1, batch_size=50))
    save_checkpoint(tmp_path / "c.npz", model, optimizer, epoch=1, seed=0)
    target, target_opt = MLP([20, 8, 10], seed=9), Adam(0.5)
    load_checkpoint(tmp_path / "c.npz").restore(target, target_opt)
    assert target_opt.lr == 0.01 and target_opt.steps == optimizer.steps
    np.testing.assert_array_equal(target.flat_params, model.flat_params)


def pieces(epochs=40):
    """A model, optimizer and every stateful callback of a run that early stopping ends on noisy data."""
    callbacks = [EarlyStopping("val_loss", patience=2), LearningRateScheduler(Cosine(lr=0.05, epochs=epochs)),
                 LayerMonitor(probes=1, sample_size=32), RunClock()]
    return MLP([20, 64, 10], seed=1, dropout=0.2), Adam(0.05), callbacks


def test_every_stateful_callback_resumes_where_it_was(tmp_path):
    """Cut after the best epoch with patience partly used, restored into freshly built pieces: early stopping
    stops at the same epoch with the same weights and message, the schedule keeps its length, the dynamics
    keep their histogram bins, the clock goes on."""
    data = split_validation(make_blobs(n_train=300, features=20, seed=4), 200)
    options = FitOptions(epochs=40, batch_size=10, seed=5)
    model, optimizer, callbacks = pieces()
    whole = fit(model, optimizer, data, options, callbacks)
    stopper, monitor = callbacks[0], callbacks[2]
    assert stopper.stopped_epoch, "the test needs a run that early stopping ends"
    cut = stopper.stopped_epoch - 1
    first_model, first_optimizer, first_callbacks = pieces()
    fit(first_model, first_optimizer, data, FitOptions(epochs=cut, batch_size=10, seed=5),
        [*first_callbacks, BackupAndRestore(tmp_path / "c.npz")])

    resumed_model, resumed_optimizer, resumed_callbacks = pieces(epochs=99)  # a schedule built anew differs
    backup = BackupAndRestore(tmp_path / "c.npz")
    ckpt = load_checkpoint(tmp_path / "c.npz")
    assert set(ckpt.callbacks) == {"EarlyStopping", "LearningRateScheduler", "LayerMonitor", "RunClock"}
    ckpt.restore(resumed_model, resumed_optimizer, [*resumed_callbacks, backup])
    rest = fit(resumed_model, resumed_optimizer, data, FitOptions(epochs=40, batch_size=10, seed=5,
                                                                  initial_epoch=ckpt.epoch),
               [*resumed_callbacks, backup])
    assert numbers(ckpt.history + rest.history) == numbers(whole.history)
    assert (rest.status, rest.message) == (whole.status, whole.message)
    np.testing.assert_array_equal(resumed_model.flat_params, model.flat_params)
    assert resumed_callbacks[2]._limits == monitor._limits
    assert [h["elapsed"] for h in ckpt.history + rest.history] == sorted(h["elapsed"] for h in ckpt.history
                                                                         + rest.history)
    assert numbers(load_checkpoint(tmp_path / "c.npz").history) == numbers(whole.history)  # the whole run's


def test_a_callback_state_that_does_not_fit_is_refused_and_nothing_changes(tmp_path):
    model, optimizer = MLP([20, 8, 10]), Adam(0.01)
    save_checkpoint(tmp_path / "c.npz", model, optimizer, epoch=1, seed=0, callbacks=[EarlyStopping("val_loss")])
    target, target_opt, stopper = MLP([20, 8, 10], seed=3), Adam(0.5), EarlyStopping("val_acc")
    before = target.flat_params.copy()
    with pytest.raises(CheckpointError, match="cannot restore the state of EarlyStopping"):
        load_checkpoint(tmp_path / "c.npz").restore(target, target_opt, [stopper])
    np.testing.assert_array_equal(target.flat_params, before)
    assert target_opt.lr == 0.5 and stopper.monitor == "val_acc"


def saved(tmp_path, sizes=(20, 8, 10)):
    model, optimizer = MLP(list(sizes)), Adam(0.01)
    optimizer.step([model.flat_params], [np.ones_like(model.flat_params)])
    save_checkpoint(tmp_path / "c.npz", model, optimizer, epoch=1, seed=0, history=[{"epoch": 1}])
    return tmp_path / "c.npz"


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "absent.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_truncated_file(tmp_path, keep):
    path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="truncated or corrupted") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


def test_other_architecture_is_refused_and_the_target_left_alone(tmp_path):
    path = saved(tmp_path)
    target = MLP([20, 16, 10])
    before = target.flat_params.copy()
    with pytest.raises(CheckpointError, match="20-8-10 relu float32 network, not the 20-16-10"):
        load_checkpoint(path).restore(target, Adam(0.01))
    np.testing.assert_array_equal(target.flat_params, before)


def test_other_optimizer_is_refused(tmp_path):
    path = saved(tmp_path)
    target = MLP([20, 8, 10])
    before = target.flat_params.copy()
    with pytest.raises(CheckpointError, match="adam"):
        load_checkpoint(path).restore(target, SGD(0.1))
    np.testing.assert_array_equal(target.flat_params, before)


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.np, "savez", broken_savez)
    with pytest.raises(OSError):
        save_checkpoint(path, MLP([20, 8, 10]), Adam(0.1), epoch=2, seed=0)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_no_pickle_in_the_file(tmp_path):
    with np.load(saved(tmp_path), allow_pickle=False) as f:
        assert all(f[key].dtype != object for key in f.files)


def test_resume_with_dropout_equals_a_straight_run(blobs, tmp_path):
    def model():
        return MLP([20, 16, 10], seed=1, dropout=0.3, init="glorot")

    straight = fit(model(), Adam(0.01), blobs, FitOptions(epochs=4, batch_size=32, seed=3))
    first_model, optimizer = model(), Adam(0.01)
    fit(first_model, optimizer, blobs, FitOptions(epochs=1, batch_size=32, seed=3),
        [BackupAndRestore(tmp_path / "c.npz")])
    ckpt = load_checkpoint(tmp_path / "c.npz")
    resumed, resumed_optimizer = ckpt.build()
    assert resumed.dropout == 0.3 and resumed.init == "glorot"
    rest = fit(resumed, resumed_optimizer, blobs, FitOptions(epochs=4, batch_size=32, seed=3, initial_epoch=1))
    assert numbers(ckpt.history + rest.history) == numbers(straight.history)
