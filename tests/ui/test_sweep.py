"""The Sweep page through AppTest: it renders, refuses a bad grid, starts a tiny sweep and shows its trials."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments.store import RunStore
from tests.conftest import wait_until
from tests.ui.conftest import texts

PAGE = "ui/sweep_page.py"


def test_the_page_renders_and_refuses_a_bad_grid(db, app):
    at = app().run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "Sweep" in texts(at) and "8 trials" in texts(at)  # 2 lr x 2 batch x 2 widths x adam
    at.text_input(key="sw_lr").set_value("0.01, 50").run()
    assert "Learning rates must be" in texts(at) and "Fix the settings" in texts(at)  # the box's label


@pytest.mark.mnist
def test_start_trains_a_tiny_grid_into_the_store(db, mnist_dir, monkeypatch, app):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    at = app().run()
    at.switch_page(PAGE).run()
    at.text_input(key="sw_lr").set_value("0.01").run()
    at.text_input(key="sw_batch").set_value("64").run()
    at.text_input(key="sw_hidden").set_value("16; 8").run()
    at.text_input(key="sw_epochs").set_value("1").run()
    at.text_input(key="sw_train").set_value("2000").run()
    at.button(key="sw_start_grid").click().run()
    assert not at.exception
    store = RunStore(db)
    wait_until(lambda: not any(r.status in ("queued", "running") for r in store.search_runs()), 90,
               "the sweep's trials to end", every=0.2)
    runs = store.search_runs(tag="sweep")
    assert len(runs) == 2 and {r.status for r in runs} == {"finished"}
    at.run()
    assert "2 of 2 epochs" in texts(at) or any("2 of 2 epochs" in str(p.proto) for p in at.get("progress"))


def _stored_sweep(db: Path, name: str, lrs: tuple[float, ...], source: str = "cli") -> str:
    """A sweep stored as the command line stores one (no pool in this process)."""
    from experiments.sweeps.local import create_trial_runs
    from experiments.sweeps.spec import expand, new_sweep_id, parse_spec
    spec = parse_spec({"name": name, "base": {"epochs": 1, "train_size": 1000}, "grid": {"lr": list(lrs)}})
    sweep_id = new_sweep_id() + name.replace(" ", "")
    store = RunStore(db)
    ids = create_trial_runs(store, spec, expand(spec), sweep_id, source)
    store.set_status(ids[0], "finished")
    store.close()
    return sweep_id


def test_the_page_lists_every_stored_sweep_by_name_and_date(db, app):
    """Sweeps started from the command line (or before a restart) are listed, not only this process's."""
    older = _stored_sweep(db, "first sweep", (0.1, 0.01))
    newer = _stored_sweep(db, "second sweep", (0.1, 0.01, 0.001))
    at = app().run()
    at.switch_page(PAGE).run()
    assert not at.exception
    pick = at.selectbox(key="sw_pick")
    created = RunStore(db).search_runs(group_id=newer)[0].created[:16].replace("T", " ")
    assert pick.options[0] == f"second sweep · {created} · 3 trials: 1 finished, 2 queued · cli"
    assert pick.options[1].startswith("first sweep · ") and pick.value == newer
    # the chosen sweep's trials; the one stored as finished without an epoch ended early, and is done
    assert any("0 of 2 epochs (1 planned epoch not needed" in str(p.proto) for p in at.get("progress"))
    pick.set_value(older).run()
    assert any("0 of 1 epochs (1 planned epoch not needed" in str(p.proto) for p in at.get("progress"))


def test_a_sweep_whose_trials_all_ended_shows_100_percent(db, app):
    """Issue 23: a finished TPE sweep said "16 of 18 epochs" at 89%: trials ended early count as done."""
    sweep_id = _stored_sweep(db, "pruned sweep", (0.1, 0.01, 0.001))
    store = RunStore(db)
    for run in store.search_runs(group_id=sweep_id):
        store.set_status(run.id, "pruned")  # ended before their one epoch
    store.close()
    at = app().run()
    at.switch_page(PAGE).run()
    assert not at.exception
    [bar] = [p.proto for p in at.get("progress")]
    assert bar.value == 100 and "0 of 0 epochs (3 planned epochs not needed: 3 runs ended early)" in bar.text


def test_a_double_click_on_start_sweep_starts_it_once(db, tmp_path, monkeypatch, app):
    _no_mnist(tmp_path, monkeypatch)  # the trials fail at once: only the queuing is tested
    at = app().run()
    at.switch_page(PAGE).run()
    at.text_input(key="sw_lr").set_value("0.01").run()
    at.text_input(key="sw_batch").set_value("64").run()
    at.text_input(key="sw_hidden").set_value("16; 8").run()
    at.button(key="sw_start_grid").click().run()
    at.button(key="sw_start_grid").click().run()  # the second click of a double click
    assert not at.exception
    store = RunStore(db)
    assert store.count_runs() == 2
    wait_until(lambda: not any(r.status in ("queued", "running") for r in store.search_runs()), 60,
               "the failing trials to end", every=0.2)


def test_sweeps_are_found_by_tag_or_group():
    from experiments.config import RunConfig
    from experiments.store import RunRecord
    from experiments.sweeps.catalog import summarize

    def run(run_id, name, tags, group, status="finished", created="2026-01-01T10:00:00+00:00"):
        return RunRecord(id=run_id, name=name, created=created, config=RunConfig(), status=status, tags=tags,
                         group_id=group, source="cli")

    sweeps = summarize([run(1, "a #0: lr=0.1", ["sweep:sw-1"], "sw-1"),
                        run(2, "renamed by hand", [], "sw-1", status="queued"),  # tags edited away: its group
                        run(3, "plain run", [], None), run(4, "report", ["report:lr"], "report-1"),
                        run(5, "b #0: lr=1", ["sweep:sw-2"], "sw-2", created="2026-02-01T09:30:00+00:00"),
                        run(6, "c #0: lr=1", ["sweep:sw-0"], "sw-0", created="2026-02-01T09:30:00+00:00")])
    assert [s.sweep_id for s in sweeps] == ["sw-0", "sw-2", "sw-1"]  # newest first; the same second: by run id
    assert sweeps[2].name == "a" and sweeps[2].run_ids == [1, 2] and sweeps[2].active
    assert sweeps[2].label() == "a · 2026-01-01 10:00 · 2 trials: 1 finished, 1 queued · cli"


GRID_REFUSED = [  # (widget key, typed text, expected words): refused in one line, never silently changed
    ("sw_hidden", ";;", "give at least one value"),
    ("sw_hidden", "64;", "entry 2"),
    ("sw_hidden", "64;;128", "entry 2"),
    ("sw_hidden", "1e2", "hidden layer width must be"),
    ("sw_hidden", "\uff11\uff12\uff18", "hidden layer width must be"),
    ("sw_lr", "0.01,,0.1", "entry 2"),
    ("sw_batch", "", "give at least one value"),
    ("sw_epochs", "-5", "Epochs must be a whole number from 1 to"),
    ("sw_epochs", "99999999", "Epochs must be"),
    ("sw_train", "1000000", "Training images must be"),
    ("sw_hidden", "9" * 5083, "5083 characters"),
]


@pytest.mark.parametrize("key,text,words", GRID_REFUSED, ids=[f"{k}={t[:12]!r}" for k, t, _ in GRID_REFUSED])
def test_a_bad_grid_entry_is_refused_in_one_line_and_nothing_starts(db, key, text, words, app):
    at = app().run()
    at.switch_page(PAGE).run()
    at.text_input(key=key).set_value(text).run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert words in error and "\n" not in error and len(error) < 300, error
    assert "Fix the settings" in texts(at) and at.button(key="sw_start_grid").disabled
    assert at.text_input(key=key).value == text  # the box keeps what was typed
    assert RunStore(db).count_runs() == 0


def test_the_grid_offers_the_configs_optimizers_and_refuses_none(db, app):
    from experiments.config import setting_of
    at = app().run()
    at.switch_page(PAGE).run()
    assert list(at.multiselect(key="sw_opt").options) == list(setting_of("optimizer").choices)
    at.multiselect(key="sw_opt").set_value([]).run()
    assert any("at least one optimizer" in e.value for e in at.error) and at.button(key="sw_start_grid").disabled
    at.text_input(key="sw_hidden").set_value("none; 16").run()
    at.multiselect(key="sw_opt").set_value(["sgd", "adam"]).run()
    assert not at.error and "16 trials" in texts(at)  # 2 lr x 2 batch x 2 architectures x 2 optimizers


def test_the_tpe_tab_offers_budget_and_pruner_and_refuses_a_budget_below_startup(db, app):
    at = app().run()
    at.switch_page(PAGE).run()
    assert list(at.selectbox(key="tp_pruner").options) == ["median", "hyperband", "none"]
    assert "TPE: up to 24 trials" in texts(at) and not at.button(key="sw_start_tpe").disabled
    at.number_input(key="tp_trials").set_value(4).run()
    [error] = [e.value for e in at.error]
    assert "Trial budget \\(4\\) is below Random start-up trials \\(8\\)" in error
    assert at.button(key="sw_start_tpe").disabled
    assert RunStore(db).count_runs() == 0


@pytest.mark.mnist
def test_start_runs_a_tpe_sweep_from_the_page(db, mnist_dir, monkeypatch, app):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    at = app().run()
    at.switch_page(PAGE).run()
    for key, value in (("tp_hidden", "16"), ("tp_epochs", "2"), ("tp_train", "2000")):
        at.text_input(key=key).set_value(value).run()
    at.number_input(key="tp_trials").set_value(4).run()
    at.number_input(key="tp_startup").set_value(2).run()
    at.button(key="sw_start_tpe").click().run()
    assert not at.exception and not at.error
    store = RunStore(db)
    wait_until(lambda: len(store.search_runs(tag="tpe")) == 4
               and not any(r.status in ("queued", "running") for r in store.search_runs()), 120,
               "the four TPE trials to end", every=0.2)
    runs = store.search_runs(tag="tpe")
    assert len(runs) == 4 and {r.status for r in runs} <= {"finished", "pruned"}


def _no_mnist(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "no-mnist"
    empty.mkdir(exist_ok=True)  # the db fixture made it when there is no real MNIST
    monkeypatch.setenv("MNIST_DIR", str(empty))  # trials fail at once: what is tested is what starts


def _grid_of_one(at, lr: str) -> None:
    for key, value in (("sw_lr", lr), ("sw_batch", "64"), ("sw_hidden", "16")):
        at.text_input(key=key).set_value(value).run()


def test_the_live_view_turns_to_a_sweep_just_started(db, tmp_path, monkeypatch, app):
    """After a second sweep starts, the picker and the live view show it, not the first one still."""
    _no_mnist(tmp_path, monkeypatch)
    store = RunStore(db)
    at = app().run()
    at.switch_page(PAGE).run()
    _grid_of_one(at, "0.01")
    at.button(key="sw_start_grid").click().run()
    first = store.search_runs()[0].group_id
    assert at.selectbox(key="sw_pick").value == first
    _grid_of_one(at, "0.02")
    at.button(key="sw_start_grid").click().run()
    assert not at.exception
    second = {r.group_id for r in store.search_runs()} - {first}
    assert at.selectbox(key="sw_pick").value == second.pop()
    wait_until(lambda: not any(r.status in ("queued", "running") for r in store.search_runs()), 60,
               "the failing trials to end", every=0.2)


def test_a_sweep_chosen_by_hand_stays_chosen_when_another_appears(db, app):
    older = _stored_sweep(db, "first sweep", (0.1, 0.01))
    _stored_sweep(db, "second sweep", (0.1, 0.01, 0.001))
    at = app().run()
    at.switch_page(PAGE).run()
    at.selectbox(key="sw_pick").set_value(older).run()
    _stored_sweep(db, "third sweep", (0.1,))  # e.g. from the command line
    at.run()
    assert at.selectbox(key="sw_pick").value == older


def test_a_new_sweep_from_elsewhere_is_followed_when_the_newest_was_shown(db, app):
    _stored_sweep(db, "first sweep", (0.1, 0.01))
    at = app().run()
    at.switch_page(PAGE).run()
    newer = _stored_sweep(db, "second sweep", (0.1, 0.01, 0.001))
    at.run()
    assert at.selectbox(key="sw_pick").value == newer


def test_each_tab_starts_its_own_sweep(db, tmp_path, monkeypatch, app):
    """The TPE tab's Start button starts the TPE sweep shown in that tab (and the picker shows it at once, before
    its first trial is stored)."""
    _no_mnist(tmp_path, monkeypatch)
    at = app().run()
    at.switch_page(PAGE).run()
    at.number_input(key="tp_trials").set_value(2).run()
    at.number_input(key="tp_startup").set_value(2).run()
    at.button(key="sw_start_tpe").click().run()
    assert not at.exception
    assert at.selectbox(key="sw_pick").value is not None
    store = RunStore(db)
    wait_until(lambda: len(store.search_runs()) == 2
               and not any(r.status in ("queued", "running") for r in store.search_runs()), 90,
               "the two TPE trials to end", every=0.2)
    sweep_id = store.search_runs()[0].group_id
    assert {tuple(sorted(r.tags)) for r in store.search_runs()} == {("sweep", f"sweep:{sweep_id}", "tpe")}
    at.run()
    assert at.selectbox(key="sw_pick").value == sweep_id


TPE_REFUSED = [  # (widget key, typed text, the words of the refusal): the form's labels, never the spec's names
    ("tp_lr_low", "0.5", "Learning rate from (0.5) is above Learning rate to (0.1)"),
    ("tp_lr_high", "-1", "Learning rate to must be"),
    ("tp_epochs", "0", "Epochs must be"),
    ("tp_train", "x", "Training images must be"),
    ("tp_batch", "32,,64", "Batch sizes: entry 2"),
]


@pytest.mark.parametrize("key,text,words", TPE_REFUSED, ids=[k for k, _, _ in TPE_REFUSED])
def test_a_bad_tpe_entry_is_refused_with_the_forms_labels(db, key, text, words, app):
    at = app().run()
    at.switch_page(PAGE).run()
    at.text_input(key=key).set_value(text).run()
    [error] = [e.value for e in at.error]
    assert words in error.replace("\\", ""), error
    assert not any(name in error for name in ("random.", "tpe.", "log_uniform", "startup_trials", "train_size"))
    assert at.button(key="sw_start_tpe").disabled
