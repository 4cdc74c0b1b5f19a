"""The command line's refusals read in Spanish with ``--lang es``, as a real process: an export that cannot be
done, a run store that is not one, a run that is not stored, a run that cannot be resumed or continued. Each
refusal is one line on stderr (exit code 2), wholly Spanish but for paths, code names and status words; without
``--lang`` the same refusal reads in English, word for word as before."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore
from tests.cli.test_spanish_output import ENGLISH_ENV, english_left


def _finished_run(db: Path) -> int:
    """A stored run of two epochs, finished (its network is never needed: the refusals come first)."""
    store = RunStore(db)
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=2, val_size=100), name="mi red", source="cli")
    for epoch in (1, 2):
        store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.5, "val_loss": 0.4, "val_acc": 0.9,
                                 "train_acc": 0.8, "elapsed": 1.0})
    store.set_status(run_id, "finished")
    return run_id


def _foreign_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text)")
    return path


# (what the command line is given, the Spanish refusal, the English one); "{tmp}" is the test's folder
REFUSALS = [
    pytest.param(("export", "--format", "tensorboard", "--output", "{tmp}/tb"), "empty",
                 "error: no hay ejecuciones guardadas que exportar",
                 "error: there are no stored runs to export", id="export-nothing"),
    pytest.param(("export", "--format", "mlflow", "--tracking-uri", "sqlite:///{tmp}/missing/mlflow.db"), "run",
                 "error: no se puede abrir el almacén de seguimiento de MLflow sqlite:///{tmp}/missing/mlflow.db: "
                 "la carpeta {tmp}/missing no existe",
                 "error: cannot open the MLflow tracking store sqlite:///{tmp}/missing/mlflow.db: the folder "
                 "{tmp}/missing does not exist", id="export-mlflow-folder"),
    pytest.param(("export-model", "1", "--output", "{tmp}/model.onnx"), "run",
                 "error: la ejecución 1 no tiene pesos guardados",
                 "error: run 1 has no saved weights", id="export-model-no-weights"),
    pytest.param(("list",), "foreign",
                 "error: {tmp}/foreign.sqlite es un archivo SQLite, pero no un almacén de ejecuciones: elige otro "
                 "archivo con RESULTS_DB",
                 "error: {tmp}/foreign.sqlite is an SQLite file but not a run store: choose another file with "
                 "RESULTS_DB", id="store-foreign"),
    pytest.param(("show", "99"), "run", "error: no existe la ejecución 99", "error: there is no run 99",
                 id="store-no-run"),
    pytest.param(("resume", "1"), "run",
                 "error: la ejecución 1 ya terminó sus 2 épocas: en su lugar, continúala con más épocas",
                 "error: run 1 has finished all its 2 epochs: continue it for more epochs instead", id="resume"),
    pytest.param(("continue", "1", "--epochs", "3"), "run",  # stored without a checkpoint
                 "error: la ejecución 1 no puede seguir: no tiene punto de control",
                 "error: run 1 cannot go on: it has no checkpoint", id="continue-no-checkpoint"),
]


@pytest.mark.parametrize(("line", "store", "spanish", "english"), REFUSALS)
def test_a_refusal_reads_in_spanish_and_stays_english_by_default(run_cli, tmp_path, line, store, spanish, english):
    db = {"empty": tmp_path / "runs.sqlite", "run": tmp_path / "runs.sqlite",
          "foreign": _foreign_sqlite(tmp_path / "foreign.sqlite")}[store]
    if store == "run":
        assert _finished_run(db) == 1
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in line]
    done = run_cli("--lang", "es", "--db", str(db), *args, env=ENGLISH_ENV)
    assert done.returncode == 2 and spanish.replace("{tmp}", str(tmp_path)) in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not english_left(done.stderr.replace(str(tmp_path), "/tmp")), done.stderr
    default = run_cli("--db", str(db), *args, env=ENGLISH_ENV)
    assert default.returncode == 2 and english.replace("{tmp}", str(tmp_path)) in default.stderr, default.stderr
    assert english_left(default.stderr.replace(str(tmp_path), "/tmp"))  # the check above would see English
