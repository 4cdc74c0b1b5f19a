"""Insights on synthetic histories: importance beside its seed-noise floor, the FDR verdict table, bad input."""
from __future__ import annotations

import json
import math

import pytest

from experiments.analysis import stats
from experiments.analysis.importance import importance
from experiments.analysis.selection import InsightError, Metric, Source, SourceKind, select
from experiments.analysis.verdict_table import ONE_SEED, table_from_samples, verdict_table
from experiments.config import RunConfig
from experiments.store import RunStore
from nn.status import RunStatus
from tests.insight_history import make_history, nothing, only_lr

TAG = Source(SourceKind.TAG, "hist")


@pytest.mark.parametrize("rng_seed", [0, 1])
def test_the_one_setting_that_matters_ranks_first_above_the_floor(store, rng_seed):
    make_history(store, only_lr, seeds=2, rng_seed=rng_seed)
    result = importance(select(store, TAG))
    first, *rest = result.ranking
    assert first.setting == "lr" and first.above_floor is True
    assert result.floors is not None and first.importance > result.floors["lr"]
    assert [r.above_floor for r in rest] == [False, False]


@pytest.mark.parametrize("rng_seed", [0, 1])
def test_when_nothing_matters_nothing_stands_above_the_floor(store, rng_seed):
    make_history(store, nothing, seeds=2, rng_seed=rng_seed)
    result = importance(select(store, TAG))
    assert result.floors is not None and result.replicated_configs == 12
    assert [r.above_floor for r in result.ranking] == [False, False, False]


def test_without_seed_replicates_there_is_no_floor_and_it_says_so(store):
    make_history(store, only_lr, seeds=1)
    result = importance(select(store, TAG))
    assert result.floors is None and all(r.above_floor is None for r in result.ranking)
    assert "no seed replicates" in result.note and result.ranking[0].setting == "lr"


def test_fdr_table_adjusts_over_the_whole_table():
    best = [0.980, 0.981, 0.979, 0.980]
    clearly_worse = [0.950, 0.951, 0.949, 0.950]
    marginal = [0.9786, 0.9792, 0.9780, 0.9788]         # raw p < 0.05 against the best, but one of many
    noise = [[0.9797, 0.9787, 0.9809, 0.9792], [0.9805, 0.9787, 0.9798, 0.9794], [0.9796, 0.9808, 0.9787, 0.9800]]
    labels = ["best", "worse", "marginal", "n1", "n2", "n3", "single"]
    samples = [best, clearly_worse, marginal, *noise, [0.99]]
    raw_marginal = stats.welch(marginal, best).p
    assert raw_marginal < 0.05  # the case is built so that one-by-one testing would call it real
    table = table_from_samples(labels, samples, metric_label="best validation accuracy")
    rows = {r.label: r for r in table.rows}
    assert table.rows[0].label == "best" and rows["best"].best  # the single lucky seed (0.99) is not the best
    assert rows["worse"].kind is stats.VerdictKind.REAL and "really worse" in rows["worse"].verdict
    assert rows["marginal"].p == pytest.approx(raw_marginal) and rows["marginal"].p_adjusted > 0.05
    assert rows["marginal"].kind is stats.VerdictKind.NOISE
    assert rows["single"].verdict == ONE_SEED and rows["single"].p is None and math.isnan(rows["single"].low)
    assert table.comparisons == 5
    ps = sorted(r.p for r in table.rows if r.p is not None)
    assert sorted(r.p_adjusted for r in table.rows if r.p_adjusted is not None) == pytest.approx(stats.bh_adjust(ps))
    best_ci = rows["best"]
    assert best_ci.low < best_ci.mean < best_ci.high


def test_a_two_seed_interval_stays_within_what_an_accuracy_can_be():
    """Issue 23: two seeds gave [63.63, 104.55] for an accuracy; the t-interval is cut to [0, 100]%."""
    table = table_from_samples(["wide", "low"], [[0.7, 0.98], [0.02, 0.3]], metric_label="best validation accuracy")
    for row in table.rows:
        assert 0.0 <= row.low < row.mean < row.high <= 1.0
    assert "cut to 0-100%" in table.note


def test_the_difference_and_p_columns_never_print_none():
    table = table_from_samples(["a", "b", "single"], [[0.97, 0.98], [0.90, 0.91], [0.95]])
    texts = {r.label: (r.diff_text, *r.p_texts) for r in table.rows}
    assert texts["a"] == ("best", "-", "-") and texts["b"][0] == "-7.00" and texts["single"] == ("-", "-", "-")
    assert not any("None" in t for row in texts.values() for t in row)


def test_verdict_table_of_a_stored_history_pools_seeds(store):
    make_history(store, only_lr, seeds=2)
    table = verdict_table(select(store, TAG))
    assert len(table.rows) == 12 and all(r.n == 2 for r in table.rows)
    assert "lr=0.01" in table.rows[0].label
    assert all(r.kind is stats.VerdictKind.REAL for r in table.rows if "lr=0.01" not in r.label)


def _count(store: RunStore) -> tuple[int, int]:
    return store.count_runs(), len(store.get_epochs_of([r.id for r in store.search_runs()]))


def test_bad_selections_get_one_line_and_change_nothing(store):
    make_history(store, only_lr, seeds=1)
    before = _count(store)
    cases = {"few": Source(SourceKind.SEARCH, "lr=0.1 batch=32"), "none": Source(SourceKind.TAG, "nope"),
             "sweep": Source(SourceKind.SWEEP, "sw-missing")}
    for source in cases.values():
        with pytest.raises(InsightError, match="at least 4 are needed"):
            select(store, source)
    other = store.create_run(RunConfig(lr=0.1, train_size=5000), tags=["hist"])
    store.log_epoch(other, {"epoch": 1, "test_acc": 0.9})
    store.set_status(other, RunStatus.FINISHED)
    with pytest.raises(InsightError, match="mixes 2 datasets or splits") as mixed:
        select(store, TAG)
    assert "\n" not in str(mixed.value)
    assert _count(store)[0] == before[0] + 1  # only the run this test added


def test_a_selection_where_only_the_seed_varies_is_refused(store):
    for seed in range(5):
        run = store.create_run(RunConfig(seed=seed, train_size=1000), tags=["seeds"])
        store.log_epoch(run, {"epoch": 1, "test_acc": 0.9 + seed / 1000})
        store.set_status(run, RunStatus.FINISHED)
    with pytest.raises(InsightError, match="differ only by seed"):
        select(store, Source(SourceKind.TAG, "seeds"))


def test_test_metrics_are_never_used_silently(store):
    make_history(store, only_lr, seeds=1)
    selection = select(store, TAG)
    if selection.metric is Metric.FINAL_TEST_ACC:  # runs without validation numbers: the fallback is said
        assert any("no validation numbers" in n for n in selection.notes)
    else:
        assert selection.metric is Metric.BEST_VAL_ACC and not selection.notes
    explicit = select(store, TAG, Metric.FINAL_TEST_ACC)
    assert any("held-out final check" in n for n in explicit.notes)


def test_the_cli_prints_the_same_numbers_as_json(store, capsys):
    from experiments.cli.entry import main

    make_history(store, only_lr, seeds=2)
    assert main(["--db", str(store.path), "insights", "--tag", "hist", "--json", "--shuffles", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["importance"]["ranking"][0]["setting"] == "lr" and len(data["verdicts"]["rows"]) == 12
    assert main(["--db", str(store.path), "insights", "--tag", "hist", "--shuffles", "20"]) == 0
    out = capsys.readouterr().out
    assert "importance (permutation importance" in out and "noise floor" in out and "BH-adjusted" in out
    assert main(["--db", str(store.path), "insights", "--tag", "nothing-here"]) == 2
    assert "at least 4 are needed" in capsys.readouterr().err


def test_a_sweep_and_a_dataset_select_their_own_runs(store):
    from experiments.analysis.selection import dataset_choices, find_runs

    sweep_ids = make_history(store, only_lr, seeds=1, tag="sweep:sw-test")
    other = make_history(store, nothing, seeds=1, tag="other", train_size=2000)
    assert [r.id for r in find_runs(store, Source(SourceKind.SWEEP, "sw-test"))] == sweep_ids
    choices = dataset_choices(store)
    assert len(choices) == 2 and all("train_size=" in c for c in choices)
    by_data = {c: [r.id for r in find_runs(store, Source(SourceKind.DATASET, c))] for c in choices}
    assert sorted(by_data.values()) == sorted([sweep_ids, other])
    with pytest.raises(InsightError, match="mixes 2 datasets"):
        select(store, Source(SourceKind.SEARCH, ""))  # every finished run: two training-set sizes
