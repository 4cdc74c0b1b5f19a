"""Runs out of the lab into the field's tools: TensorBoard event files, an MLflow tracking store, ONNX models.

Cut by tool, each on optional packages (``requirements-export.txt``) imported only when an export runs, so
the lab starts and tests without them: ``tensorboard_events.py`` writes one folder of event files per run
(every epoch's metrics, the within-epoch points, the settings as HParams); ``mlflow_runs.py`` logs runs
into an MLflow tracking store through its client; ``onnx_model.py`` writes a run's trained network as an
ONNX graph. ``common.py`` is what they share: the error, the install hint, the runs asked for, the lab's
version. Every export takes run ids and a store, nothing from Streamlit, so the command line and the pages
call the same functions. (CSV and JSON, which need nothing optional, stay in ``experiments/store/export.py``.)
"""
from experiments.exports.common import INSTALL_HINT, ExportError, missing_packages

__all__ = ["INSTALL_HINT", "ExportError", "missing_packages"]
