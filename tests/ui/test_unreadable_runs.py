"""History, Compare and Inspect with a run whose stored settings this version cannot read: shown as
unreadable (blank settings, a one-line note), never as the defaults; Compare and Inspect leave it out."""
from __future__ import annotations

import json
import sqlite3

from experiments.config import RunConfig
from experiments.store import RunStore
from experiments.store.records import UNREADABLE_NOTE
from tests.ui.conftest import PAGES, populate, texts


def _make_unreadable(path, run_id) -> None:
    with sqlite3.connect(path) as conn:
        config = {**RunConfig(hidden=(8,), optimizer="sgd", lr=0.5).to_dict(), "nesterov": True}
        conn.execute("UPDATE runs SET config = ? WHERE id = ?", (json.dumps(config), run_id))


def test_pages_show_an_unreadable_config_as_unreadable(offline_db, app):
    db = offline_db
    ids = populate(db)
    _make_unreadable(db, ids[2])
    at = app().run()
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
