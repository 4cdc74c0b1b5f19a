"""Shared fixtures: small synthetic data for unit tests, the real MNIST for integration tests."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nn import Dataset

ROOT = Path(__file__).resolve().parent.parent


def make_blobs(n_train: int = 600, n_test: int = 200, features: int = 20, classes: int = 10, seed: int = 0) -> Dataset:
    """A learnable synthetic classification problem: Gaussian blobs, one per class, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, size=(classes, features))

    def split(n):
        y = rng.integers(0, classes, n)
        x = np.clip(centers[y] + rng.normal(0, 0.08, (n, features)), 0, 1).astype(np.float32)
        return x, y

    x_train, y_train = split(n_train)
    x_test, y_test = split(n_test)
    return Dataset(x_train, y_train, x_test, y_test, source="blobs")


def run_in_threads(target, count: int) -> list[Exception]:
    """Run ``target()`` in ``count`` threads started together; return the exceptions they raised."""
    import threading

    barrier, errors = threading.Barrier(count), []

    def wrapped():
        barrier.wait()
        try:
            target()
        except Exception as exc:  # collected for the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=wrapped) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def blobs() -> Dataset:
    return make_blobs()


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    path = os.environ.get("MNIST_DIR")
    if not path or not Path(path).is_dir():
        pytest.skip("set MNIST_DIR to the real MNIST folder to run the integration tests")
    return path


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from nn import load_mnist
    return load_mnist(mnist_dir)
