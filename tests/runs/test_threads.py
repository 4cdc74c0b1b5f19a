"""The product threads follow the cores and the runs training in the process, never the machine's load; they
change the time a run takes, never its numbers (tests/runs/test_seed_is_a_run.py checks the numbers)."""
from experiments.runs import threads
from nn import compute


def test_product_threads_divide_the_cores(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.delenv(threads.CORES_ENV, raising=False)
    assert threads.product_threads(1, total=2) == 2      # alone: every core
    assert threads.product_threads(2, total=2) == 1      # two runs: one each
    assert threads.product_threads(3, total=2) == 1      # never fewer than one
    assert threads.product_threads(2, total=8) == 4
    monkeypatch.setenv(threads.CORES_ENV, "1")            # a pool worker's share
    assert threads.product_threads(1) == 1
    monkeypatch.setenv(threads.ENV, "3")                  # set by hand: obeyed
    assert threads.product_threads(1, total=2) == 3


def test_pool_workers_share_the_cores():
    env = threads.pool_environment(2, total=2)
    assert env[threads.CORES_ENV] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert threads.pool_environment(1, total=4)[threads.CORES_ENV] == "4"
    assert threads.pool_environment(8, total=2)[threads.CORES_ENV] == "1"


def test_runs_in_one_process_split_the_threads(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setenv(threads.CORES_ENV, "2")
    before = compute.workers()
    try:
        with threads.training_threads() as given:
            assert given == compute.workers() == 2
            with threads.training_threads() as second:
                assert second == compute.workers() == 1
            assert compute.workers() == 2
    finally:
        compute.set_workers(before)
