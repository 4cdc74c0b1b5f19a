"""MLflow export: runs logged through MLflow's client into a real SQLite tracking store, read back with
``MlflowClient``, equal the store's; a second export replaces the first; a store that cannot be opened is
refused before anything is written."""
from __future__ import annotations

import sys

import pytest

from experiments.exports import ExportError
from experiments.exports.mlflow_runs import EXPERIMENT, RUN_ID_TAG, STORE_TAG, export_mlflow
from experiments.store import EPOCH_METRICS

pytest.importorskip("mlflow", reason="pip install -r requirements-export.txt")


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _active_runs(uri: str) -> list:
    client = _client(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id]) if experiment else []


def test_params_metrics_tags_and_name_read_back_equal_to_the_store(store, train_run, tmp_path):
    run_id = train_run(hidden=(16, 8), optimizer="sgd", lr=0.05, name="sgd, two layers")
    store.edit_run(run_id, "sgd, two layers", ["baseline", "deep"], "my notes")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = export_mlflow(store, [run_id], uri)

    client = _client(uri)
    exported = client.get_run(result.mlflow_ids[run_id])
    run = store.get_run(run_id)
    assert exported.info.run_name == "sgd, two layers" and exported.info.status == "FINISHED"
    config = run.config.to_dict()
    assert exported.data.params == {**{k: str(v) for k, v in config.items()}, "hidden": "16,8"}
    tags = exported.data.tags
    assert tags[RUN_ID_TAG] == str(run_id) and tags[STORE_TAG] == str(store.path.resolve())
    assert tags["lab.tags"] == "baseline, deep" and tags["mlflow.note.content"] == "my notes"
    assert tags["lab.status"] == "finished"
    epochs = store.get_epochs(run_id)
    for metric in EPOCH_METRICS:
        stored = {e["epoch"]: e[metric] for e in epochs if e[metric] is not None}
        history = {m.step: m.value for m in client.get_metric_history(exported.info.run_id, metric)}
        assert history == stored, metric


def test_exporting_a_run_again_replaces_it_and_other_stores_runs_stay(store, train_run, tmp_path):
    from experiments.store import RunStore

    run_id = train_run(epochs=1)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = export_mlflow(store, [run_id], uri)
    other_store = RunStore(tmp_path / "other" / "runs.sqlite")  # the same run id in another store: another run
    other_id = other_store.create_run(store.get_run(run_id).config, name="elsewhere")
    assert other_id == run_id
    export_mlflow(other_store, [other_id], uri)
    store.log_epoch(run_id, {"epoch": 2, "train_loss": 0.125, "test_acc": 0.5, "elapsed": 9.0})
    second = export_mlflow(store, [run_id], uri)
    other_store.close_all()

    assert second.replaced == [run_id] and first.replaced == []
    runs = _active_runs(uri)
    assert sorted(r.info.run_name for r in runs) == ["elsewhere", "exported"]
    (mine,) = [r for r in runs if r.info.run_name == "exported"]
    assert mine.info.run_id == second.mlflow_ids[run_id]
    history = _client(uri).get_metric_history(mine.info.run_id, "train_loss")
    assert [(m.step, m.value) for m in history][-1] == (2, 0.125) and len(history) == 2
    assert _client(uri).get_run(first.mlflow_ids[run_id]).info.lifecycle_stage == "deleted"


def test_a_tracking_store_that_cannot_be_opened_is_one_line_and_writes_nothing(store, train_run, tmp_path):
    run_id = train_run(epochs=1)
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a database")
    cases = {f"sqlite:///{tmp_path / 'missing' / 'mlflow.db'}": "does not exist",
             f"sqlite:///{not_a_database}": "not a database",
             f"sqlite:///{tmp_path}": "is a folder",
             "nosuchscheme://x": "cannot open the MLflow tracking store"}
    for uri, words in cases.items():
        with pytest.raises(ExportError, match=words) as caught:
            export_mlflow(store, [run_id], uri)
        assert "\n" not in str(caught.value)
    assert not (tmp_path / "missing").exists() and not_a_database.read_text() == "not a database"
    assert not (tmp_path / "mlruns").exists()


def test_an_unknown_run_is_refused_before_the_tracking_store_is_touched(store, train_run, tmp_path):
    run_id = train_run(epochs=1)
    with pytest.raises(ExportError, match=f"there is no run {run_id + 1}"):
        export_mlflow(store, [run_id + 1], f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert not (tmp_path / "mlflow.db").exists()


def test_without_mlflow_the_message_says_how_to_install(store, train_run, tmp_path, monkeypatch):
    run_id = train_run(epochs=1)
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ExportError, match="pip install -r requirements-export.txt"):
        export_mlflow(store, [run_id], f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert not (tmp_path / "mlflow.db").exists()
