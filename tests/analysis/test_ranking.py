"""Everything that ranks or judges runs does so on validation: the ranking at the best epoch, the seed verdicts
(never mixing runs without a validation set in), and the overfitting diagnosis. (The pages:
tests/ui/test_protocol.py.)"""
from __future__ import annotations

import pytest

from experiments.analysis import ranking, seeds
from experiments.analysis.diagnosis import diagnose
from experiments.analysis.diagnosis_text import describe
from experiments.store.best import SummaryBy
from tests.conftest import store_finished_run


def test_ranking_is_on_validation_at_the_best_epoch_and_runs_without_it_come_apart(store):
    peak_then_drop = store_finished_run(store, [0.90, 0.97, 0.93], [0.90, 0.95, 0.99], lr=0.1)   # best val at epoch 2
    steady = store_finished_run(store, [0.90, 0.94, 0.95], [0.96, 0.96, 0.96], lr=0.01)
    # the best test accuracy of all, but chosen on nothing held out
    old = store_finished_run(store, None, [0.99, 0.995, 0.999], lr=0.001)
    runs = store.search_runs()
    assert [r.id for r in ranking.rank(runs)] == [peak_then_drop, steady, old]
    assert [r.id for r in ranking.rank(runs, SummaryBy.LAST)] == [steady, peak_then_drop, old]
    by_id = {r.id: r for r in runs}
    assert ranking.summary_row(by_id[peak_then_drop]) == {
        "epoch": 2, "summarised_by": "best", "val_acc": 0.97, "test_acc": 0.95, "train_acc": 0.99,
        "val_loss": pytest.approx(0.03), "test_loss": pytest.approx(0.05), "train_loss": 0.5}
    assert ranking.summary_row(by_id[old])["summarised_by"] == "last"  # no best epoch without validation
    assert [r.id for r in store.search_runs(order_by="best_val_acc")] == [peak_then_drop, steady, old]
    table = ranking.metrics_table(runs, ["lr"])
    assert {row["id"]: row["epoch"] for row in table.rows} == {peak_then_drop: 2, steady: 3, old: 3}


def test_verdicts_judge_on_validation_and_never_mix_in_runs_without_it(store):
    for seed, (a, b) in enumerate([(0.97, 0.95), (0.972, 0.951)]):
        store_finished_run(store, [a], [0.90], lr=0.1, seed=seed)      # higher validation, lower test
        store_finished_run(store, [b], [0.99], lr=0.01, seed=seed)
        store_finished_run(store, None, [0.98 + seed / 1000], lr=0.001, seed=seed)  # stored before validation existed
    groups = seeds.group_by_config(store.search_runs(order_by="id", descending=False))
    split = ranking.split_by_validation(groups)
    assert [len(g) for g in split.validated] == [2, 2] and len(split.unvalidated) == 1
    [line] = seeds.verdicts(split.validated, ["lr"])
    assert "lr=0.1 - lr=0.01 = +2.05 points" in line  # the validation winner; on test, lr=0.01 would lead
    assert "lr=0.001" not in line
    assert seeds.verdicts(split.unvalidated, ["lr"], metric="test_acc") == []  # one group: nothing to judge
    assert "judged apart" in split.note("groups")


def test_overfitting_is_diagnosed_against_validation_when_there_is_one():
    def log(epoch, train, val, test):
        return {"epoch": epoch, "train_loss": 0.1, "train_acc": train, "val_acc": val, "val_loss": 0.2 + 0.1 * epoch,
                "test_acc": test, "test_loss": 0.2 + 0.1 * epoch}
    epochs = [log(1, 0.93, 0.93, 0.93), log(2, 0.97, 0.94, 0.97), log(3, 0.995, 0.94, 0.99)]
    [finding] = [f for f in diagnose(epochs, "finished") if f.kind == "overfitting"]
    assert finding.held_out == "validation" and "vs validation 94.00%" in describe(finding).message
    old = [{k: v for k, v in e.items() if not k.startswith("val")} for e in epochs]
    assert not [f for f in diagnose(old, "finished") if f.kind == "overfitting"]  # train and test stay close
