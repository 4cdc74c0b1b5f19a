"""Everything that ranks or judges runs does so on validation: the ranking, the seed verdicts (never mixing
runs without a validation set in), Compare's default metric and chart, History's order, the sweep refusal,
and the overfitting diagnosis."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.analysis import ranking, seeds
from experiments.analysis.diagnosis import diagnose
from experiments.analysis.diagnosis_text import describe
from experiments.config import ConfigError, RunConfig
from experiments.store import RunStore
from experiments.store.best import SummaryBy

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@pytest.fixture
def store(tmp_path, monkeypatch) -> RunStore:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(path))
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))  # no data: these pages only read the store
    s = RunStore(path)
    yield s
    s.close_all()


def add(store: RunStore, val: list[float] | None, test: list[float], **settings) -> int:
    """A finished run with the given per-epoch validation (None: no validation set) and test accuracies."""
    config = RunConfig(hidden=(8,), epochs=len(test), val_size=0 if val is None else 10_000, **settings)
    run_id = store.create_run(config, name=f"run {settings}")
    for i, acc in enumerate(test):
        logs = {"epoch": i + 1, "train_loss": 0.5, "train_acc": 0.99, "test_loss": 1 - acc, "test_acc": acc,
                "elapsed": float(i + 1)}
        if val is not None:
            logs.update(val_acc=val[i], val_loss=1 - val[i])
        store.log_epoch(run_id, logs)
    store.set_status(run_id, "finished")
    return run_id


def test_ranking_is_on_validation_at_the_best_epoch_and_runs_without_it_come_apart(store):
    peak_then_drop = add(store, [0.90, 0.97, 0.93], [0.90, 0.95, 0.99], lr=0.1)   # best val at epoch 2
    steady = add(store, [0.90, 0.94, 0.95], [0.96, 0.96, 0.96], lr=0.01)
    old = add(store, None, [0.99, 0.995, 0.999], lr=0.001)  # best test of all, but chosen on nothing held out
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
        add(store, [a], [0.90], lr=0.1, seed=seed)      # higher validation, lower test
        add(store, [b], [0.99], lr=0.01, seed=seed)
        add(store, None, [0.98 + seed / 1000], lr=0.001, seed=seed)  # stored before validation existed
    groups = seeds.group_by_config(store.search_runs(order_by="id", descending=False))
    split = ranking.split_by_validation(groups)
    assert [len(g) for g in split.validated] == [2, 2] and len(split.unvalidated) == 1
    [line] = seeds.verdicts(split.validated, ["lr"])
    assert "lr=0.1 - lr=0.01 = +2.05 points" in line  # the validation winner; on test, lr=0.01 would lead
    assert "lr=0.001" not in line
    assert seeds.verdicts(split.unvalidated, ["lr"], metric="test_acc") == []  # one group: nothing to judge
    assert "judged apart" in split.note("groups")


def test_compare_defaults_to_validation_marks_the_best_epoch_and_splits_verdicts(store):
    ids = [add(store, [0.90, 0.95 + s / 100, 0.93], [0.9, 0.9, 0.9], lr=0.1, seed=s) for s in (0, 1)]
    ids += [add(store, [0.90, 0.91, 0.92 + s / 100], [0.95] * 3, lr=0.01, seed=s) for s in (0, 1)]
    ids += [add(store, None, [0.99, 0.99 + s / 1000], lr=0.001 * (k + 1), seed=s) for s in (0, 1) for k in (0, 1)]
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.session_state["compare_ids"] = ids
    at.switch_page("ui/compare_page.py").run()
    assert not at.exception
    assert at.selectbox(key="cmp_metric").value == "val_acc" and at.radio(key="cmp_by").value == "best"
    verdicts = [m.value for m in at.markdown if "Verdict" in m.value]
    assert len(verdicts) == 2
    assert "validation accuracy at the best epoch" in verdicts[0] and "0.001" not in verdicts[0]
    assert "without a validation set" in verdicts[1] and "lr=0.1" not in verdicts[1]
    shown = "\n".join(c.value for c in at.caption)
    assert "judged apart" in shown and "final check" in shown
    at.toggle(key="cmp_seeds").set_value(False).run()  # single runs: each run's best epoch is starred
    assert "best epoch (validation)" in at.get("plotly_chart")[0].proto.spec


def test_history_lists_the_best_on_validation_first_and_reads_runs_at_best_or_last(store):
    worse = add(store, [0.90, 0.91], [0.99, 0.99], lr=0.1)
    better = add(store, [0.95, 0.90], [0.90, 0.90], lr=0.01)
    old = add(store, None, [0.999, 0.999], lr=0.001)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("ui/history_page.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["id"].tolist() == [better, worse, old]
    assert frame.set_index("id").loc[better, "epoch"] == 1 and frame.set_index("id").loc[old, "summarised_by"] == "last"
    at.radio(key="hist_by").set_value("last").run()
    assert at.dataframe[0].value["id"].tolist() == [worse, better, old]
    assert "last finished epoch" in "\n".join(c.value for c in at.caption)


def test_a_ray_sweep_mixing_validation_protocols_is_refused_in_one_line():
    from experiments.sweeps.ray_engine import _one_protocol
    from experiments.sweeps.spec import Trial
    trials = [Trial(i, RunConfig(val_size=v), {"val_size": v}) for i, v in enumerate((0, 10_000))]
    with pytest.raises(ConfigError, match="same val_size") as err:
        _one_protocol(trials)
    assert "\n" not in str(err.value)
    _one_protocol(trials[1:])  # one protocol: fine


def test_overfitting_is_diagnosed_against_validation_when_there_is_one():
    def log(epoch, train, val, test):
        return {"epoch": epoch, "train_loss": 0.1, "train_acc": train, "val_acc": val, "val_loss": 0.3,
                "test_acc": test, "test_loss": 0.3}
    epochs = [log(1, 0.93, 0.93, 0.93), log(2, 0.97, 0.94, 0.97), log(3, 0.995, 0.94, 0.99)]
    [finding] = [f for f in diagnose(epochs, "finished") if f.kind == "overfitting"]
    assert finding.held_out == "validation" and "vs validation 94.0%" in describe(finding).message
    old = [{k: v for k, v in e.items() if not k.startswith("val")} for e in epochs]
    assert not [f for f in diagnose(old, "finished") if f.kind == "overfitting"]  # train and test stay close


def test_train_refuses_early_stopping_without_a_validation_set_in_one_line(store):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.selectbox(key="cfg_early_stopping").set_value("val_loss")
    at.sidebar.text_input(key="cfg_val_size").set_value("0")
    for _ in range(3):  # AppTest once lost the click under load (no error, nothing queued): press again
        at.sidebar.button(key="train_button").click().run()
        if at.sidebar.error:
            break
    [error] = [e.value for e in at.sidebar.error]
    assert "Not queued" in error and "val_size is 0" in error and "\n" not in error
    assert store.count_runs() == 0
    assert at.sidebar.checkbox(key="cfg_restore_best").value is True  # on by default with early stopping
