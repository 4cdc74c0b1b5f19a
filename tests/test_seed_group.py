"""A seed group trains each model exactly as fit trains it alone: same parameters, logs and callbacks, bit for bit."""
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from nn import MLP, Callback, FitOptions, StopOnEvent, fit
from nn.fair_share import FairShare
from nn.optim import SGD, Adam, Momentum
from nn.seed_group import CHUNK, fit_group

COMPARED = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "majority_fraction", "dead_fraction",
            "l2_penalty")


class Recorder(Callback):
    """Every hook call with its (comparable) logs."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append(("train_begin", dict(logs)))

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs):
        self.calls.append(("batch_end", batch, logs["loss"], logs["correct"], logs["size"]))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch, {k: logs[k] for k in COMPARED}))

    def on_train_end(self, logs):
        self.calls.append(("train_end", dict(logs)))


def alone(sizes, make_optimizer, data, options, seeds, callbacks=None):
    models = [MLP(sizes, seed=s) for s in seeds]
    results = [fit(m, make_optimizer(), data, replace(options, seed=s), cbs)
               for m, s, cbs in zip(models, seeds, callbacks or [()] * len(seeds))]
    return models, results


# all on one thread; 3 models taking turns on 2 workers; a worker each; 4 models on 2 workers
@pytest.mark.parametrize("threads, seeds", [(1, [4, 0, 7]), (2, [4, 0, 7]), (3, [4, 0, 7]), (2, [4, 0, 7, 9])])
@pytest.mark.parametrize("make_optimizer, l2, reduction", [(lambda: Adam(1e-2), 0.0, "mean"),
                                                           (lambda: Momentum(0.05), 1e-3, "mean"),
                                                           (lambda: SGD(0.01), 0.0, "sum")])
def test_group_matches_fit_bit_for_bit(blobs, threads, seeds, make_optimizer, l2, reduction):
    sizes = [20, 16, 12, 10]
    options = FitOptions(epochs=3, batch_size=48, l2=l2, reduction=reduction)
    want_recorders, got_recorders = [Recorder() for _ in seeds], [Recorder() for _ in seeds]
    want_models, want = alone(sizes, make_optimizer, blobs, options, seeds, [[r] for r in want_recorders])
    models = [MLP(sizes, seed=s) for s in seeds]
    got = fit_group(models, make_optimizer, blobs, options, seeds, [[r] for r in got_recorders], threads=threads)
    for model, result, want_model, want_result in zip(models, got, want_models, want):
        assert np.array_equal(model.flat_params, want_model.flat_params)
        assert result.status == want_result.status and len(result.history) == 3
        assert [{k: logs[k] for k in COMPARED} for logs in result.history] == \
            [{k: logs[k] for k in COMPARED} for logs in want_result.history]
    assert [r.calls for r in got_recorders] == [r.calls for r in want_recorders]


def test_group_matches_fit_on_mnist(mnist):
    data = mnist.subset(3000, 1000)
    sizes, seeds, options = [784, 64, 10], [1, 2, 3], FitOptions(epochs=2, batch_size=64)
    want_models, _ = alone(sizes, lambda: Adam(1e-3), data, options, seeds)
    models = [MLP(sizes, seed=s) for s in seeds]
    fit_group(models, lambda: Adam(1e-3), data, options, seeds, threads=2)
    for model, want_model in zip(models, want_models):
        assert np.array_equal(model.flat_params, want_model.flat_params)


class Progress(Callback):
    """Counts each model's trained batches in one shared tally (and which threads called); ``delay`` slows it."""

    def __init__(self, index, tally, delay=0.0):
        self.index, self.tally, self.delay = index, tally, delay

    def on_batch_end(self, batch, logs):
        if self.delay:
            time.sleep(self.delay)
        with self.tally["lock"]:
            self.tally["done"][self.index] += 1
            self.tally["snapshots"].append(list(self.tally["done"]))
            self.tally["threads"].add(threading.get_ident())


def test_models_sharing_a_worker_progress_at_one_pace(blobs):
    """3 models on 2 workers, model 0 slowed by its callback: models 1 and 2 share the other worker in turns.

    Dealt into fixed threads (models 0 and 2 stacked on one, model 1 alone on the other), model 2 would be held
    to slow model 0's pace while model 1 raced through the epoch, 150 batches ahead of it."""
    tally = {"lock": threading.Lock(), "done": [0, 0, 0], "snapshots": [], "threads": set()}
    options = FitOptions(epochs=1, batch_size=4)  # 150 batches
    models = [MLP([20, 8, 10], seed=s) for s in range(3)]
    fit_group(models, lambda: Adam(1e-3), blobs, options, [0, 1, 2],
              [[Progress(0, tally, delay=0.002)], [Progress(1, tally)], [Progress(2, tally)]], threads=2)
    evaluation = len(blobs.y_test) / (3 * options.batch_size)  # parts start half an evaluation apart
    assert tally["done"] == [150, 150, 150] and len(tally["threads"]) <= 2
    assert max(abs(done[1] - done[2]) for done in tally["snapshots"]) <= 2 * CHUNK + evaluation


def test_fair_share_runs_each_job_in_order_and_reraises_a_failure():
    trace, lock = [], threading.Lock()

    def job(name, steps, fail_at=None):
        for i in range(steps):
            if i == fail_at:
                raise RuntimeError(f"{name} failed")
            with lock:
                trace.append((name, i))
            yield 1.0

    FairShare([job("a", 20), job("b", 30), job("c", 5)], chunk=3).run(2)
    for name, steps in (("a", 20), ("b", 30), ("c", 5)):
        assert [i for n, i in trace if n == name] == list(range(steps))
    with pytest.raises(RuntimeError, match="b failed"):
        FairShare([job("a", 1000), job("b", 10, fail_at=4)], chunk=2).run(2)


def test_a_diverging_model_stops_alone_as_fit_stops_it(blobs):
    """lr 50 sends plain SGD on summed losses to overflow; the group's other model is unaffected."""
    sizes, options = [20, 16, 10], FitOptions(epochs=2, batch_size=100, reduction="sum")
    lrs = iter([50.0, 0.01])  # an optimizer per model, in order: the first gets the exploding step size
    bad, good = MLP(sizes, seed=1), MLP(sizes, seed=2)
    got = fit_group([bad, good], lambda: SGD(next(lrs)), blobs, options, [1, 2], threads=2)
    want_bad, want_good = MLP(sizes, seed=1), MLP(sizes, seed=2)
    alone_bad = fit(want_bad, SGD(50.0), blobs, replace(options, seed=1))
    fit(want_good, SGD(0.01), blobs, replace(options, seed=2))
    assert got[0].status == alone_bad.status == "diverged" and got[0].message == alone_bad.message
    assert np.array_equal(bad.flat_params, want_bad.flat_params, equal_nan=True)
    assert got[1].status == "finished" and np.array_equal(good.flat_params, want_good.flat_params)


def test_a_stop_stops_every_model_within_a_batch(blobs):
    stop = threading.Event()
    stop.set()
    models = [MLP([20, 8, 10], seed=s) for s in (0, 1)]
    results = fit_group(models, lambda: Adam(1e-3), blobs, FitOptions(epochs=2, batch_size=50), [0, 1],
                        [[StopOnEvent(stop)], [StopOnEvent(stop)]])
    assert [r.status for r in results] == ["stopped", "stopped"] and not results[0].history


def test_dropout_and_a_later_start_match_fit(blobs):
    """Each model keeps fit's own per-epoch dropout masks and starts where fit would (initial_epoch)."""
    seeds, options = [3, 5, 8], FitOptions(epochs=3, batch_size=32, initial_epoch=1)
    want_models = [MLP([20, 16, 10], seed=s, dropout=0.3) for s in seeds]
    want = [fit(m, Adam(1e-2), blobs, replace(options, seed=s)) for m, s in zip(want_models, seeds)]
    models = [MLP([20, 16, 10], seed=s, dropout=0.3) for s in seeds]
    got = fit_group(models, lambda: Adam(1e-2), blobs, options, seeds, threads=2)
    for model, result, want_model, want_result in zip(models, got, want_models, want):
        assert np.array_equal(model.flat_params, want_model.flat_params)
        assert [h["epoch"] for h in result.history] == [2, 3]
        assert [h["train_loss"] for h in result.history] == [h["train_loss"] for h in want_result.history]


def test_a_group_needs_a_seed_per_model():
    with pytest.raises(ValueError, match="one seed"):
        fit_group([MLP([4, 3, 2])], lambda: Adam(1e-3), None, FitOptions(epochs=1, batch_size=2), [0, 1])


def test_train_seed_group_matches_train_config(mnist, monkeypatch):
    """The product's entry: each seed as train_config trains it alone (its lr schedule included).

    BLAS threads are pinned to one for both sides: by default the count follows the machine's load
    (experiments/runs/threads.py), and a different count may sum a product in a different order."""
    monkeypatch.setenv("MLP_BLAS_THREADS", "1")
    from experiments.config import RunConfig
    from experiments.runs.group import train_seed_group
    from experiments.runs.training import train_config

    data, config = mnist.subset(2000, 500), RunConfig(epochs=2, hidden=(32,))
    for seed, (model, result) in zip([3, 4], train_seed_group(config, [3, 4], data)):
        want_model, want = train_config(config.replace(seed=seed), data)
        assert np.array_equal(model.flat_params, want_model.flat_params)
        assert [h["test_loss"] for h in result.history] == [h["test_loss"] for h in want.history]
