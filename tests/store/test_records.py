"""What the store hands out: unreadable configs marked as such, tags, JSON shapes, settings search, statuses."""
import csv
import io
import json
import sqlite3

import pytest

from experiments.cli.entry import main as cli_main
from experiments.config import RunConfig
from experiments.store import STATUSES, StoreError
from experiments.store.export import export_csv, export_json
from experiments.store.records import MAX_TAG, SETTINGS, UNREADABLE_NOTE
from nn.status import RunStatus


def _store_unreadable_config(store, run_id, **extra):
    """A stored config with one key this version does not know, written straight into SQLite."""
    config = {**RunConfig(hidden=(32,), optimizer="sgd", lr=0.5).to_dict(), **extra}
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET config = ? WHERE id = ?", (json.dumps(config), run_id))


# ---------------------------------------------------------------------------------------------- unreadable config
def test_an_unknown_setting_makes_the_config_unreadable_not_defaults(store):
    run_id = store.create_run(RunConfig(hidden=(32,), optimizer="sgd", lr=0.5), name="from the future")
    readable = store.create_run(RunConfig(hidden=(16,)), name="fine")
    _store_unreadable_config(store, run_id, nesterov=True)
    run = store.get_run(run_id)
    assert run.config is None and "nesterov" in run.config_error
    assert run.settings_note.startswith(UNREADABLE_NOTE) and "\n" not in run.settings_note
    assert all(run.flat()[name] is None for name in SETTINGS)
    assert store.get_run(readable).config == RunConfig(hidden=(16,))
    assert [r.id for r in store.search_runs()] == [readable, run_id]  # still listed


def test_the_csv_and_json_exports_show_no_default_values_for_an_unreadable_config(store):
    run_id = store.create_run(RunConfig(hidden=(32,), optimizer="sgd", lr=0.5))
    store.log_epoch(run_id, {"epoch": 1, "test_acc": 0.9})
    _store_unreadable_config(store, run_id, nesterov=True)
    (row,) = csv.DictReader(io.StringIO(export_csv(store)))
    defaults = RunConfig().to_dict()
    assert all(row[name] == "" for name in SETTINGS), row  # blank, not 128 / adam / 0.001
    assert row["optimizer"] != defaults["optimizer"] and row["hidden"] != "128"
    assert "nesterov" in row["config_error"] and row["test_acc"] == "0.9"
    (exported,) = json.loads(export_json(store))
    assert exported["config"] is None and "nesterov" in exported["config_error"]
    assert len(exported["epochs"]) == 1


def test_invalid_json_in_the_config_column_is_unreadable_too(store):
    run_id = store.create_run(RunConfig())
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET config = '{not json' WHERE id = ?", (run_id,))
    assert store.get_run(run_id).config is None
    assert store.search_runs(text="lr=0.001") == []  # a settings search skips it instead of failing
    assert [r.id for r in store.search_runs(text="not json")] == [run_id]


def test_cli_list_and_show_say_the_settings_are_unreadable(store, capsys):
    run_id = store.create_run(RunConfig(hidden=(32,), optimizer="sgd", lr=0.5), name="odd")
    _store_unreadable_config(store, run_id, nesterov=True)
    db = ["--db", str(store.path)]
    assert cli_main([*db, "list"]) == 0
    listed = capsys.readouterr().out
    assert UNREADABLE_NOTE in listed and "adam" not in listed and "lr=0.001" not in listed
    assert cli_main([*db, "show", str(run_id)]) == 0
    shown = capsys.readouterr().out
    assert f"settings: {UNREADABLE_NOTE}" in shown and "adam" not in shown
    assert cli_main([*db, "show", "--json", str(run_id)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"] is None and data["optimizer"] is None and "nesterov" in data["config_error"]


# ---------------------------------------------------------------------------------------------- tags and JSON
def test_a_tag_is_measured_after_stripping(store):
    run_id = store.create_run(RunConfig())
    longest = "t" * MAX_TAG
    store.set_tags(run_id, "baseline, " + longest)  # " " + 40 characters was refused as 41
    assert store.get_run(run_id).tags == ["baseline", longest]
    store.edit_run(run_id, "renamed", f"  {longest}  ,x", "")
    assert store.get_run(run_id).tags == [longest, "x"]
    with pytest.raises(StoreError, match="too long"):
        store.set_tags(run_id, "baseline, " + longest + "u")
    assert store.get_run(run_id).tags == [longest, "x"]


def test_tags_are_a_list_in_every_json_and_joined_text_only_in_the_csv(store, capsys):
    run_id = store.create_run(RunConfig(), tags="baseline, lr sweep")
    empty = store.create_run(RunConfig())
    db = ["--db", str(store.path)]
    exported = {r["id"]: r for r in json.loads(export_json(store))}
    cli_main([*db, "show", "--json", str(run_id)])
    shown = json.loads(capsys.readouterr().out)
    cli_main([*db, "show", "--json", str(empty)])
    shown_empty = json.loads(capsys.readouterr().out)
    cli_main([*db, "list", "--json"])
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert shown["tags"] == exported[run_id]["tags"] == listed[run_id]["tags"] == ["baseline", "lr sweep"]
    assert shown_empty["tags"] == exported[empty]["tags"] == listed[empty]["tags"] == []
    assert shown["config"] == exported[run_id]["config"] == RunConfig().to_dict()
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(export_csv(store)))}
    assert rows[run_id]["tags"] == "baseline, lr sweep" and rows[empty]["tags"] == ""


# ---------------------------------------------------------------------------------------------- settings search
@pytest.fixture
def varied(store):
    ids = {
        "lr10": store.create_run(RunConfig(lr=10.0, optimizer="sgd", batch_size=128), name="big steps"),
        "lr1e-3": store.create_run(RunConfig(lr=0.001, batch_size=64), name="default-ish"),
        "lr0.01": store.create_run(RunConfig(lr=0.01, batch_size=32, hidden=(128, 64)), name="lr=0.001 in the name"),
        "adam64": store.create_run(RunConfig(optimizer="adam", batch_size=64, l2=1e-4), name="adam"),
    }
    return store, ids


@pytest.mark.parametrize("text,expected", [
    ("lr=10", ["lr10"]),
    ("lr=10.0", ["lr10"]),
    ("lr=0.001", ["lr1e-3", "adam64"]),
    ("lr=1e-3", ["lr1e-3", "adam64"]),
    ("batch=64", ["lr1e-3", "adam64"]),
    ("batch_size=32", ["lr0.01"]),
    ("batch-size=32", ["lr0.01"]),  # as the CLI flag is spelled
    ("optimizer=adam", ["lr1e-3", "lr0.01", "adam64"]),
    ("opt=SGD", ["lr10"]),
    ("hidden=128,64", ["lr0.01"]),
    ("hidden=128-64", ["lr0.01"]),
    ("L2=0.0001", ["adam64"]),
    ("lr=0.001, batch=64 default", ["lr1e-3"]),  # settings and a word of the name together
    ("lr=0.001 batch=32", []),
])
def test_search_by_setting_in_the_cli_notation(varied, text, expected):
    store, ids = varied
    assert sorted(r.id for r in store.search_runs(text=text)) == sorted(ids[k] for k in expected)


def test_a_setting_search_with_an_impossible_value_says_why(varied):
    store, _ = varied
    with pytest.raises(StoreError, match="cannot search for lr=abc"):
        store.search_runs(text="lr=abc")
    assert len(store.search_runs(text="size=3")) == 0  # not a setting: plain text, nothing matches


# ---------------------------------------------------------------------------------------------- statuses
def test_statuses_come_from_the_enum_and_pruned_is_storable(store):
    assert set(STATUSES) == set(RunStatus)
    run_id = store.create_run(RunConfig())
    assert store.set_status(run_id, RunStatus.PRUNED, "pruned at epoch 2") is True
    run = store.get_run(run_id)
    assert run.status is RunStatus.PRUNED and run.flat()["status"] == "pruned"
    assert [r.id for r in store.search_runs(status="pruned")] == [run_id]
    assert store.set_status(987_654, RunStatus.FINISHED) is False  # no such run: nothing to update
    with pytest.raises(StoreError, match="unknown status"):
        store.create_run(RunConfig(), status="done")
