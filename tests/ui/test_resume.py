"""The Resume and Continue buttons (History, Train's progress rows) through Streamlit's AppTest, on real MNIST;
the sidebar's note on the size of a big network's checkpoint."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments.config import RunConfig
from experiments.runs.runner import RunManager
from experiments.runs.training import load_data
from experiments.store import RunStore
from nn.status import RunStatus
from tests.ui.conftest import PAGES, texts

pytestmark = pytest.mark.mnist
CONFIG = RunConfig(hidden=(8,), epochs=3, train_size=500, batch_size=50, lr=0.01)


class StopAfterFirst:
    def __init__(self, manager: RunManager):
        self.manager, self.run_id = manager, 0

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.manager.stop(self.run_id)


def stopped_after_one_epoch(db: Path) -> int:
    manager = RunManager(RunStore(db), data_loader=load_data)
    stop = StopAfterFirst(manager)
    stop.run_id = manager.submit(CONFIG, callbacks=[stop])
    assert manager.wait(timeout=120)
    assert manager.store.get_run(stop.run_id).status == RunStatus.STOPPED
    return stop.run_id


def dashboard_manager(db: Path) -> RunManager:
    from ui.common import _resources
    return _resources(str(db))[1]


def test_resume_then_continue_from_history(mnist_db, app):
    run_id = stopped_after_one_epoch(mnist_db)
    at = app(timeout=60).run()
    at.session_state["compare_ids"] = [run_id]
    at.switch_page(PAGES["History"]).run()
    assert not at.exception
    assert not any(b.key == f"hist_continue_{run_id}" for b in at.button)  # stopped: Resume, not Continue
    at.button(key=f"hist_resume_{run_id}").click().run()
    assert not at.exception
    assert dashboard_manager(mnist_db).wait(timeout=120)
    store = RunStore(mnist_db)
    run = store.get_run(run_id)
    assert (run.status, run.epochs_done) == (RunStatus.FINISHED, 3)

    at.switch_page(PAGES["History"]).run()
    assert not any(b.key == f"hist_resume_{run_id}" for b in at.button)  # finished: Continue instead
    at.number_input(key=f"hist_more_{run_id}").set_value(2)
    at.button(key=f"hist_continue_{run_id}").click().run()
    assert not at.exception
    assert dashboard_manager(mnist_db).wait(timeout=120)
    run = store.get_run(run_id)
    assert (run.status, run.epochs_done, run.config.epochs) == (RunStatus.FINISHED, 5, 5)


def test_train_page_offers_resume_and_says_why_it_cannot(mnist_db, app):
    run_id = stopped_after_one_epoch(mnist_db)
    store = RunStore(mnist_db)
    store.checkpoint_dir(run_id).joinpath("latest.npz").unlink()  # the checkpoint file went missing
    at = app(timeout=60)
    at.session_state["watched"] = [run_id]
    at.run()
    at.button(key=f"train_resume_{run_id}").click().run()
    assert not at.exception
    assert "latest.npz is missing" in texts(at)
    assert store.get_run(run_id).status == RunStatus.STOPPED  # nothing changed


def test_the_sidebar_warns_of_a_big_networks_checkpoint(mnist_db, app):
    at = app(timeout=60).run()
    assert "checkpoint" not in " ".join(c.value for c in at.sidebar.caption)
    at.sidebar.text_input(key="cfg_hidden").set_value("4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096").run()
    note = " ".join(c.value for c in at.sidebar.caption)
    assert "checkpoint of about 1.4 GB" in note


def test_an_ended_runs_continue_has_the_room_of_both_control_columns(db, app):
    """Continue sat in Pause's narrow column and read "Conti…" at 1280 px: an ended run's one control now takes
    the room Pause and Stop share while a run trains."""
    from experiments.config import RunConfig
    store = RunStore(db)
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=1, train_size=1000), name="done", source="cli")
    store.log_epoch(run_id, {"epoch": 1, "train_loss": 0.5, "test_loss": 0.5, "train_acc": 0.8, "test_acc": 0.8,
                             "val_loss": 0.5, "val_acc": 0.8, "seconds": 0.1, "elapsed": 0.1, "lr": 0.001})
    store.set_status(run_id, "finished")
    at = app(timeout=60)
    at.session_state["watched"] = [run_id]
    at.run()
    assert not at.exception
    [column] = [c for c in at.columns if any("Continue" in str(p.proto) for p in c.get("popover"))]
    assert column.weight >= 0.25, column.weight  # of the row's width (it was 1.4 of 9.6: 0.15)
