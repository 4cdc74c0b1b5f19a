"""Runs logged into an MLflow tracking store through MLflow's own client (``MlflowClient``).

Each lab run becomes one MLflow run of the experiment ``mnist-mlp-lab`` (or the one asked for), named as the
lab run is: its settings as params (hidden layers as text such as "256,128"), every stored metric of every
epoch at step = the epoch (timestamps: the run's creation time plus the epoch's elapsed seconds), its status
(finished -> FINISHED; stopped, interrupted and pruned -> KILLED; diverged and failed -> FAILED; a queued or
running run stays RUNNING, as it was when exported), notes as MLflow's description, and tags: ``lab.run_id``,
``lab.store`` (the store file), ``lab.status`` (the lab's word), ``lab.tags``, ``lab.version`` and the like.

Exporting a run again replaces it: the MLflow run with the same ``lab.run_id`` and ``lab.store`` tags is
deleted (MLflow's soft delete: ``mlflow gc`` purges it, ``restore_run`` brings it back) once its successor is
complete. Not skipped, because a lab run changes after an export (more epochs after "continue", a new name or
tags) and a skipped export would silently keep the old numbers; not updated in place, because MLflow appends
a metric logged again at the same step instead of replacing it, so every curve would be drawn twice.
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from experiments.exports.common import ExportError, Tool, lab_version, require, runs_to_export
from experiments.i18n import _
from experiments.store import EPOCH_METRICS, RunRecord, RunStore
from nn.status import RunStatus

EXPERIMENT = "mnist-mlp-lab"
RUN_ID_TAG = "lab.run_id"
STORE_TAG = "lab.store"
NOTE_TAG = "mlflow.note.content"   # what MLflow's UI shows as the run's description
MLFLOW_STATUS = {RunStatus.FINISHED: "FINISHED", RunStatus.STOPPED: "KILLED", RunStatus.INTERRUPTED: "KILLED",
                 RunStatus.PRUNED: "KILLED", RunStatus.DIVERGED: "FAILED", RunStatus.FAILED: "FAILED"}
MAX_METRICS_PER_CALL = 1000        # MLflow's limit for one log_batch
SQLITE = "sqlite:///"


@dataclass
class MlflowExport:
    """What an export did: the experiment, and for each lab run the MLflow run id it became."""

    tracking_uri: str
    experiment_id: str
    mlflow_ids: dict[int, str] = field(default_factory=dict)
    replaced: list[int] = field(default_factory=list)   # lab runs exported before, whose old MLflow run was deleted


def check_tracking_uri(tracking_uri: str) -> None:
    """Refuse, before MLflow opens anything, an SQLite file in a folder that does not exist (MLflow would
    create the folder) or that is a folder."""
    if not tracking_uri.strip():
        raise ExportError(_("give an MLflow tracking URI, e.g. {example}").format(example="sqlite:///mlflow.db"))
    if tracking_uri.startswith(SQLITE):
        path = Path(tracking_uri[len(SQLITE):]).expanduser()
        if path.is_dir():
            raise ExportError(_("cannot open the MLflow tracking store {uri}: {reason}").format(
                uri=tracking_uri, reason=_("{path} is a folder").format(path=path)))
        if not path.parent.is_dir():
            raise ExportError(_("cannot open the MLflow tracking store {uri}: {reason}").format(
                uri=tracking_uri, reason=_("the folder {path} does not exist").format(path=path.parent)))


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow's INFO lines (creating the database tables) and Alembic's migrations say nothing a user needs."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _open(tracking_uri: str, experiment: str) -> tuple[Any, str]:
    """The client and the experiment's id (created if missing); ExportError if the store cannot be opened."""
    tracking = require("mlflow.tracking", Tool.MLFLOW)
    try:
        client = tracking.MlflowClient(tracking_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
    except Exception as exc:  # MLflow raises MlflowException, SQLAlchemy, OSError or ValueError by store kind
        raise ExportError(_("cannot open the MLflow tracking store {uri}: {reason}").format(
            uri=tracking_uri, reason=_first_line(exc))) from None
    return client, str(experiment_id)


def _millis(run: RunRecord, seconds: float) -> int:
    try:
        start = datetime.fromisoformat(run.created).timestamp()
    except ValueError:
        start = 0.0
    return int(round((start + seconds) * 1000))


def params_of(run: RunRecord) -> dict[str, str]:
    """The run's settings as MLflow params (text); none for unreadable settings (``lab.settings_error`` says why)."""
    if run.config is None:
        return {}
    return {name: ",".join(map(str, value)) if isinstance(value, list) else str(value)
            for name, value in run.config.to_dict().items()}


def tags_of(run: RunRecord, store: RunStore) -> dict[str, str]:
    """The lab's facts about a run as MLflow tags (the two that identify it first)."""
    tags = {RUN_ID_TAG: str(run.id), STORE_TAG: str(store.path.resolve()), "lab.status": run.status.value,
            "lab.version": lab_version(), "lab.tags": ", ".join(run.tags), "lab.source": run.source,
            "lab.group": run.group_id or "", "lab.student": run.student,
            "lab.best_epoch": "" if run.best_epoch is None else str(run.best_epoch)}
    if run.notes:
        tags[NOTE_TAG] = run.notes
    if run.message:
        tags["lab.message"] = run.message
    if run.config is None:
        tags["lab.settings_error"] = run.config_error
    return {key: value for key, value in tags.items() if value}


def metrics_of(run: RunRecord, epochs: list[dict[str, Any]]) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp in ms, step = epoch) for every finite metric of every epoch."""
    out = []
    for e in epochs:
        elapsed = e.get("elapsed")
        stamp = _millis(run, float(elapsed) if elapsed is not None else float(e["epoch"]))
        for metric in EPOCH_METRICS:
            value = e.get(metric)
            if value is not None and math.isfinite(float(value)):
                out.append((metric, float(value), stamp, int(e["epoch"])))
    return out


def _previous(client: Any, experiment_id: str, run: RunRecord, store_path: str) -> list[str]:
    """MLflow runs (not deleted) of this experiment exported from this lab run of this store before."""
    found = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{int(run.id)}'",
                               max_results=1000)
    return [r.info.run_id for r in found if r.data.tags.get(STORE_TAG) == store_path]


def _log_run(client: Any, experiment_id: str, store: RunStore, run: RunRecord) -> str:
    """Create one MLflow run with everything of ``run``; its MLflow id."""
    entities = require("mlflow.entities", Tool.MLFLOW)
    epochs = store.get_epochs(run.id)
    created = client.create_run(experiment_id, start_time=_millis(run, 0.0), tags=tags_of(run, store),
                                run_name=run.name)
    mlflow_id = created.info.run_id
    client.log_batch(mlflow_id, params=[entities.Param(k, v) for k, v in params_of(run).items()])
    metrics = [entities.Metric(key, value, stamp, step) for key, value, stamp, step in metrics_of(run, epochs)]
    for start in range(0, len(metrics), MAX_METRICS_PER_CALL):
        client.log_batch(mlflow_id, metrics=metrics[start:start + MAX_METRICS_PER_CALL])
    status = MLFLOW_STATUS.get(run.status)
    if status is not None:
        last = epochs[-1].get("elapsed") if epochs else None
        client.set_terminated(mlflow_id, status, end_time=_millis(run, float(last or 0.0)))
    return mlflow_id


def export_mlflow(store: RunStore, run_ids: Sequence[int] | None, tracking_uri: str,
                  experiment: str = EXPERIMENT) -> MlflowExport:
    """Log each run (all stored runs for ``run_ids`` None) into the tracking store at ``tracking_uri``,
    replacing what an earlier export of the same run from the same store left there.

    The runs, the URI and the store are checked before any run is logged; ExportError says what failed.
    """
    runs = runs_to_export(store, run_ids)
    check_tracking_uri(tracking_uri)
    store_path = str(store.path.resolve())
    require("mlflow.tracking", Tool.MLFLOW)  # imported before it is quietened: importing sets its log level
    with _quiet_mlflow():
        client, experiment_id = _open(tracking_uri, experiment)
        result = MlflowExport(tracking_uri, experiment_id)
        for run in runs:
            try:
                old = _previous(client, experiment_id, run, store_path)
                result.mlflow_ids[run.id] = _log_run(client, experiment_id, store, run)
                for mlflow_id in old:
                    client.delete_run(mlflow_id)
            except ExportError:
                raise
            except Exception as exc:
                raise ExportError(_("MLflow refused run {id}: {reason}").format(id=run.id,
                                                                                reason=_first_line(exc))) from None
            if old:
                result.replaced.append(run.id)
    return result


def tracking_uri_from_environment() -> str:
    """MLflow's own default, ``MLFLOW_TRACKING_URI``, or "" when it is not set."""
    return os.environ.get("MLFLOW_TRACKING_URI", "")
