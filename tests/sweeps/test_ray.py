"""The Ray engine on a local Ray instance: trials run in Ray Tune, the driver callback fills the store."""
from __future__ import annotations

import importlib.util

import pytest

from experiments.store import RunStore
from experiments.sweeps.spec import expand, parse_spec

pytestmark = [pytest.mark.ray, pytest.mark.mnist, pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                 reason="Ray is not installed: pip install -r requirements-ray.txt")]


@pytest.fixture(scope="module")
def local_ray(mnist_dir):
    """One local Ray instance (2 CPUs) for the module: starting Ray takes several seconds."""
    import ray

    from experiments.runs.ray_cluster import runtime_env
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DIR", mnist_dir)
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    yield
    ray.shutdown()


def test_a_tiny_sweep_on_local_ray_fills_the_store_epoch_by_epoch(tmp_path, local_ray):
    from experiments.sweeps.ray_engine import run_ray_sweep

    spec = parse_spec({"name": "ray", "base": {"epochs": 2, "train_size": 2000, "hidden": "16"},
                       "grid": {"lr": [0.01, 0.001]}, "engine": "ray"})
    store = RunStore(tmp_path / "runs.sqlite")
    lines: list[str] = []
    result = run_ray_sweep(store, spec, expand(spec), workers=2, progress=lines.append)
    runs = store.search_runs(tag=f"sweep:{result.sweep_id}", order_by="id", descending=False)
    assert [r.id for r in runs] == result.run_ids and len(runs) == 2
    assert [r.status for r in runs] == ["finished", "finished"]
    assert [r.epochs_done for r in runs] == [2, 2]
    assert [r.config.lr for r in runs] == [0.01, 0.001]
    epochs = store.get_epochs(runs[0].id)
    assert [e["epoch"] for e in epochs] == [1, 2] and all(0 < e["test_acc"] <= 1 for e in epochs)
    assert sum("epoch" in line for line in lines) == 4


def test_asha_stops_weak_trials_early_and_they_are_stored_as_stopped(tmp_path, local_ray):
    from experiments.sweeps.ray_engine import run_ray_sweep

    spec = parse_spec({"base": {"epochs": 4, "train_size": 2000, "hidden": "16"},
                       "grid": {"lr": [0.01, 1e-4, 1e-5, 2e-5]}})  # three hopeless learning rates
    store = RunStore(tmp_path / "runs.sqlite")
    result = run_ray_sweep(store, spec, expand(spec), workers=1, asha=True)
    runs = store.search_runs(ids=result.run_ids)
    assert {r.status for r in runs} <= {"finished", "stopped"} and len(runs) == 4
    stopped = [r for r in runs if r.status == "stopped"]
    assert stopped, "ASHA kept every trial"
    assert all(1 <= r.epochs_done < 4 and "early" in r.message for r in stopped)
    assert store.get_run(result.run_ids[0]).status == "finished"  # the good one, first, is never cut


def test_a_tpe_spec_runs_through_optuna_search_with_asha_and_stores_pruned_trials(tmp_path, local_ray):
    from experiments.sweeps.ray_engine import run_ray_sweep

    spec = parse_spec({"method": "tpe", "seed": 0, "base": {"epochs": 3, "train_size": 2000, "hidden": "16"},
                       "random": {"lr": {"log_uniform": [1e-5, 0.05]}}, "tpe": {"trials": 6, "startup_trials": 3}})
    store = RunStore(tmp_path / "runs.sqlite")
    result = run_ray_sweep(store, spec, [], workers=2)
    runs = store.search_runs(tag=f"sweep:{result.sweep_id}")
    assert len(runs) == 6 and sorted(r.id for r in runs) == sorted(result.run_ids)
    assert {r.status for r in runs} <= {"finished", "pruned"} and "tpe" in runs[0].tags
    assert all(r.epochs_done == len(store.get_epochs(r.id)) >= 1 for r in runs)
    assert len({r.config.lr for r in runs}) == 6  # each trial its own draw
    for run in runs:
        assert (run.epochs_done == 3) == (run.status == "finished")


def test_missing_ray_is_explained(monkeypatch):
    import builtins

    from experiments.config import ConfigError
    from experiments.runs.ray_cluster import import_ray

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "ray" else real_import(name, *a, **k))
    with pytest.raises(ConfigError, match="pip install -r requirements-ray.txt"):
        import_ray()
