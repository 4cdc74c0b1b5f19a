"""The contenders of benchmarks/bench_epoch.py: epochs of MNIST training plus a test pass, each its own way.

Every contender does the same work: it builds a fresh He-initialised ReLU network of the given sizes and trains
it for ``epochs`` epochs of the 60,000 training images, each in a freshly shuffled order (Adam, lr 1e-3,
float32, mean cross-entropy, the last batch partial), each followed by loss and accuracy on the 10,000 test
images. Each returns the wall seconds of every epoch after the first (the first pays for compilation, caches
and allocators; later epochs are where a long run spends its time, subnormal moments included):

* ours, the product's paths (benchmarks/user_path.py): the command line and the dashboard's runner, as a
  user runs them, and bare ``train_config`` beside them (the product's overhead is their ratio);
* torch:       the idiomatic eager loop - model(x), F.cross_entropy, zero_grad, backward, opt.step();
* jax_loop:    an idiomatic ``jax.jit``-compiled step (gather, forward, grad, Adam) called from a Python loop;
* jax_scan:    the whole epoch as one ``jax.lax.scan`` over pre-shuffled batches, the fastest JAX idiom;
* floor:       only the first layer's matrix products, X @ W1 and X.T @ dZ1 for every batch and X_test @ W1,
               with NumPy's BLAS on every core: what any implementation of this network has to spend.

JAX and torch are benchmark-only dependencies (requirements-bench.txt); a missing one leaves its column empty.
"""
from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nn import Dataset
from nn.pixels import as_inputs


def _optional(module: str) -> Any:
    """The module, or None when it is not installed (the table is still useful without its column)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


torch, F = _optional("torch"), _optional("torch.nn.functional")
jax, jnp = _optional("jax"), _optional("jax.numpy")

Sizes = Sequence[int]


def float_inputs(data: Dataset) -> Dataset:
    """The data as float32 inputs in [0, 1], made once: how torch and JAX users hold MNIST. Ours reads the
    product's uint8 pixels and scales each batch as it trains (nn/pixels.py), inside its timed epoch."""
    return Dataset(as_inputs(data.x_train), data.y_train, as_inputs(data.x_test), data.y_test, data.source)


# ---------------------------------------------------------------------- PyTorch
class TorchData:
    """The data as torch tensors, made once (not timed)."""

    def __init__(self, data: Dataset):
        assert torch is not None
        self.x, self.y = torch.from_numpy(np.array(data.x_train)), torch.from_numpy(np.array(data.y_train)).long()
        self.x_test, self.y_test = torch.from_numpy(np.array(data.x_test)), torch.from_numpy(np.array(data.y_test))


def time_torch(data: TorchData, sizes: Sizes, batch: int, seed: int, epochs: int) -> list[float]:
    """Seconds of each epoch after the first (with its test pass) of the textbook PyTorch loop."""
    torch.manual_seed(seed)
    layers: list[Any] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")  # He, as ours
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data.x, data.y
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            logits = model(data.x_test)
            float(F.cross_entropy(logits, data.y_test.long()))
            int((logits.argmax(1) == data.y_test).sum())
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


# ---------------------------------------------------------------------- JAX
class JaxData:
    """The data as device arrays and the compiled functions, made once (not timed)."""

    def __init__(self, data: Dataset):
        assert jax is not None
        self.x, self.y = jnp.asarray(data.x_train), jnp.asarray(data.y_train.astype(np.int32))
        self.x_test, self.y_test = jnp.asarray(data.x_test), jnp.asarray(data.y_test.astype(np.int32))
        self.step, self.epoch, self.evaluate = _jax_functions()


def _jax_functions() -> tuple[Callable, Callable, Callable]:
    """(train_step, train_epoch, evaluate), jit-compiled; written the way JAX's tutorials write them."""

    def forward(params, x):
        for W, b in params[:-1]:
            x = jax.nn.relu(x @ W + b)
        W, b = params[-1]
        return x @ W + b

    def loss_fn(params, x, y):
        log_p = jax.nn.log_softmax(forward(params, x))
        return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))

    def adam(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        m, v, t = state
        t = t + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        params = jax.tree.map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
        return params, (m, v, t)

    def step(params, state, x, y, idx):
        loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx])
        params, state = adam(params, grads, state)
        return params, state, loss

    def epoch(params, state, x, y, batches):
        def body(carry, idx):
            params, state, loss = step(carry[0], carry[1], x, y, idx)
            return (params, state), loss
        (params, state), losses = jax.lax.scan(body, (params, state), batches)
        return params, state, losses

    def evaluate(params, x, y):
        logits = forward(params, x)
        log_p = jax.nn.log_softmax(logits)
        loss = -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))
        return loss, jnp.mean(jnp.argmax(logits, axis=1) == y)

    return jax.jit(step), jax.jit(epoch), jax.jit(evaluate)


def _jax_init(sizes: Sizes, seed: int) -> tuple[list, tuple]:
    key = jax.random.PRNGKey(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        W = jax.random.normal(sub, (fan_in, fan_out), jnp.float32) * np.float32(np.sqrt(2.0 / fan_in))
        params.append((W, jnp.zeros(fan_out, jnp.float32)))
    zeros = jax.tree.map(jnp.zeros_like, params)
    return params, (zeros, zeros, jnp.zeros((), jnp.float32))


def time_jax_loop(data: JaxData, sizes: Sizes, batch: int, seed: int, epochs: int) -> list[float]:
    """Seconds of each epoch after the first (with its test pass): a jit-compiled step called from a loop."""
    params, state = jax.block_until_ready(_jax_init(sizes, seed))
    rng, seconds = np.random.default_rng(seed), []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(data.y))
        for i in range(0, len(order), batch):
            params, state, _ = data.step(params, state, data.x, data.y, order[i:i + batch])
        loss, acc = data.evaluate(params, data.x_test, data.y_test)
        float(loss), float(acc)
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


def time_jax_scan(data: JaxData, sizes: Sizes, batch: int, seed: int, epochs: int) -> list[float]:
    """Seconds of each epoch after the first (with its test pass): the full batches as one lax.scan, the
    partial one after it."""
    params, state = jax.block_until_ready(_jax_init(sizes, seed))
    rng, seconds = np.random.default_rng(seed), []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(data.y))
        full = len(order) // batch * batch
        params, state, _ = data.epoch(params, state, data.x, data.y, order[:full].reshape(-1, batch))
        if full < len(order):
            params, state, _ = data.step(params, state, data.x, data.y, order[full:])
        loss, acc = data.evaluate(params, data.x_test, data.y_test)
        float(loss), float(acc)
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


# ---------------------------------------------------------------------- the floor
def time_floor(data: Dataset, sizes: Sizes, batch: int, seed: int, epochs: int) -> list[float]:
    """Seconds spent in X @ W1 and X.T @ dZ1 alone for an epoch's batches, plus X_test @ W1, with NumPy's BLAS
    on every core (multi-threaded OpenBLAS: the fastest these products go here, deterministic or not)."""
    from threadpoolctl import threadpool_limits

    from experiments.runs.threads import cores

    with threadpool_limits(cores(), user_api="blas"):
        return [_floor(data, sizes, batch, seed + e) for e in range(epochs)][1:]


def _floor(data: Dataset, sizes: Sizes, batch: int, seed: int) -> float:
    x = data.x_train
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    W1 = rng.standard_normal((sizes[0], sizes[1]), dtype=np.float32)
    gW1 = np.empty_like(W1)
    xb_full = np.empty((batch, sizes[0]), np.float32)
    z_full = np.empty((batch, sizes[1]), np.float32)
    total = 0.0
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        xb, z = np.take(x, idx, axis=0, out=xb_full[:len(idx)]), z_full[:len(idx)]  # gathered untimed
        start = time.perf_counter()
        np.matmul(xb, W1, out=z)
        np.matmul(xb.T, z, out=gW1)  # z stands in for dZ1: same shape, same cost
        total += time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(data.x_test), 2000):  # in the chunks nn.evaluate uses
        data.x_test[i:i + 2000] @ W1
    return total + time.perf_counter() - start
