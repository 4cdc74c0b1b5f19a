"""Refusals a page shows that were written in English only: a full queue (Train), a bad search (History), an
export that cannot be made (History's MLflow box, Inspect's and History's ONNX download), in the current
language; English reads as before (a cap of one run now reads in the singular)."""
from __future__ import annotations

import pytest

from experiments import i18n
from experiments.config import RunConfig
from experiments.exports.common import runs_to_export
from experiments.exports.mlflow_runs import check_tracking_uri
from experiments.exports.onnx_model import onnx_bytes
from experiments.store import QueueFullError, StoreError


def _refusal(call) -> str:
    with pytest.raises(Exception) as caught:
        call()
    return str(caught.value)


def test_a_full_queue_refuses_in_the_current_language(store):
    store.create_run(RunConfig(), max_queued=2)
    store.create_run(RunConfig(), max_queued=2)
    assert _refusal(lambda: store.create_run(RunConfig(), max_queued=2)) == (
        "2 runs are already waiting: stop some or wait for them to finish")
    with i18n.using("es"):
        assert _refusal(lambda: store.create_run(RunConfig(), max_queued=2)) == (
            "ya hay 2 ejecuciones esperando: detén algunas o espera a que terminen")
        store.create_run(RunConfig(), max_queued=1, student="ana")
        with pytest.raises(QueueFullError, match="ya tienes 1 ejecución esperando: detenla"):
            store.create_run(RunConfig(), max_queued=1, student="ana")
    assert _refusal(lambda: store.create_run(RunConfig(), max_queued=1, student="ana")) == (
        "1 run of yours is already waiting: stop it or wait for it to finish")


def test_a_bad_search_and_exports_refuse_in_spanish(store, tmp_path):
    run_id = store.create_run(RunConfig())
    with i18n.using("es"):
        with pytest.raises(StoreError) as caught:
            store.search_runs(text="lr=abc")
        assert str(caught.value).startswith("no se puede buscar lr=abc: lr debe ser"), str(caught.value)
        assert _refusal(lambda: check_tracking_uri(" ")) == (
            "indica una URI de seguimiento de MLflow, p. ej. sqlite:///mlflow.db")
        assert _refusal(lambda: check_tracking_uri(f"sqlite:///{tmp_path}")).endswith(f"{tmp_path} es una carpeta")
        assert _refusal(lambda: onnx_bytes(store, run_id)).startswith(
            f"la ejecución {run_id} no tiene pesos guardados")
        assert _refusal(lambda: runs_to_export(store, [run_id, 999])) == (
            "no existe la ejecución 999: no se escribió nada")
    assert _refusal(lambda: check_tracking_uri(" ")) == "give an MLflow tracking URI, e.g. sqlite:///mlflow.db"
