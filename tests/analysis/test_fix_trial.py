""""Try this fix": the plan, the group it queues, the verdict from the store, and the CLI end to end."""
from __future__ import annotations

import pytest

from experiments.analysis.diagnosis import DiagnosisKind
from experiments.analysis.fix_trial import NoFixError, fix_verdict, plan_fix, queue_fix, run_under_trial
from experiments.cli.entry import main
from experiments.config import RunConfig
from experiments.store import RunStore

L2_CASE = RunConfig(hidden=(16,), activation="sigmoid", optimizer="sgd", lr=1e-5, l2=1.0, epochs=1, seed=4)


def l2_run(store: RunStore, config: RunConfig = L2_CASE) -> int:
    run_id = store.create_run(config)
    for e in (1, 2):
        store.log_epoch(run_id, {"epoch": e, "train_loss": 2.48, "train_acc": 0.1, "test_acc": 0.097,
                                 "majority_fraction": 0.86, "l2_penalty": 118.0})
    store.set_status(run_id, "finished")
    return run_id


class Recorder:
    def __init__(self, store):
        self.store, self.calls = store, []

    def submit_many(self, configs, names=None, group_id=None, source="dashboard", identity=None):
        self.calls.append((configs, names, group_id))
        return [self.store.create_run(c, n, group_id) for c, n in zip(configs, names)]


def test_plan_queues_both_settings_with_the_same_seeds_as_one_group(store):
    run_id = l2_run(store)
    plan = plan_fix(store, run_id)
    assert plan.finding.kind == DiagnosisKind.L2_DOMINATES and plan.fixed == L2_CASE.replace(l2=1e-4)
    submitter = Recorder(store)
    group = queue_fix(submitter, plan)
    (configs, names, group_id), = submitter.calls
    assert group_id == group and run_under_trial(group) == run_id
    assert [c.seed for c in configs] == [4, 5, 6, 4, 5, 6]
    assert [c.l2 for c in configs] == [1.0] * 3 + [1e-4] * 3
    assert len(store.search_runs(group_id=group)) == 6


def test_a_run_without_a_fix_is_refused(store):
    healthy = store.create_run(RunConfig())
    store.log_epoch(healthy, {"epoch": 1, "train_loss": 0.2, "train_acc": 0.95, "test_acc": 0.95,
                              "majority_fraction": 0.11})
    with pytest.raises(NoFixError, match="no finding with a fix"):
        plan_fix(store, healthy)
    with pytest.raises(NoFixError, match="no 'overfitting' finding"):
        plan_fix(store, l2_run(store), DiagnosisKind.OVERFITTING)


def test_verdict_says_whether_the_fix_helped(store):
    run_id = l2_run(store)
    group = queue_fix(Recorder(store), plan_fix(store, run_id))
    runs = store.search_runs(group_id=group, order_by="id", descending=False)
    assert fix_verdict(store, group).pending == 6
    for run, acc in zip(runs, [0.10, 0.11, 0.09, 0.85, 0.87, 0.84]):
        store.log_epoch(run.id, {"epoch": 1, "val_acc": acc, "val_loss": 1 - acc, "test_acc": acc - 0.5})
        store.set_status(run.id, "finished")
    verdict = fix_verdict(store, group)
    assert verdict.verdict.real and verdict.verdict.diff == pytest.approx(0.7533, abs=1e-3)
    assert verdict.metric == "val_acc"  # judged on validation, as Compare does; test is kept for the final check
    assert verdict.text.startswith("The fix helped: Val. accuracy at each seed's last epoch 10.00% with the original "
                                   "settings, 85.33%")
    assert "p <" in verdict.text or "p =" in verdict.text
    with pytest.raises(ValueError):
        fix_verdict(store, "sw-123")


def test_cli_fix_runs_the_trial_and_prints_the_verdict(tmp_path, mnist_dir, capsys):
    db = tmp_path / "runs.sqlite"
    store = RunStore(db)
    run_id = l2_run(store, L2_CASE.replace(train_size=300, data_dir=mnist_dir, batch_size=50))
    assert main(["--db", str(db), "fix", str(run_id), "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "L2 dominates the loss" in out and "L2 1 → 0.0001" in out
    assert "with the original settings" in out and ("seed noise" in out or "real difference" in out)
    assert len([r for r in store.search_runs() if r.group_id]) == 4
    assert main(["--db", str(db), "fix", "999"]) == 2
