"""The pages rank and judge runs on validation (AppTest): Compare's default metric, best-epoch mark and split
verdicts, History's order, and Train's refusal of early stopping without a validation set. (The ranking and
verdicts themselves: tests/analysis/test_ranking.py.)"""
from __future__ import annotations

from tests.conftest import store_finished_run, wait_until


def test_compare_defaults_to_validation_marks_the_best_epoch_and_splits_verdicts(offline_db, store, app):
    ids = [store_finished_run(store, [0.90, 0.95 + s / 100, 0.93], [0.9, 0.9, 0.9], lr=0.1, seed=s) for s in (0, 1)]
    ids += [store_finished_run(store, [0.90, 0.91, 0.92 + s / 100], [0.95] * 3, lr=0.01, seed=s) for s in (0, 1)]
    ids += [store_finished_run(store, None, [0.99, 0.99 + s / 1000], lr=0.001 * (k + 1), seed=s)
            for s in (0, 1) for k in (0, 1)]
    at = app().run()
    at.session_state["compare_ids"] = ids
    at.switch_page("ui/compare_page.py").run()
    assert not at.exception
    assert at.selectbox(key="cmp_metric").value == "val_acc" and at.radio(key="cmp_by").value == "best"
    verdicts = [m.value for m in at.markdown if "Verdict" in m.value]
    assert len(verdicts) == 2
    assert "val. accuracy at each seed's last epoch" in verdicts[0] and "0.001" not in verdicts[0]
    assert "without a validation set" in verdicts[1] and "lr=0.1" not in verdicts[1]
    shown = "\n".join(c.value for c in at.caption)
    assert "judged apart" in shown and "final check" in shown
    at.toggle(key="cmp_seeds").set_value(False).run()  # single runs: each run's best epoch is starred
    assert "best epoch (lowest val. loss)" in at.get("plotly_chart")[0].proto.spec


def test_history_lists_the_best_on_validation_first_and_reads_runs_at_best_or_last(offline_db, store, app):
    worse = store_finished_run(store, [0.90, 0.91], [0.99, 0.99], lr=0.1)
    better = store_finished_run(store, [0.95, 0.90], [0.90, 0.90], lr=0.01)
    old = store_finished_run(store, None, [0.999, 0.999], lr=0.001)
    at = app().run()
    at.switch_page("ui/history_page.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["id"].tolist() == [better, worse, old]
    assert frame.set_index("id").loc[better, "epoch"] == 1 and frame.set_index("id").loc[old, "summarised_by"] == "last"
    at.radio(key="hist_by").set_value("last").run()
    assert at.dataframe[0].value["id"].tolist() == [worse, better, old]
    assert "last finished epoch" in "\n".join(c.value for c in at.caption)


def test_train_refuses_early_stopping_without_a_validation_set_in_one_line(offline_db, store, app, monkeypatch,
                                                                            tiny_mnist):
    from ui.common import _resources

    # Data that loads: once the background load is ready, no run restarts it, so the page's busy state cannot
    # change between the page and its live fragment, whose st.rerun() would replace the click's run with one
    # without the click (the lost click: a failed load is restarted on every run, and may flip in between).
    monkeypatch.setenv("MNIST_DIR", str(tiny_mnist))
    at = app().run()
    source = _resources(str(offline_db))[2]
    wait_until(lambda: source.status().state == "ready", 30, "the tiny MNIST to load")
    at.sidebar.selectbox(key="cfg_early_stopping").set_value("val_loss")
    at.sidebar.text_input(key="cfg_val_size").set_value("0")
    at.sidebar.button(key="train_button").click().run()
    [error] = [e.value for e in at.sidebar.error]
    assert "Not queued" in error and "Validation images is 0" in error and "\n" not in error
    assert store.count_runs() == 0
    assert at.sidebar.checkbox(key="cfg_restore_best").value is True  # on by default with early stopping
