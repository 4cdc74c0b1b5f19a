"""``python -m experiments export --format tensorboard|mlflow`` and ``export-model`` as a real subprocess: what
they write, and bad input as one line on stderr, exit code 2, nothing written."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore
from nn.mlp import MLP

for _package in ("tensorboardX", "mlflow", "onnx"):
    pytest.importorskip(_package, reason="pip install -r requirements-export.txt")


def _stored_run(weights: bool = True) -> int:
    """A finished run in the test's store (RESULTS_DB), with its saved network if ``weights``."""
    store = RunStore()
    config = RunConfig(hidden=(8,), epochs=2)
    run_id = store.create_run(config, name="cli export")
    for epoch in (1, 2):
        store.log_epoch(run_id, {"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.5, "test_loss": 0.9,
                                 "test_acc": 0.6, "seconds": 0.5, "elapsed": 0.5 * epoch})
    store.set_status(run_id, "finished")
    if weights:
        store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        MLP([784, 8, 10], seed=1).save(store.weights_path(run_id))
    store.close_all()
    return run_id


def _one_line_error(proc, *words: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and all(w in proc.stderr for w in words), proc.stderr
    assert proc.stdout == ""


def test_each_format_writes_and_says_how_to_view_it(tmp_path, run_cli):
    run_id = _stored_run()
    proc = run_cli("export", "--format", "tensorboard", "-o", str(tmp_path / "tb"))
    assert proc.returncode == 0, proc.stderr
    assert f"tensorboard --logdir {tmp_path / 'tb'}" in proc.stdout
    assert any("tfevents" in p.name for p in (tmp_path / "tb" / f"run-{run_id}").iterdir())

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = run_cli("export", str(run_id), "--format", "mlflow", "--tracking-uri", uri)
    assert proc.returncode == 0, proc.stderr
    assert f"mlflow ui --backend-store-uri {uri}" in proc.stdout and proc.stderr == ""
    assert "replaced" in run_cli("export", str(run_id), "--format", "mlflow", "--tracking-uri", uri).stdout

    proc = run_cli("export-model", str(run_id), "-o", str(tmp_path / "model.onnx"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "model.onnx").stat().st_size > 784 * 8 * 4


def test_csv_and_json_exports_still_work(run_cli):
    run_id = _stored_run()
    assert "cli export" in run_cli("export").stdout
    assert f'"id": {run_id}' in run_cli("export", "--format", "json").stdout


@pytest.mark.parametrize("args,words", [
    (["export", "99", "--format", "tensorboard", "-o", "{tmp}/tb"], ("there is no run 99",)),
    (["export", "--format", "tensorboard", "-o", "{tmp}/a-file"], ("is a file",)),
    (["export", "--format", "tensorboard"], ("-o",)),
    (["export", "99", "--format", "mlflow", "--tracking-uri", "sqlite:///{tmp}/mlflow.db"], ("there is no run 99",)),
    (["export", "--format", "mlflow", "--tracking-uri", "sqlite:///{tmp}/missing/mlflow.db"], ("does not exist",)),
    (["export", "--format", "mlflow", "--tracking-uri", "sqlite:///{tmp}/a-file"], ("not a database",)),
    (["export", "--format", "mlflow"], ("--tracking-uri",)),
    (["export-model", "99", "-o", "{tmp}/model.onnx"], ("there is no run 99",)),
    (["export-model", "{unweighted}", "-o", "{tmp}/model.onnx"], ("has no saved weights",)),
    (["export-model", "{run}", "-o", "{tmp}"], ("is a folder",)),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, run_cli, monkeypatch, args, words):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_id, unweighted = _stored_run(), _stored_run(weights=False)
    (tmp_path / "a-file").write_text("mine")
    before = sorted(Path(tmp_path).rglob("*"))
    proc = run_cli(*(a.format(tmp=tmp_path, run=run_id, unweighted=unweighted) for a in args))
    _one_line_error(proc, *words)
    assert sorted(Path(tmp_path).rglob("*")) == before
    assert (tmp_path / "a-file").read_text() == "mine"
