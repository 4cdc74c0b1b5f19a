"""The local sweep engine: a real process pool on tiny MNIST configs, every trial in the store, stop."""
from __future__ import annotations

import pytest

from experiments.store import RunStore
from experiments.sweeps.local import LocalSweep
from experiments.sweeps.spec import expand, parse_spec
from tests.conftest import wait_until

pytestmark = pytest.mark.mnist


def _sweep(tmp_path, mnist_dir, epochs: int, grid: dict, workers: int = 2) -> LocalSweep:
    spec = parse_spec({"name": "t", "base": {"epochs": epochs, "train_size": 2000, "hidden": "16",
                                             "data_dir": mnist_dir}, "grid": grid})
    return LocalSweep(RunStore(tmp_path / "runs.sqlite"), spec, expand(spec), workers=workers)


def test_every_trial_is_stored_with_the_sweep_tag_and_its_epochs(tmp_path, mnist_dir):
    sweep = _sweep(tmp_path, mnist_dir, 2, {"lr": [0.01, 0.001], "batch_size": [32, 64]})
    ids = sweep.start()
    queued = sweep.store.search_runs(tag=f"sweep:{sweep.sweep_id}")
    assert sorted(r.id for r in queued) == sorted(ids) and len(ids) == 4  # listed before any trial ends
    assert sweep.wait(timeout=120)
    runs = sweep.store.search_runs(group_id=sweep.sweep_id)
    assert {r.status for r in runs} == {"finished"}
    assert all(r.epochs_done == 2 and len(sweep.store.get_epochs(r.id)) == 2 for r in runs)
    assert {(r.config.lr, r.config.batch_size) for r in runs} == {(0.01, 32), (0.01, 64), (0.001, 32), (0.001, 64)}
    assert all(sweep.store.weights_path(r.id).is_file() for r in runs)
    assert [o.status for o in sweep.outcomes()] == ["finished"] * 4


def test_stop_ends_running_and_waiting_trials(tmp_path, mnist_dir):
    sweep = _sweep(tmp_path, mnist_dir, 200, {"lr": [0.01, 0.003, 0.001]}, workers=1)
    ids = sweep.start()
    try:
        wait_until(lambda: sweep.store.get_run(ids[0]).epochs_done >= 1, 60, "the first trial's first epoch",
                   every=0.1)
    finally:
        sweep.stop()
    assert sweep.wait(timeout=60)
    first, *rest = [sweep.store.get_run(i) for i in ids]
    assert first.status == "stopped" and 1 <= first.epochs_done < 200
    assert [r.status for r in rest] == ["stopped", "stopped"]
    assert all(r.epochs_done == 0 and "before this trial started" in r.message for r in rest)


def test_the_sweep_command_trains_a_spec_file_and_refuses_a_bad_one(tmp_path, mnist_dir, capsys):
    from experiments.cli.entry import main

    spec = tmp_path / "spec.toml"
    spec.write_text(f'name = "cli"\n[base]\nepochs = 1\ntrain_size = 2000\nhidden = "16"\ndata_dir = "{mnist_dir}"\n'
                    f'[grid]\nlr = [0.01, 0.001]\n')
    db = tmp_path / "runs.sqlite"
    assert main(["sweep", str(spec), "--workers", "2", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "2 trials, 2 worker processes" in out and "2 of 2 finished" in out
    assert len(RunStore(db).search_runs(tag="sweep")) == 2
    spec.write_text('[grid]\nlr = [0.1, 99]\n')
    assert main(["sweep", str(spec), "--db", str(db)]) == 2
    assert "trial 1 (lr=99): lr must be" in capsys.readouterr().err
    assert len(RunStore(db).search_runs()) == 2  # nothing stored for the refused spec
