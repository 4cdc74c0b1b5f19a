"""Numbers that mean one thing, named with their epoch, on the pages (issue 23 items 4, 5, 6, 12; AppTest):
"best" is the best epoch validation loss picks and says so; Compare's verdict says what it tests and does not
move with the best/last switch; the Report gives no verdict while runs still train; Inspect names the epoch
of the weights it measures. (The definitions: tests/analysis/test_best_epoch.py, test_verdict_epoch.py.)"""
from __future__ import annotations

from pathlib import Path

from experiments.config import RunConfig
from experiments.store import RunStore
from tests.conftest import store_finished_run
from tests.ui.conftest import PAGES, populate, texts
from tests.ui.test_dashboard import report_group


def test_compare_verdict_and_caption_name_what_is_tested_and_the_switch_does_not_move_it(offline_db, store, app):
    # best epochs: lr 0.1 clearly ahead (epoch 2); last epochs: level within seed noise
    ids = [store_finished_run(store, [0.90, 0.96 + s / 1000, 0.91 + s / 1000], [0.9] * 3, lr=0.1, seed=s)
           for s in (0, 1, 2)]
    ids += [store_finished_run(store, [0.90, 0.905 + s / 1000, 0.91 + 2 * s / 1000], [0.9] * 3, lr=0.01, seed=s)
            for s in (0, 1, 2)]
    at = app().run()
    at.session_state["compare_ids"] = ids
    at.switch_page(PAGES["Compare"]).run()
    assert not at.exception
    [verdict] = [m.value for m in at.markdown if "Verdict" in m.value]
    assert "val. accuracy at each seed's last epoch" in verdict and "within seed noise" in verdict
    caption = "\n".join(c.value for c in at.caption)
    assert "final test accuracies" not in caption
    assert "Welch's t-test on val. accuracy at each seed's last epoch" in caption
    assert "whatever the table shows" in caption
    at.radio(key="cmp_by").set_value("last").run()
    assert [m.value for m in at.markdown if "Verdict" in m.value] == [verdict]
    assert "Metrics at the last epoch" in [h.value for h in at.subheader]
    at.radio(key="cmp_by").set_value("best").run()
    assert "Metrics at the best epoch (lowest val. loss)" in [h.value for h in at.subheader]


def test_history_and_sweep_name_the_best_epochs_rule(offline_db, store, app):
    store_finished_run(store, [0.90, 0.9280, 0.9237], [0.9] * 3, lr=0.1)
    at = app().run()
    at.switch_page(PAGES["History"]).run()
    assert not at.exception
    assert at.radio(key="hist_by").options[0] == "best epoch (lowest val. loss)"
    assert "val. accuracy at the best epoch (lowest val. loss), highest first" in at.selectbox(key="hist_order").options


def test_insights_offers_the_same_best_epoch_by_name(offline_db, app):
    at = app().run()
    at.switch_page("ui/insights_page.py").run()
    assert not at.exception
    options = at.selectbox(key="in_metric").options
    assert options[0] == "default: val. accuracy at the best epoch (lowest val. loss)"
    assert "best validation accuracy" not in options


def test_report_gives_no_verdict_while_a_run_of_the_comparison_trains(db, app):
    """Item 6: two seeds of each line done and a third still training gave "a real difference, n = 2 and 3"."""
    group = report_group(db, seeds=2)
    store = RunStore(db)
    [first] = store.search_runs(group_id=group, order_by="id", descending=False, limit=1)
    late = store.create_run(first.config.replace(seed=2), name="seed 2", group_id=group, source="dashboard")
    store.set_tags(late, first.tags)
    store.set_status(late, "running")
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    assert not at.exception
    text = texts(at).replace("\\", "")
    assert "no verdict yet, waiting for 1 run" in text
    assert "holds for our runs" not in text and "n = 2" not in text


def test_inspect_names_the_epoch_of_its_accuracy_beside_historys(db, mnist_dir, monkeypatch, app):
    """Item 12: Inspect's 94.71% (the final weights) beside History's 94.63% (the best epoch), neither dated."""
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    ids = populate(db)
    store = RunStore(db)
    config = RunConfig(hidden=(8,), lr=0.1, seed=0, epochs=2, train_size=1000)
    peaked = store.create_run(config, name="peaked at epoch 1")
    for epoch, (loss, acc) in enumerate(((0.3, 0.9463), (0.4, 0.9471)), start=1):
        store.log_epoch(peaked, {"epoch": epoch, "train_loss": 0.2, "train_acc": 0.95, "val_loss": loss,
                                 "val_acc": 0.94, "test_loss": 0.3, "test_acc": acc, "elapsed": float(epoch)})
    store.set_status(peaked, "finished")
    Path(store.weights_path(peaked)).write_bytes(Path(store.weights_path(ids[2])).read_bytes())
    at = app().run()
    at.session_state["inspect_id"] = peaked
    at.switch_page(PAGES["Inspect"]).run(timeout=60)
    assert not at.exception
    assert at.metric[0].label == "Test accuracy at epoch 2"
    caption = "\n".join(c.value for c in at.caption)
    assert "saved weights (epoch 2, the last)" in caption
    assert "at its best epoch (lowest val. loss), 1: test accuracy 94.63% there" in caption


def test_train_names_the_epoch_and_rule_of_a_finished_runs_accuracy(db, app):
    ids = populate(db)
    at = app().run()
    at.session_state["watched"] = ids
    at.run()
    assert not at.exception
    bars = [p.proto.text for p in at.get("progress")]
    assert any("val. accuracy" in t and "at its best epoch, 2 (lowest val. loss)" in t for t in bars), bars
