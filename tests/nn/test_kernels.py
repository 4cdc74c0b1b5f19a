"""The fused optimizer kernels give exactly the NumPy reference's numbers, and the reference still runs without them."""
import numpy as np
import pytest

from nn import kernels
from nn.optim import SGD, Adam, Momentum, RMSprop

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="Numba is not installed: the NumPy reference runs")


def run(make, fused: bool, dtype, steps: int = 60, n: int = 10_001, seed: int = 0):
    """Parameters after ``steps`` updates with gradients of several scales (and some zeros, so eps matters)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(dtype), rng.standard_normal(7).astype(dtype)]
    opt = make()
    opt.fused = fused
    for _ in range(steps):
        grads = [(rng.standard_normal(p.shape) * 10.0 ** rng.integers(-6, 2)).astype(dtype) for p in params]
        grads[0][:: 97] = 0
        opt.step(params, grads)
    return params, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [lambda: Adam(1e-3), lambda: Adam(0.05, beta1=0.5, beta2=0.9, eps=1e-6),
                                  lambda: Momentum(0.01), lambda: Momentum(0.3, momentum=0.5),
                                  lambda: RMSprop(1e-3), lambda: RMSprop(0.02, rho=0.5, eps=1e-5),
                                  lambda: SGD(0.1)])
def test_kernel_equals_reference_bit_for_bit(make, dtype):
    fused, fused_opt = run(make, True, dtype)
    reference, reference_opt = run(make, False, dtype)
    for a, b in zip(fused, reference):
        assert a.dtype == dtype and np.array_equal(a, b)
    for i in reference_opt.state:  # the saved state too, so a checkpoint resumes either way
        for key in reference_opt.state[i]:
            assert np.array_equal(fused_opt.state[i][key], reference_opt.state[i][key])


def test_kernel_is_used_when_available():
    """Guards the wiring: the fused step must actually run (it is the point), so count its calls."""
    calls = []
    original = kernels.adam_kernel
    try:
        kernels.adam_kernel = lambda *a: (calls.append(1), original(*a))
        run(lambda: Adam(1e-3), True, np.float32, steps=3)
    finally:
        kernels.adam_kernel = original
    assert calls


def test_arrays_the_kernel_cannot_take_fall_back_to_the_reference():
    p = np.ones((4, 3), dtype=np.float32)[:, 0]  # not contiguous
    assert not kernels.fusable(p, p.copy(), p.copy())
    assert not kernels.fusable(np.ones(3, np.float32), np.ones(3, np.float64))
    assert not kernels.fusable(np.ones(3, np.int64))
    opt, ref = Adam(0.1), Adam(0.1)
    ref.fused = False
    a, b = np.ones((5, 4), np.float32)[:, 1], np.ones((5, 4), np.float32)[:, 1]
    g = np.linspace(-1, 1, 5, dtype=np.float32)
    opt.step([a], [g])
    ref.step([b], [g])
    assert np.array_equal(a, b) and not np.array_equal(a, np.ones(5, np.float32))


@pytest.mark.parametrize("make", [lambda: Adam(1e-3), lambda: Momentum(0.01), lambda: RMSprop(1e-3), lambda: SGD(0.1)])
def test_a_gradient_of_another_size_is_refused_not_read_past_its_end(make):
    """The loops index every array up to the parameters' size: a shorter gradient must raise, as NumPy does."""
    opt = make()
    params, grads = [np.ones(1000, np.float32)], [np.ones(10, np.float32)]
    with pytest.raises(ValueError):
        opt.step(params, grads)
    assert (params[0] == 1).all()  # nothing was written
