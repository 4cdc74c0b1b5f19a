"""The dashboard's widget logic through Streamlit's AppTest (no browser): every page with an empty and a
populated store, invalid settings refused before queuing, Train queues a run, History's actions."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig
from experiments.store import RunStore
from nn import DataError
from tests.conftest import make_dataset, wait_until
from tests.ui.conftest import PAGES, populate, texts


def test_every_page_renders_with_an_empty_store(db, app):
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Train"
    assert "No run yet" in texts(at)
    for title, page in PAGES.items():
        at.switch_page(page).run()
        assert not at.exception, title
        assert at.title[0].value == title
    assert RunStore(db).count_runs() == 0


def test_invalid_settings_are_refused_before_queuing(db, app):
    at = app().run()
    at.sidebar.text_input(key="cfg_hidden").set_value("128, abc")
    at.sidebar.button(key="train_button").click().run()
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert errors and "Not queued" in errors[0] and "'abc'" in errors[0]
    # a batch larger than the training subset is refused too, with the reason
    at.sidebar.text_input(key="cfg_hidden").set_value("16")
    at.sidebar.text_input(key="cfg_train_size").set_value("1000")
    at.sidebar.text_input(key="cfg_batch_size").set_value("5000")
    at.sidebar.button(key="train_button").click().run()
    assert "larger than the training set" in at.sidebar.error[0].value
    assert RunStore(db).count_runs() == 0


def test_train_queues_a_run_and_watches_it(db, tmp_path, monkeypatch, app):
    if not Path(os.environ["MNIST_DIR"]).joinpath("train-images-idx3-ubyte.gz").exists():
        # Train refuses while the data cannot load: give it some
        monkeypatch.setenv("MNIST_DIR", str(make_dataset(tmp_path / "tiny-mnist")))
    at = app().run()
    at.sidebar.text_input(key="cfg_hidden").set_value("8")
    at.sidebar.text_input(key="cfg_epochs").set_value("1")
    at.sidebar.text_input(key="cfg_train_size").set_value("500")
    at.sidebar.button(key="train_button").click().run()
    assert not at.exception
    assert not at.sidebar.error
    store = RunStore(db)
    runs = store.search_runs()
    assert len(runs) == 1 and runs[0].config is not None and runs[0].config.hidden == (8,)
    assert runs[0].source == "dashboard"
    assert at.session_state["watched"] == [runs[0].id]
    assert any(f"Run {runs[0].id}" in (p.proto.text or "") for p in at.get("progress"))
    from ui.common import _resources
    manager = _resources(str(db))[1]
    assert manager.wait(timeout=60)
    assert store.get_run(runs[0].id).status in ("finished", "failed")


def test_pages_render_with_a_populated_store(db, app):
    ids = populate(db)
    at = app().run()
    at.session_state["watched"] = ids
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2  # live loss and accuracy of the watched runs

    at.switch_page(PAGES["History"]).run()
    assert not at.exception
    assert "3 of 3 runs" in texts(at)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 3

    at.session_state["compare_ids"] = ids
    at.switch_page(PAGES["Compare"]).run()
    assert not at.exception
    chart = at.get("plotly_chart")[0]
    import json
    figure = json.loads(chart.proto.spec)
    names = [t.get("name", "") for t in figure["data"] if t.get("showlegend", True) is not False]
    assert names[-1] == "best epoch (lowest val. loss)"  # the single run's best epoch is starred, its rule named
    assert len(names[:-1]) == 2 and any("mean of 2 seeds" in n for n in names)  # seeds 0 and 1 averaged
    final = at.dataframe[-1].value
    assert sorted(final["id"]) == ids and "lr" in final.columns and "optimizer" not in final.columns

    at.switch_page(PAGES["Report"]).run()
    assert not at.exception


def test_history_edits_and_loads_a_run_into_the_sidebar(db, app):
    ids = populate(db)
    at = app().run()
    at.session_state["compare_ids"] = [ids[2]]
    at.switch_page(PAGES["History"]).run()
    assert not at.exception
    at.text_input[1].set_value("best <b>run</b>")  # [0] is the search box
    at.text_input[2].set_value("baseline, lr")
    at.text_area[0].set_value("notes [link](http://x)")
    _submit(at)
    run = RunStore(db).get_run(ids[2])
    assert run.name == "best <b>run</b>" and run.tags == ["baseline", "lr"] and run.notes.startswith("notes")
    at.button(key=f"load_{ids[2]}").click().run()
    assert not at.exception
    assert at.title[0].value == "Train"
    assert at.sidebar.select_slider(key="cfg_lr").value == 0.01
    assert at.sidebar.text_input(key="cfg_hidden").value == "8"


def _submit(at: AppTest) -> None:
    [button] = [b for b in at.button if b.label == "Save"]
    button.click().run()


def test_inspect_shows_the_network_of_a_run(db, mnist_dir, monkeypatch, app):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    ids = populate(db)
    at = app().run()
    at.session_state["inspect_id"] = ids[0]
    at.switch_page(PAGES["Inspect"]).run(timeout=60)
    assert not at.exception
    assert [m.label for m in at.metric][:2] == ["Test accuracy at epoch 2", "Misclassified"]
    assert len(at.get("plotly_chart")) == 4


def test_download_progress_and_offline_message(db, monkeypatch, app):
    from ui.common import _resources
    at = app().run()
    source = _resources(str(db))[2]
    # let the real background load end first
    wait_until(lambda: source.status().state in ("ready", "failed"), 30, "the real background load to end")
    monkeypatch.setattr(source, "prepare", lambda: None)  # the page would load again; here we play its states
    source._set(state="downloading", file="train-images-idx3-ubyte", done=4_000_000, total=9_912_422)
    at.run()
    bars = [p.proto.text for p in at.get("progress")]
    assert any("Downloading MNIST" in t and "9.9 MB" in t for t in bars)
    source._set(state="failed", failure=DataError("could not download train-images-idx3-ubyte.gz (offline?)"))
    at.run()
    assert not at.exception
    assert "offline?" in texts(at) and "MNIST_DIR=/path/to/folder" in texts(at)


def test_a_damaged_store_is_a_message_not_a_traceback(tmp_path, monkeypatch, app):
    bad = tmp_path / "runs.sqlite"
    bad.write_text("this is not a database " * 100)
    monkeypatch.setenv("RESULTS_DB", str(bad))
    at = app().run()
    assert not at.exception
    assert "damaged or is not a run store" in texts(at)
    at.switch_page(PAGES["History"]).run()
    assert not at.exception and "RESULTS_DB" in texts(at)


def test_diagnosis_and_user_text_shown_safely(db, app):
    store = RunStore(db)
    config = RunConfig(hidden=(8,), lr=5.0, optimizer="sgd", epochs=3)
    run_id = store.create_run(config, name="![img](http://evil/x.png) [click](javascript:alert(1))")
    store.log_epoch(run_id, {"epoch": 1, "train_loss": 2.3, "test_loss": 2.3, "train_acc": 0.1, "test_acc": 0.098,
                             "majority_fraction": 1.0, "dead_fraction": 0.9, "elapsed": 1.0})
    store.set_status(run_id, "diverged", "the loss became nan in epoch 2")
    at = app().run()
    at.session_state["watched"] = [run_id]
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Diverged" in e and "Learning rate" in e for e in errors)
    shown = texts(at) + "".join(p.proto.text for p in at.get("progress"))
    assert "](http" not in shown and "](javascript" not in shown  # names never become links or images


def test_compare_gives_a_seed_verdict(db, app):
    ids = populate(db)
    store = RunStore(db)
    config = RunConfig(hidden=(8,), lr=0.01, seed=1, epochs=2, train_size=1000)
    extra = store.create_run(config, name="lr 0.01 seed 1")
    for epoch in (1, 2):
        store.log_epoch(extra, {"epoch": epoch, "train_loss": 0.5, "test_loss": 0.5, "train_acc": 0.9,
                                "test_acc": 0.85 + 0.03 * epoch, "val_loss": 0.5, "val_acc": 0.84 + 0.03 * epoch,
                                "elapsed": epoch})
    store.set_status(extra, "finished")
    at = app().run()
    at.session_state["compare_ids"] = ids + [extra]
    at.switch_page(PAGES["Compare"]).run()
    assert not at.exception
    verdicts = [m.value for m in at.markdown if "Verdict" in m.value]
    assert len(verdicts) == 1 and ("a real difference" in verdicts[0] or "within seed noise" in verdicts[0])
    assert "val. accuracy at each seed's last epoch" in verdicts[0]  # on validation, at an epoch not chosen on it


def report_group(path: Path, comparison_id: str = "learning-rate", seeds: int = 2, train_size: int = 0) -> str:
    """A finished, reduced reproduction of one comparison, stored as the Report page queues it (or, with a
    ``train_size``, as `reproduce --train-size` does)."""
    from experiments.report import presets, reproduce
    store = RunStore(path)
    group = "report-20260101T000000Z"
    comparison = presets.get_comparison(comparison_id).scaled(0.1)
    if train_size:
        comparison = comparison.with_settings(train_size=train_size)
    for planned in presets.plan([comparison], seeds):
        run_id = store.create_run(planned.config, name=planned.name, group_id=group, source="dashboard")
        store.set_tags(run_id, [*planned.tags, f"{reproduce.SCALE_TAG}0.1"])
        good = planned.config.lr < 0.01
        for epoch in range(1, planned.config.epochs + 1):
            acc = (0.95 if good else 0.6) + 0.001 * planned.config.seed
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.3, "test_loss": 0.3, "train_acc": acc,
                                     "test_acc": acc, "full_train_acc": acc, "elapsed": epoch})
        store.set_status(run_id, "finished")
    return group


def test_report_shows_the_reports_numbers_and_our_verdict(db, app):
    report_group(db)
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 6  # one figure per comparison
    lines = [m.value for m in at.markdown if "conclusion" in m.value or "Not reproduced" in m.value]
    assert any("holds for our runs" in line for line in lines), lines
    assert sum("Not reproduced yet" in line for line in lines) == 5


def test_report_says_what_the_stored_runs_did_not_what_the_buttons_would(db, app):
    """Issue 23: a CLI reproduction on 5,000 images sat under "these runs train on all 60,000 training images",
    with only "every epoch count x 0.1" as a caption."""
    report_group(db, train_size=5000)
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert not any("these runs train on all 60,000" in c for c in captions)
    [reduced] = [c for c in captions if c.startswith("Reduced reproduction")]
    assert "first 5,000 training images only" in reduced and "every epoch count × 0.1" in reduced
    assert "Not comparable with the report's numbers" in reduced


def test_report_button_queues_the_comparison(db, app):
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    at.selectbox(key="report_scale").set_value(0.1)
    at.number_input(key="report_seeds").set_value(1)
    at.run()
    at.button(key="report_run_learning-rate").click().run()
    assert not at.exception
    from ui.common import _resources
    manager = _resources(str(db))[1]
    manager.stop_all()  # the queuing is what is tested; do not train
    manager.wait(timeout=60)
    runs = RunStore(db).search_runs(tag="report:learning-rate")
    assert len(runs) == 4 and all("epochs-scale:0.1" in r.tags for r in runs)
    assert sorted(r.config.reduction for r in runs) == ["mean", "mean", "sum", "sum"]  # both variants by default
    assert at.session_state["report_groups"]["learning-rate"] == runs[0].group_id


def test_report_double_click_queues_the_comparison_once(db, app):
    """Issue 12 item 1: two quick clicks on a Report button stored every run twice."""
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    at.selectbox(key="report_scale").set_value(0.1)
    at.number_input(key="report_seeds").set_value(2)
    at.run()
    at.button(key="report_run_learning-rate").click().run()
    at.button(key="report_run_learning-rate").click().run()   # the second click of a double click
    assert not at.exception
    from ui.common import _resources
    manager = _resources(str(db))[1]
    manager.stop_all()  # the queuing is what is tested; do not train
    manager.wait(timeout=60)
    runs = RunStore(db).search_runs(tag="report:learning-rate")
    assert len(runs) == 8 and len({(r.config.to_json()) for r in runs}) == 8  # 2 lines x 2 variants x 2 seeds, once
    assert any("Already queued" in t.proto.body for t in at.toast)


def test_report_page_counts_a_duplicated_seed_once_and_says_so(db, app):
    group = report_group(db)
    store = RunStore(db)
    twin = store.search_runs(group_id=group, order_by="id", descending=False)[0]
    copy = store.create_run(twin.config, name=twin.name, group_id=group, source="dashboard")
    store.set_tags(copy, twin.tags)
    for e in store.get_epochs(twin.id):
        store.log_epoch(copy, {k: v for k, v in e.items() if k != "run_id"})
    store.set_status(copy, "finished")
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    assert not at.exception
    lines = [m.value.replace("\\", "") for m in at.markdown if "conclusion" in m.value]
    assert any("holds for our runs" in line and "n = 2 and 2" in line and "not counted again" in line
               for line in lines), lines


def test_an_idle_report_page_has_no_refresh_timer_and_an_active_one_has(db, app):
    report_group(db)
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    assert at.session_state["report_busy"] is False
    store = RunStore(db)
    store.create_run(RunConfig(hidden=(8,)), name="queued", group_id="report-20260101T000000Z")
    queued = store.search_runs(limit=1)[0].id
    store.set_tags(queued, ["report", "report:learning-rate"])
    at.run()
    assert at.session_state["report_busy"] is True
    store.set_status(queued, "stopped")
    at.run()
    assert at.session_state["report_busy"] is False and not at.exception


def test_history_filters_exports_and_deletes_with_confirmation(db, app):
    ids = populate(db)
    at = app().run()
    at.session_state["compare_ids"] = [ids[0]]  # as if ticked on Compare
    at.switch_page(PAGES["History"]).run()
    assert at.get("download_button")[0].proto.label == "Export 1 selected (CSV)"
    at.button(key="hist_delete").click().run()
    assert not at.exception
    assert "cannot be undone" in texts(at)  # the confirmation dialog, nothing deleted yet
    assert RunStore(db).count_runs() == 3
    at.button(key="confirm_delete").click().run()
    assert not at.exception
    store = RunStore(db)
    assert store.count_runs() == 2 and not store.weights_path(ids[0]).exists()
    assert at.session_state["compare_ids"] == []

    at.text_input(key="hist_text").set_value("seed 1").run()
    assert "1 of 2 runs" in texts(at)
    at.text_input(key="hist_text").set_value("").run()
    at.multiselect(key="hist_status").set_value(["failed"]).run()
    assert "0 of 2 runs" in texts(at)


def test_report_overlays_both_variants_and_says_when_the_conclusion_flips(db, app):
    from experiments.report import presets
    store = RunStore(db)
    lr = presets.get_comparison("learning-rate").scaled(0.1)
    for planned in presets.plan(presets.variants([lr]), 2):
        c = planned.config
        run_id = store.create_run(c, name=planned.name, group_id="report-20260101T000000Z", source="dashboard")
        store.set_tags(run_id, [*planned.tags, "epochs-scale:0.1"])
        good = (c.lr < 0.01) == (c.reduction == "sum")  # summed: lr 0.001 wins; averaged: lr 0.1 wins
        for epoch in range(1, c.epochs + 1):
            acc = (0.95 if good else 0.6) + 0.001 * c.seed
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.3, "test_loss": 0.3, "train_acc": acc,
                                     "test_acc": acc, "full_train_acc": acc, "elapsed": epoch})
        store.set_status(run_id, "finished")
    at = app().run()
    at.switch_page(PAGES["Report"]).run()
    assert not at.exception
    lines = [m.value.replace("\\", "") for m in at.markdown if "conclusion" in m.value]
    assert any(line.startswith("**Correct network: the report's conclusion does not hold") for line in lines), lines
    summed = "**As the report probably ran it: the report's conclusion holds"
    assert any(line.startswith(summed) for line in lines), lines
    assert any("The conclusion flips" in w.value for w in at.warning)


def _ended_run(path: Path, status: str, epochs: int = 0, message: str = "", lr: float = 0.001) -> int:
    store = RunStore(path)
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=3, train_size=1000, lr=lr), name=f"{status} run")
    for epoch in range(1, epochs + 1):
        store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.5, "test_loss": 0.6, "train_acc": 0.8,
                                 "test_acc": 0.7, "elapsed": epoch})
    store.set_status(run_id, status, message)
    store.close()
    return run_id


def test_an_early_stopped_run_is_shown_done_and_where_it_ended(db, app):
    """Issue 23: "epoch 9/40 · finished" at 22% for a run early stopping ended."""
    run_id = _ended_run(db, "finished", epochs=1, message="early stopping: val_loss did not improve")
    at = app().run()
    at.session_state["watched"] = [run_id]
    at.run()
    assert not at.exception
    [bar] = [p.proto for p in at.get("progress") if f"Run {run_id}" in p.proto.text]
    assert bar.value == 100 and "ended at epoch 1 of 3 (early stopping)" in bar.text


def test_reloading_train_shows_this_sessions_runs_again(db, app):
    """The watched runs live in the URL (?runs=...), so a reload (a new session) keeps them."""
    ids = populate(db)
    at = app().run()
    at.session_state["watched"] = ids
    at.run()
    assert at.query_params.get("runs") == ",".join(map(str, ids))
    reloaded = app()
    junk = ",x,99999,\uff11," + "9" * 5000  # junk, a deleted run, a full-width digit, a 5000-digit number
    reloaded.query_params["runs"] = ",".join(map(str, ids)) + junk  # are ignored
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.session_state["watched"] == ids
    bars = [p.proto.text for p in reloaded.get("progress")]
    assert all(any(f"Run {i} " in b for b in bars) for i in ids) and len(reloaded.get("plotly_chart")) == 2


def test_train_says_curves_will_come_only_while_a_run_can_still_make_them(db, app):
    diverged = _ended_run(db, "diverged", message="the loss became nan in epoch 1")
    at = app().run()
    at.session_state["watched"] = [diverged]
    at.run()
    assert not at.exception
    assert "after the first epoch" not in texts(at)
    assert any("Diverged" in e.value for e in at.error)  # the diagnosis says what happened instead
    queued = RunStore(db).create_run(RunConfig(hidden=(8,), epochs=3), name="waiting")
    at.session_state["watched"] = [diverged, queued]
    at.run()
    assert "after the first epoch" in texts(at)


def test_compare_with_only_zero_epoch_runs_draws_nothing_and_says_why(db, app):
    ids = [_ended_run(db, "stopped", lr=0.1), _ended_run(db, "failed", message="no data", lr=0.01)]
    at = app().run()
    at.session_state["compare_ids"] = ids
    at.switch_page(PAGES["Compare"]).run()
    assert not at.exception
    assert not at.get("plotly_chart")
    assert "Nothing to draw" in texts(at) and f"run {ids[0]} stopped" in texts(at)
    drawn = _ended_run(db, "finished", epochs=2)
    seed = RunStore(db).create_run(RunConfig(hidden=(8,), epochs=3, train_size=1000, lr=0.001, seed=5), name="q")
    at.session_state["compare_ids"] = [*ids, drawn, seed]
    at.run()
    charts = [c for c in at.get("plotly_chart") if c.key == "compare_chart"]
    assert len(charts) == 1 and f"run {seed} queued" in texts(at)
    import json
    names = [t.get("name", "") for t in json.loads(charts[0].proto.spec)["data"]]
    assert not any("mean of" in n for n in names)  # the queued seed is not averaged into its group's curve


def test_missing_metrics_show_a_dash_not_none(db, app):
    populate(db)
    _ended_run(db, "failed", message="no data")
    at = app().run()
    at.switch_page(PAGES["History"]).run()
    assert at.dataframe[0].proto.placeholder == "–"
    at.session_state["compare_ids"] = [1, 4]
    at.switch_page(PAGES["Compare"]).run()
    assert all(d.proto.placeholder == "–" for d in at.dataframe)


def test_history_export_says_what_it_exports_and_the_caption_no_order(db, app):
    ids = populate(db)
    at = app().run()
    at.switch_page(PAGES["History"]).run()
    assert at.get("download_button")[0].proto.label == "Export all 3 listed (CSV)"
    assert "newest first" not in texts(at)  # a click on a header sorts in the browser, unseen by the server
    ticked = app().run()
    ticked.session_state["compare_ids"] = ids[:2]
    ticked.switch_page(PAGES["History"]).run()
    assert ticked.get("download_button")[0].proto.label == "Export 2 selected (CSV)"


@pytest.mark.mnist
def test_inspect_warns_that_a_diverged_runs_network_is_broken(db, mnist_dir, monkeypatch, app):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    ids = populate(db)
    RunStore(db).set_status(ids[1], "diverged", "the loss became nan in epoch 2")
    at = app().run()
    at.session_state["inspect_id"] = ids[1]
    at.switch_page(PAGES["Inspect"]).run(timeout=60)
    assert not at.exception
    assert any("diverged" in w.value and "broken network" in w.value for w in at.warning)
    at.selectbox(key="inspect_run").set_value(ids[0]).run(timeout=60)
    assert not at.warning  # a finished run's numbers stand without a caveat


def test_a_new_session_with_runs_stored_does_not_say_no_run_yet(db, app):
    """Issue 23 item 15: a new session's Train page watches no run, but it must not say "No run yet" when the
    store holds runs; it says how many are stored and where they are."""
    populate(db)
    at = app().run()
    assert not at.exception
    shown = texts(at)
    assert "No run yet" not in shown
    assert "3 stored runs" in shown and "History" in shown
