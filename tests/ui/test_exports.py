"""History and Inspect offer the exports where their packages are installed (History's MLflow button really
logs the runs into an SQLite tracking store) and say how to install them where they are not."""
from __future__ import annotations

import pytest

from tests.ui.conftest import PAGES, populate, texts

for _package in ("tensorboardX", "mlflow", "onnx"):
    pytest.importorskip(_package, reason="pip install -r requirements-export.txt")


def _download_labels(at) -> list[str]:
    return [str(b.proto.label) for b in at.get("download_button")]


def test_history_offers_tensorboard_and_logs_into_mlflow(db, tmp_path, app):
    ids = populate(db)
    at = app().run()
    at.switch_page(PAGES["History"]).run()
    assert not at.exception
    assert f"TensorBoard files of {len(ids)} run(s) (zip)" in _download_labels(at)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    at.text_input(key="hist_exports_mlflow_uri").set_value(uri)
    [log] = [b for b in at.button if b.label == f"Log {len(ids)} run(s) into MLflow"]
    log.click().run(timeout=120)
    assert not at.exception
    assert f"Logged {len(ids)} run(s)" in "\n".join(s.value for s in at.success)

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("mnist-mlp-lab").experiment_id])
    assert sorted(int(r.data.tags["lab.run_id"]) for r in runs) == ids


def test_history_says_why_a_tracking_store_cannot_be_opened(db, tmp_path, app):
    populate(db)
    at = app().run()
    at.switch_page(PAGES["History"]).run()
    at.text_input(key="hist_exports_mlflow_uri").set_value(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    [log] = [b for b in at.button if b.label.endswith("into MLflow")]
    log.click().run(timeout=60)
    assert not at.exception
    assert "Not exported" in texts(at) and "does not exist" in texts(at)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("page", ["History", "Inspect"])
def test_without_the_packages_the_page_says_how_to_install_them(db, app, monkeypatch, page):
    from ui import export_buttons

    monkeypatch.setattr(export_buttons, "missing_packages", lambda tool: list(tool.packages))
    ids = populate(db)
    at = app().run()
    at.session_state["inspect_id"] = ids[0]
    at.switch_page(PAGES[page]).run(timeout=60)
    assert not at.exception
    assert "pip install -r requirements-export.txt" in texts(at)
    assert not [label for label in _download_labels(at) if "TensorBoard" in label or "ONNX" in label]


def test_inspect_offers_the_network_as_onnx(db, app):
    ids = populate(db)
    at = app().run()
    at.session_state["inspect_id"] = ids[1]
    at.switch_page(PAGES["Inspect"]).run(timeout=60)
    assert "Download the network (ONNX)" in _download_labels(at)
