"""TPE sweeps: the [tpe] table's refusals, the worker's report to its Optuna trial, and real pruned sweeps
from the command line (median and Hyperband)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from experiments.config import ConfigError
from experiments.store import RunStore
from experiments.sweeps.spec import Pruner, expand, parse_spec
from experiments.sweeps.tpe import ReportToTrial, StudyPlace, check_space, distributions
from nn.status import RunStatus
from tests.conftest import wait_until

SPACE = {"random": {"lr": {"log_uniform": [1e-4, 0.3]}}, "grid": {"batch_size": [32, 128], "hidden": [[16], "32"]}}


def test_a_tpe_spec_parses_into_a_space_not_a_trial_list():
    spec = parse_spec({"method": "tpe", **SPACE, "tpe": {"trials": 10, "startup_trials": 4, "pruner": "Hyperband"}})
    assert spec.is_tpe and spec.size == 10 and spec.tpe is not None and spec.tpe.pruner is Pruner.HYPERBAND
    space = distributions(spec)
    assert space["lr"].log and space["hidden"].choices == ("16", "32")
    assert check_space(spec).epochs == 10
    with pytest.raises(ConfigError, match="no fixed list"):
        expand(spec)


@pytest.mark.parametrize(("spec", "message"), [
    ({"tpe": {"trials": 4, "startup_trials": 8}}, "tpe.trials (4) is below tpe.startup_trials (8)"),
    ({"tpe": {"trials": 10, "pruner": "asha"}}, "tpe.pruner must be one of median, hyperband, none"),
    ({"tpe": {"trials": 0}}, "tpe.trials must be a whole number >= 1"),
    ({"tpe": {"trials": 10, "patience": 3}}, "unknown tpe key 'patience'"),
    ({}, 'needs a [tpe] table'),
])
def test_bad_tpe_tables_are_refused_in_one_line(spec, message):
    with pytest.raises(ConfigError) as info:
        parse_spec({"method": "tpe", **SPACE, **spec})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_tpe_keys_need_the_tpe_method():
    with pytest.raises(ConfigError, match='needs method = "tpe"'):
        parse_spec({**SPACE, "tpe": {"trials": 5}})
    with pytest.raises(ConfigError, match="method must be one of grid, random, tpe"):
        parse_spec({**SPACE, "method": "bayes"})
    with pytest.raises(ConfigError, match="random.samples does not apply"):
        parse_spec({"method": "tpe", "random": {"samples": 3, "lr": {"uniform": [0.1, 0.2]}}, "tpe": {"trials": 5}})
    with pytest.raises(ConfigError, match="batch_size=99999"):
        check_space(parse_spec({"method": "tpe", "grid": {"batch_size": [32, 99999]}, "tpe": {"trials": 5}}))


def test_a_refused_tpe_spec_stores_nothing(tmp_path, capsys):
    from experiments.cli.entry import main

    spec = tmp_path / "spec.toml"
    spec.write_text('method = "tpe"\n[random]\nlr = { log_uniform = [1e-4, 1e-1] }\n[tpe]\ntrials = 3\n'
                    'startup_trials = 5\n')
    db = tmp_path / "runs.sqlite"
    assert main(["sweep", str(spec), "--db", str(db)]) == 2
    assert "tpe.trials (3) is below tpe.startup_trials (5)" in capsys.readouterr().err
    assert RunStore(db).count_runs() == 0


class FakeLoop:
    """What ``ReportToTrial`` sees of the training loop: the planned epochs, and the stop it may request."""

    def __init__(self, epochs: int):
        self.options = SimpleNamespace(epochs=epochs)
        self.stopped: tuple[RunStatus, str] | None = None

    def request_stop(self, status: RunStatus, message: str) -> None:
        self.stopped = (status, message)


def test_the_worker_reports_each_epoch_to_its_trial_and_stops_when_the_pruner_says_so(tmp_path):
    """Optuna's own pattern, as a worker process runs it: load the trial the driver asked for from the shared
    journal, ``trial.report`` each epoch's validation accuracy, and end the run "pruned" on ``should_prune``."""
    place = StudyPlace(str(tmp_path / "study.journal"), "sweep-x", Pruner.MEDIAN, startup_trials=2, epochs=4)
    study = place.create_study(seed=0)
    for accuracy in (0.90, 0.92):  # two finished trials, 0.9 and above at epoch 1
        earlier = study.ask()
        earlier.report(accuracy, 1)
        study.tell(earlier, accuracy)
    weak, strong = study.ask(), study.ask()
    loops = {}
    for trial, accuracy in ((strong, 0.95), (weak, 0.2)):
        report = ReportToTrial(place.load_trial(trial._trial_id), Pruner.MEDIAN)  # as in the worker process
        report.loop = loops[accuracy] = FakeLoop(epochs=4)  # type: ignore[assignment]
        report.on_epoch_end(1, {"val_acc": accuracy, "test_acc": 0.99})
    assert loops[0.95].stopped is None
    assert loops[0.2].stopped is not None
    status, message = loops[0.2].stopped
    assert status is RunStatus.PRUNED and "pruned by the median pruner after epoch 1" in message
    assert study.trials[weak.number].intermediate_values == {1: 0.2}  # the driver's study sees the report
    last = ReportToTrial(place.load_trial(study.ask()._trial_id), Pruner.MEDIAN)
    last.loop = FakeLoop(epochs=1)  # type: ignore[assignment]
    last.on_epoch_end(1, {"val_acc": 0.2})
    assert last.loop.stopped is None  # the last epoch is reported, never pruned: the run has finished


@pytest.mark.mnist
@pytest.mark.parametrize("pruner", ["median", "hyperband"])
def test_a_tpe_sweep_from_the_cli_prunes_weak_trials_and_keeps_their_epochs(tmp_path, mnist_dir, capsys, pruner):
    from experiments.cli.entry import main

    spec = tmp_path / "tpe.toml"
    spec.write_text(f'name = "tpe"\nmethod = "tpe"\nseed = 1\n[base]\nepochs = 4\ntrain_size = 2000\nhidden = "16"\n'
                    f'data_dir = "{mnist_dir}"\n[random]\nlr = {{ log_uniform = [1e-4, 0.3] }}\n'
                    f'[grid]\nbatch_size = [32, 128]\n[tpe]\ntrials = 12\nstartup_trials = 4\npruner = "{pruner}"\n')
    db = tmp_path / "runs.sqlite"
    assert main(["sweep", str(spec), "--workers", "2", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"TPE, budget 12 trials, pruner {pruner}" in out and "pruned" in out
    store = RunStore(db)
    runs = store.search_runs(tag="tpe")
    assert len(runs) == 12 and {r.status for r in runs} <= {"finished", "pruned"}
    pruned = [r for r in runs if r.status == "pruned"]
    assert pruned, f"the {pruner} pruner stopped no trial"
    for run in pruned:  # stopped early, right after the epoch the pruner judged, every finished epoch kept
        assert 1 <= run.epochs_done < 4 and len(store.get_epochs(run.id)) == run.epochs_done
        assert f"pruned by the {pruner} pruner after epoch {run.epochs_done}" in run.message
    assert all(r.epochs_done == 4 for r in runs if r.status == "finished")
    assert not list(tmp_path.rglob("*.journal"))  # the study lived in a temporary folder, not beside the store


@pytest.mark.mnist
def test_stopping_a_tpe_sweep_stops_its_trial_and_starts_no_more(tmp_path, mnist_dir):
    from experiments.sweeps.tpe import TpeSweep

    spec = parse_spec({"method": "tpe", "base": {"epochs": 200, "train_size": 2000, "hidden": "16",
                                                 "data_dir": mnist_dir},
                       "random": {"lr": {"log_uniform": [1e-3, 1e-2]}}, "tpe": {"trials": 5, "startup_trials": 2}})
    sweep = TpeSweep(RunStore(tmp_path / "runs.sqlite"), spec, workers=1)
    sweep.start()

    def started() -> bool:
        return bool(sweep.run_ids) and sweep.store.get_run(sweep.run_ids[0]).epochs_done >= 1
    try:
        wait_until(started, 60, "the first trial's first epoch", every=0.1)
    finally:
        sweep.stop()
    assert sweep.wait(timeout=60)
    [run] = sweep.store.search_runs(group_id=sweep.sweep_id)
    assert run.status == "stopped" and 1 <= run.epochs_done < 200
    assert [o.status for o in sweep.outcomes()] == [RunStatus.STOPPED]
    assert not list(Path(tempfile.gettempdir()).glob(f"tpe-{sweep.sweep_id}-*"))  # the study's folder is gone


def test_a_tpe_spec_without_a_validation_split_is_refused():
    with pytest.raises(ConfigError, match="validation accuracy: hold out validation images"):
        check_space(parse_spec({"method": "tpe", "base": {"val_size": 0}, **SPACE, "tpe": {"trials": 5}}))
