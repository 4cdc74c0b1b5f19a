"""nn/compute.py: products cut into blocks fixed by their shapes (the same numbers on any number of workers),
BLAS held at one thread while the lab computes, and subnormal floats flushed where a run trains."""
from __future__ import annotations

import statistics
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from nn import MLP, Callback, FitOptions, compute, fit, kernels
from nn.optim import Adam
from tests.conftest import make_blobs

TINY = np.float32(1e-39)  # a float32 subnormal (the smallest normal float32 is 1.18e-38)
needs_flush = pytest.mark.skipif(not compute.can_flush(), reason="no MXCSR access here (not x86-64, or no Numba)")


@pytest.fixture
def workers():
    """Set the workers for one test and put the count back afterwards."""
    before = compute.workers()
    yield compute.set_workers
    compute.set_workers(before)


def blas_threads() -> int:
    return min(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


@pytest.mark.parametrize("shape", [(64, 784, 128), (784, 64, 128), (2000, 784, 128), (64, 512, 256), (37, 300, 999)])
def test_a_plan_cuts_the_larger_factor_into_aligned_blocks_that_cover_it(shape):
    m, k, n = shape
    cut = compute.plan(m, k, n)
    assert cut is not None and cut is compute.plan(m, k, n)  # decided once per shape
    length = n if cut.axis == 1 else m
    assert cut.axis == (1 if n >= m else 0)
    assert cut.edges[0][0] == 0 and cut.edges[-1][1] == length
    assert all(stop == start for (_, stop), (start, _) in zip(cut.edges, cut.edges[1:]))
    assert all(start % compute.ALIGN == 0 for start, _ in cut.edges)
    assert 2 <= len(cut.edges) <= compute.MAX_BLOCKS


def test_small_products_run_whole():
    assert compute.plan(16, 784, 128) is None and compute.plan(64, 128, 10) is None


@pytest.mark.parametrize("transposed", [False, True])
def test_a_product_is_the_same_bits_on_one_two_or_three_workers(workers, transposed):
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    a = x.T if transposed else x  # the weight gradient's X.T is a transposed view
    b = rng.standard_normal((64 if transposed else 784, 128), dtype=np.float32)
    results = []
    with compute.arithmetic():
        for count in (1, 2, 3):
            workers(count)
            out = np.empty((a.shape[0], 128), np.float32)
            results.append(compute.matmul(a, b, out).copy())
    assert all(np.array_equal(results[0], r) for r in results[1:])
    np.testing.assert_allclose(results[0], a @ b, rtol=1e-4, atol=1e-4)


def test_a_network_trains_to_the_same_bits_on_one_worker_or_two(workers):
    data = make_blobs(n_train=640, n_test=200, features=784)
    histories = []
    for count in (1, 2):
        workers(count)
        model = MLP([784, 128, 10], seed=3)
        result = fit(model, Adam(1e-3), data, FitOptions(epochs=2, batch_size=64, seed=3))
        histories.append(([{k: v for k, v in h.items() if k not in ("seconds", "elapsed")} for h in result.history],
                          model.flat_params.copy()))
    assert histories[0][0] == histories[1][0]
    assert np.array_equal(histories[0][1], histories[1][1])


def test_an_elementwise_pass_cut_in_pieces_equals_one_call(workers):
    rng = np.random.default_rng(1)
    size = 4 * compute.ELEMENTS_PER_PIECE + 5
    start = [rng.standard_normal(size, dtype=np.float32) for _ in range(4)]
    finals = []
    for count in (1, 2, 3):
        workers(count)
        p, g, m, v = (a.copy() for a in start)
        v = np.abs(v)
        f = np.float32
        with compute.arithmetic():
            compute.elementwise(kernels.adam_kernel, (p, g, m, v), f(0.9), f(0.999), f(1e-8), f(1e-3))
        finals.append((p, m, v))
    assert all(np.array_equal(x, y) for other in finals[1:] for x, y in zip(finals[0], other))


def test_an_error_in_a_helpers_piece_reaches_the_caller(workers):
    workers(2)

    def fail() -> None:
        raise ValueError("a piece failed")

    with compute.arithmetic(), pytest.raises(ValueError, match="a piece failed"):
        compute._pool.run([fail, fail, fail, fail])


def test_blas_runs_one_thread_in_every_thread_once_nn_is_imported():
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(blas_threads()))
    thread.start()
    thread.join(timeout=30)
    assert blas_threads() == 1 and seen == [1]


def test_a_product_in_another_thread_equals_the_one_in_this_thread():
    """A dashboard run trains in a worker thread: its products must be those of the main thread."""
    rng = np.random.default_rng(4)
    a, b = rng.random((2000, 784), dtype=np.float32), rng.standard_normal((784, 128), dtype=np.float32)
    here = a @ b
    there: list[np.ndarray] = []
    thread = threading.Thread(target=lambda: there.append(a @ b))
    thread.start()
    thread.join(timeout=30)
    assert np.array_equal(here, there[0])


@needs_flush
def test_subnormals_are_flushed_inside_and_kept_outside():
    x = np.full(8, TINY)
    assert not compute.flushing()
    with compute.arithmetic():
        assert compute.flushing()
        assert np.all(x * np.float32(1) == 0)  # read as zero
        assert np.all(np.float32(1e-30) * np.full(8, np.float32(1e-10)) == 0)  # results flushed
    assert not compute.flushing()
    assert np.all(x * np.float32(1) == TINY)


@needs_flush
@pytest.mark.parametrize("fused", [True, False])
def test_adam_over_subnormal_moments_flushes_them_the_same_way_in_the_kernel_and_the_reference(fused, monkeypatch):
    """Both ways see the same zeros, so the kernel stays bit-identical to its NumPy reference."""
    rng = np.random.default_rng(2)
    size = 5000
    grads = rng.standard_normal(size, dtype=np.float32) * np.float32(1e-3)
    grads[::2] = 0  # border pixels: no gradient, so their moments only decay
    results = {}
    for way in (True, False):
        monkeypatch.setattr(Adam, "fused", way)
        p = np.ones(size, np.float32)
        opt = Adam(1e-3)
        opt.step([p], [grads])
        opt.state[0]["m"][::2] = TINY
        opt.state[0]["v"][::2] = TINY
        with compute.arithmetic():
            for _ in range(3):
                opt.step([p], [grads])
        results[way] = (p, opt.state[0]["m"], opt.state[0]["v"])
        assert np.all(opt.state[0]["m"][::2] == 0) and np.all(opt.state[0]["v"][::2] == 0)
    assert all(np.array_equal(a, b) for a, b in zip(results[True], results[False]))


@needs_flush
def test_an_update_over_subnormal_moments_is_not_ten_times_slower_than_over_ordinary_ones():
    """Unflushed, Adam's kernel took 2,000 us instead of 45 us when its moments held subnormals. Timed side
    by side, interleaved, medians: a ratio, not a time."""
    size = 100_000
    f = np.float32

    def update_seconds(moment: np.float32) -> float:
        p, g = np.ones(size, np.float32), np.zeros(size, np.float32)
        m, v = np.full(size, moment), np.full(size, abs(moment))
        start = time.perf_counter()
        kernels.adam_kernel(p, g, m, v, f(0.9), f(0.999), f(1e-8), f(1e-3))
        return time.perf_counter() - start

    with compute.arithmetic():
        update_seconds(f(0.5))  # compiled before timing
        ordinary, subnormal = [], []
        for _ in range(15):
            ordinary.append(update_seconds(f(1e-3)))
            subnormal.append(update_seconds(TINY))
    assert statistics.median(subnormal) < 10 * statistics.median(ordinary)


class _FlushSeen(Callback):
    """Records, at each epoch's end, whether the training thread flushes subnormals."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.seen.append(compute.flushing())


@needs_flush
def test_fit_flushes_in_its_thread_and_gives_the_thread_back_as_it_was():
    seen = _FlushSeen()
    fit(MLP([20, 8, 10]), Adam(1e-3), make_blobs(n_train=100, n_test=20), FitOptions(epochs=2, batch_size=50),
        [seen])
    assert seen.seen == [True, True] and not compute.flushing()


@needs_flush
def test_the_dashboards_worker_threads_flush_too(tmp_path):
    from experiments.config import RunConfig
    from experiments.runs.runner import RunManager
    from experiments.store import RunStore

    seen = _FlushSeen()
    manager = RunManager(RunStore(tmp_path / "runs.sqlite"), max_concurrent=2,
                         data_loader=lambda config: make_blobs(n_train=100, n_test=20, features=784))
    run_id = manager.submit(RunConfig(hidden=(8,), epochs=2, batch_size=50, val_size=0, train_size=100),
                            callbacks=[seen])
    assert manager.wait([run_id], timeout=120)
    assert seen.seen == [True, True]
