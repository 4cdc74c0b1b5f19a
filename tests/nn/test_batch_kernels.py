"""The per-batch kernels (bias + ReLU, ReLU's derivative, softmax cross-entropy) give the NumPy reference's numbers.

Each test runs a function twice, with the kernels and with ``kernels.batch_fused`` set False (the NumPy
reference), and compares the bits: signed zeros and NaNs included. A whole fit compares the kernels with
``kernels.AVAILABLE`` False, all reference, as ``MLP_KERNELS=numpy`` selects.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from nn import MLP, activations, kernels, losses
from nn.loop import FitOptions, fit
from nn.optim import Adam
from tests.conftest import ROOT, make_blobs

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="Numba is not installed: the NumPy reference runs")
DTYPES = [np.float32, np.float64]
SHAPES = [(1, 1), (1, 128), (7, 13), (64, 128), (3, 5, 7)]


def both_ways(monkeypatch, function, *arrays):
    """``function`` on copies of ``arrays``, with the kernels and then with the reference: (fused, reference)."""
    results = []
    for fused in (True, False):
        monkeypatch.setattr(kernels, "batch_fused", fused)
        copies = [a.copy() for a in arrays]
        with np.errstate(all="ignore"):  # inf * 0 and the like: the reference warns, the kernels do not
            results.append((function(*copies), copies))
    return results


def same_bits(a, b):
    """Equal to the bit: NaN equals NaN, 0.0 differs from -0.0."""
    a, b = np.asarray(a), np.asarray(b)
    bits = f"u{a.itemsize}"
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(bits), b.view(bits))


def awkward(shape, dtype, seed=0):
    """Normal values with NaN, +-inf and +-0.0 sprinkled in (NaN must survive: it is how divergence shows)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    for i, special in enumerate([np.nan, np.inf, -np.inf, 0.0, -0.0]):
        flat[(7 * i + 3) % flat.size] = special
    return x


def count_calls(monkeypatch, name):
    """The list that grows by one at each call of the kernel ``name`` (which still runs)."""
    calls: list[int] = []
    original = getattr(kernels, name)

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(kernels, name, counted)
    return calls


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_relu_equals_reference(monkeypatch, dtype, shape):
    b = awkward(shape[-1:], dtype, seed=1)
    (fused, [z1]), (reference, [z2]) = both_ways(monkeypatch, lambda z: activations.bias_forward("relu", z, b),
                                                 awkward(shape, dtype))
    assert fused is z1 and reference is z2 and same_bits(z1, z2)
    assert z1.size < 10 or (np.isnan(z1).any() and (z1 == 0).any())  # the special values reached the comparison


def test_a_broadcast_bias_is_left_to_the_reference(monkeypatch):
    """A (k, 1, width) bias is not the kernel's (width,) row: NumPy broadcasts it."""
    z, b = awkward((3, 4, 5), np.float32), awkward((3, 1, 5), np.float32, seed=4)
    calls = count_calls(monkeypatch, "bias_relu_kernel")
    assert same_bits(activations.bias_forward("relu", z.copy(), b), np.maximum(z + b, 0)) and not calls


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_backward_equals_reference(monkeypatch, dtype, shape):
    a = np.maximum(awkward(shape, dtype, seed=2), 0)
    grad = awkward(shape, dtype, seed=3)
    (_, [g1]), (_, [g2]) = both_ways(monkeypatch, lambda g: activations.backward("relu", a, g), grad)
    assert same_bits(g1, g2)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_other_activations_keep_their_reference(monkeypatch, name):
    z, b = awkward((5, 6), np.float32), np.linspace(-1, 1, 6, dtype=np.float32)
    (_, [z1]), (_, [z2]) = both_ways(monkeypatch, lambda z: activations.bias_forward(name, z, b), z)
    assert same_bits(z1, z2) and same_bits(z2, activations.forward(name, z + b, np.empty_like(z)))


def test_arrays_the_kernels_cannot_take_get_the_reference(monkeypatch):
    calls = count_calls(monkeypatch, "bias_relu_kernel") + count_calls(monkeypatch, "relu_backward_kernel")
    wide = awkward((6, 20), np.float32)
    z, b = wide[:, ::2], np.linspace(-1, 1, 10, dtype=np.float32)  # not contiguous
    expected = np.maximum(z + b, 0)
    assert same_bits(activations.bias_forward("relu", z, b), expected) and same_bits(wide[:, ::2], expected)
    g = np.ones((6, 10), np.float64)  # another dtype than the activations
    assert same_bits(activations.backward("relu", z, g), (z > 0).astype(np.float64))
    assert not calls


def test_kernels_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="bias"):
        kernels.bias_relu_kernel(np.ones((2, 3), np.float32), np.ones(4, np.float32))
    with pytest.raises(ValueError, match="shape"):
        kernels.relu_backward_kernel(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32))


SOFTMAX_SHAPES = [(1, 10), (16, 10), (64, 10), (37, 10), (4, 1), (7, 3), (5, 8), (9, 17), (3, 128), (2, 129)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_cross_entropy_equals_reference(monkeypatch, dtype, shape, reduction):
    """The gradient and the correct count bit for bit; the loss to float32 rounding (it adds up in float64)."""
    n, classes = shape
    rng = np.random.default_rng(n * classes)
    logits = (rng.standard_normal(shape) * 30).astype(dtype)
    logits[0, -1] = logits[0, 0]  # a tie: the first maximum is the prediction
    y = rng.integers(0, classes, n).astype(np.uint8 if n % 2 else np.int64)
    y[0] = classes - 1
    scale = 1 / n if reduction == "mean" else 1.0
    (fused, [z1]), (reference, [z2]) = both_ways(
        monkeypatch, lambda z: losses.softmax_cross_entropy_step(z, y, scale), logits)
    assert fused[2] is z1 and reference[2] is z2 and same_bits(z1, z2)
    assert fused[1] == reference[1] and fused[0] == pytest.approx(reference[0], rel=1e-6, abs=1e-6)
    (grad_fused, [g1]), (grad_reference, [g2]) = both_ways(
        monkeypatch, lambda z: losses.softmax_cross_entropy_grad(z, y, scale), logits)
    assert same_bits(g1, z1) and same_bits(g2, z1) and grad_fused[0] == fused[0]


def test_the_kernels_are_used_for_a_batch(monkeypatch):
    """Guards the wiring: a training step of 784-128-10 must run each kernel (they are the point)."""
    names = ["bias_relu_kernel", "relu_backward_kernel", "softmax_shift_kernel", "softmax_grad_kernel"]
    calls = {name: count_calls(monkeypatch, name) for name in names}
    MLP([784, 128, 10]).backprop(np.ones((16, 784), np.float32), np.arange(16) % 10)
    assert all(calls.values()), calls


def test_a_nan_logit_gives_a_nan_loss_both_ways(monkeypatch):
    logits = np.random.default_rng(0).standard_normal((4, 10)).astype(np.float32)
    logits[2, 5] = np.nan
    y = np.array([1, 2, 5, 7])
    (fused, [z1]), (reference, [z2]) = both_ways(
        monkeypatch, lambda z: losses.softmax_cross_entropy_step(z, y, 0.25), logits)
    assert np.isnan(fused[0]) and np.isnan(reference[0]) and fused[1] == reference[1]
    assert same_bits(z1, z2)


def test_softmax_kernels_refuse_labels_out_of_range():
    """The reference would silently read another row's logit; the kernel says so instead."""
    for y in ([0, 10], [-1, 3]):
        with pytest.raises(ValueError, match="label"):
            losses.softmax_cross_entropy_step(np.zeros((2, 10), np.float32), np.array(y), 0.5)
    with pytest.raises(ValueError, match="one per row"):
        losses.softmax_cross_entropy_step(np.zeros((2, 10), np.float32), np.array([1, 2, 3]), 0.5)


@pytest.mark.parametrize(("sizes", "dtype", "reduction", "dropout"), [
    ([20, 32, 10], np.float32, "mean", 0.0),
    ([20, 24, 16, 10], np.float64, "sum", 0.0),
    ([20, 32, 10], np.float32, "mean", 0.3),
])
def test_a_short_fit_is_the_same_with_the_kernels(monkeypatch, sizes, dtype, reduction, dropout):
    """Whole runs (5 epochs of 37-row batches: a partial batch every epoch) give bit-identical weights."""
    data = make_blobs(n_train=500, n_test=100)
    runs = []
    for available in (True, False):
        monkeypatch.setattr(kernels, "AVAILABLE", available)
        model = MLP(sizes, seed=3, dtype=dtype, dropout=dropout)
        result = fit(model, Adam(0.01), data, FitOptions(epochs=5, batch_size=37, seed=1, reduction=reduction))
        runs.append((model, result))
    (fused, fused_result), (reference, reference_result) = runs
    assert fused_result.history[-1]["test_acc"] > 0.5  # it learned: the comparison is not of two failures
    assert same_bits(fused.flat_params, reference.flat_params)
    for a, b in zip(fused_result.history, reference_result.history):
        assert a["train_acc"] == b["train_acc"] and a["test_loss"] == b["test_loss"]
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)


def test_mlp_kernels_numpy_selects_the_reference():
    code = "from nn import kernels; print(kernels.AVAILABLE)"
    env = {**os.environ, "MLP_KERNELS": "numpy"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
