"""The validation split: held out from training only, stratified, the same for every run and seed."""
import numpy as np
import pytest

from nn import MLP, FitOptions, fit
from nn.data import SPLIT_SEED, split_validation, validation_indices
from nn.optim import SGD, Adam
from tests.conftest import make_blobs


def rows(x):
    return {r.tobytes() for r in x}


def test_train_and_validation_are_disjoint_and_cover_the_training_set():
    data = make_blobs(n_train=500)
    split = split_validation(data, 100)
    assert len(split.y_val) == 100 and len(split.y_train) == 400
    assert not rows(split.x_train) & rows(split.x_val)
    assert rows(split.x_train) | rows(split.x_val) == rows(data.x_train)
    np.testing.assert_array_equal(split.x_test, data.x_test)  # the test split is untouched


def test_split_is_identical_across_calls_and_independent_of_run_seed():
    y = make_blobs(n_train=1000).y_train
    first = validation_indices(y, 200)
    np.testing.assert_array_equal(first, validation_indices(y, 200))
    np.testing.assert_array_equal(first, validation_indices(y, 200, SPLIT_SEED))
    assert not np.array_equal(first, validation_indices(y, 200, seed=SPLIT_SEED + 1))
    split = split_validation(make_blobs(n_train=1000), 200)
    a = fit(MLP([20, 8, 10], seed=1), SGD(0.1), split, FitOptions(1, 50, seed=1))
    b = fit(MLP([20, 8, 10], seed=1), SGD(0.1), split, FitOptions(1, 50, seed=2))
    assert a.history[0]["val_loss"] != b.history[0]["val_loss"]  # runs differ, the data they see does not
    np.testing.assert_array_equal(split_validation(make_blobs(n_train=1000), 200).x_val, split.x_val)


def test_class_proportions_are_preserved():
    y = np.repeat(np.arange(10), [500, 100, 100, 100, 100, 100, 50, 50, 200, 200])  # 1,500 labels
    held = y[validation_indices(y, 300)]
    np.testing.assert_array_equal(np.bincount(held, minlength=10), [100, 20, 20, 20, 20, 20, 10, 10, 40, 40])
    uneven = y[validation_indices(y, 7)]
    assert len(uneven) == 7 and np.bincount(uneven, minlength=10)[0] >= 2  # the biggest class gets its share


def test_zero_means_no_validation_and_bad_sizes_are_refused():
    data = make_blobs(n_train=100)
    assert split_validation(data, 0) is data and not data.has_validation
    for bad in (-1, 100, 1000):
        with pytest.raises(ValueError, match="validation size"):
            split_validation(data, bad)
    with pytest.raises(ValueError, match="already"):
        split_validation(split_validation(data, 10), 10)


def test_fit_logs_validation_metrics_only_when_there_is_a_split():
    data = make_blobs(n_train=400)
    with_val = fit(MLP([20, 8, 10]), Adam(0.01), split_validation(data, 100), FitOptions(2, 50))
    without = fit(MLP([20, 8, 10]), Adam(0.01), data, FitOptions(2, 50))
    assert {"val_loss", "val_acc"} <= set(with_val.history[0]) and 0 <= with_val.history[1]["val_acc"] <= 1
    assert not {"val_loss", "val_acc"} & set(without.history[0])


def test_real_mnist_validation_never_overlaps_test(mnist_dir):
    from nn import load_mnist
    data = load_mnist(mnist_dir, validation=10_000)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (50_000, 10_000, 10_000)
    full_train, val, test = rows(load_mnist(mnist_dir).x_train), rows(data.x_val), rows(data.x_test)
    assert val <= full_train and val.isdisjoint(rows(data.x_train))
    assert val & test <= full_train & test  # any shared image is one MNIST itself has in both files
    assert load_mnist(mnist_dir, validation=10_000) is data  # cached: one copy per process and size
    counts = np.bincount(data.y_val, minlength=10) / 10_000
    np.testing.assert_allclose(counts, np.bincount(load_mnist(mnist_dir).y_train) / 60_000, atol=1e-4)


def test_dataset_checks_its_validation_arrays():
    data = make_blobs(n_train=50)
    assert data.x_val.shape == (0, 20)  # empty, with the right width
    with pytest.raises(ValueError, match="x_val has 3 rows"):
        type(data)(data.x_train, data.y_train, data.x_test, data.y_test, x_val=data.x_train[:3], y_val=data.y_train[:2])
