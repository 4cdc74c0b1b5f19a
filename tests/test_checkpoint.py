"""Checkpoints: a resumed run replays an uninterrupted one bit for bit; bad files give one clear error."""
import numpy as np
import pytest

import nn.checkpoint as checkpoint
from nn import MLP, CheckpointError, FitOptions, fit, load_checkpoint, save_checkpoint
from nn.checkpoint import SaveCheckpoint
from nn.optim import SGD, Adam, Momentum, RMSprop

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
    rest = fit(ckpt.model, ckpt.optimizer, blobs,
               FitOptions(epochs=5, batch_size=32, l2=1e-4, seed=ckpt.seed, initial_epoch=ckpt.epoch))
    assert numbers(ckpt.history + rest.history) == numbers(straight.history)
    np.testing.assert_array_equal(ckpt.model.flat_params, straight_model.flat_params)


def test_save_checkpoint_callback_keeps_the_latest_epoch(blobs, tmp_path):
    path = tmp_path / "run.npz"
    model, optimizer = MLP([20, 8, 10]), Adam(0.01)
    result = fit(model, optimizer, blobs, FitOptions(epochs=3, batch_size=50), [SaveCheckpoint(path)])
    ckpt = load_checkpoint(path)
    assert ckpt.epoch == 3 and ckpt.optimizer.steps == optimizer.steps
    assert numbers(ckpt.history) == numbers(result.history)
    np.testing.assert_array_equal(ckpt.model.flat_params, model.flat_params)
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary files left behind


def test_load_into_given_objects(blobs, tmp_path):
    model, optimizer = MLP([20, 8, 10], seed=2), Adam(0.01)
    fit(model, optimizer, blobs, FitOptions(epochs=1, batch_size=50))
    save_checkpoint(tmp_path / "c.npz", model, optimizer, epoch=1, seed=0)
    target, target_opt = MLP([20, 8, 10], seed=9), Adam(0.5)
    ckpt = load_checkpoint(tmp_path / "c.npz", target, target_opt)
    assert ckpt.model is target and ckpt.optimizer is target_opt and target_opt.lr == 0.01
    np.testing.assert_array_equal(target.flat_params, model.flat_params)


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
        load_checkpoint(path, target)
    np.testing.assert_array_equal(target.flat_params, before)


def test_other_optimizer_is_refused(tmp_path):
    path = saved(tmp_path)
    target = MLP([20, 8, 10])
    before = target.flat_params.copy()
    with pytest.raises(CheckpointError, match="adam"):
        load_checkpoint(path, target, SGD(0.1))
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
        [SaveCheckpoint(tmp_path / "c.npz")])
    ckpt = load_checkpoint(tmp_path / "c.npz")
    assert ckpt.model.dropout == 0.3 and ckpt.model.init == "glorot"
    rest = fit(ckpt.model, ckpt.optimizer, blobs, FitOptions(epochs=4, batch_size=32, seed=3, initial_epoch=1))
    assert numbers(ckpt.history + rest.history) == numbers(straight.history)
