"""BLAS threads follow the context rule: every free core for a lone run, a share each when runs or workers share."""
from threadpoolctl import threadpool_info

from experiments.runs import threads


def test_blas_threads_divide_the_free_cores(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.delenv(threads.CORES_ENV, raising=False)
    assert threads.blas_threads(1, total=2, busy=0) == 2      # alone on an idle machine: every core
    assert threads.blas_threads(2, total=2, busy=0) == 1      # two runs: one each
    assert threads.blas_threads(3, total=2, busy=0) == 1      # never fewer than one
    assert threads.blas_threads(1, total=2, busy=1.2) == 1    # a core busy elsewhere is not free
    assert threads.blas_threads(1, total=8, busy=2) == 6
    assert threads.blas_threads(2, total=8, busy=0) == 4
    monkeypatch.setenv(threads.CORES_ENV, "1")                # a pool worker's share
    assert threads.blas_threads(1, busy=0) == 1
    monkeypatch.setenv(threads.ENV, "3")                      # set by hand: obeyed
    assert threads.blas_threads(1, total=2, busy=0) == 3


def test_pool_workers_share_the_cores():
    env = threads.pool_environment(2, total=2)
    assert env[threads.CORES_ENV] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert threads.pool_environment(1, total=4)[threads.CORES_ENV] == "4"
    assert threads.pool_environment(8, total=2)[threads.CORES_ENV] == "1"


def test_runs_in_one_process_split_the_threads(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setenv(threads.CORES_ENV, "2")
    monkeypatch.setattr(threads, "busy_cores", lambda samples=5: 0.0)

    def blas() -> int:
        return min(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    with threads.training_threads():
        assert blas() == 2
        with threads.training_threads():
            assert blas() == 1
        assert blas() == 2
