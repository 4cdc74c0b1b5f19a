"""History, Compare and Inspect with a run whose stored settings this version cannot read: shown as
unreadable (blank settings, a one-line note), never as the defaults; Compare and Inspect leave it out."""
from __future__ import annotations

import json
import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig
from experiments.store import RunStore
from experiments.store.records import UNREADABLE_NOTE
from tests.test_dashboard_apptest import APP, PAGES, populate, texts


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A fresh store for the app (RESULTS_DB) and an empty MNIST folder: no page here loads data."""
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(path))
    (tmp_path / "no-mnist").mkdir()
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "no-mnist"))
    return path


def _make_unreadable(path, run_id) -> None:
    with sqlite3.connect(path) as conn:
        config = {**RunConfig(hidden=(8,), optimizer="sgd", lr=0.5).to_dict(), "nesterov": True}
        conn.execute("UPDATE runs SET config = ? WHERE id = ?", (json.dumps(config), run_id))


def test_pages_show_an_unreadable_config_as_unreadable(app_db):
    db = app_db
    ids = populate(db)
    _make_unreadable(db, ids[2])
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.session_state["compare_ids"] = [ids[2]]
    at.switch_page(PAGES["History"]).run()
    assert not at.exception
    shown = texts(at)
    assert f"Settings unreadable by this version (left blank): run {ids[2]}" in shown
    assert UNREADABLE_NOTE in shown  # the edit panel of the picked run
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[ids[2], ["hidden", "optimizer", "lr"]].isna().all()  # not 128 / adam / 0.001
    assert table.loc[ids[0], "optimizer"] == "adam"

    at.session_state["compare_ids"] = ids
    at.switch_page(PAGES["Compare"]).run()
    assert not at.exception
    assert f"Left out (settings unreadable): run {ids[2]}" in texts(at)
    assert sorted(at.dataframe[-1].value["id"]) == ids[:2]

    at.switch_page(PAGES["Inspect"]).run()
    assert not at.exception
    assert all(not str(o).startswith(f"{ids[2]}:") for o in at.selectbox[0].options)
    assert RunStore(db).get_run(ids[2]).config is None
