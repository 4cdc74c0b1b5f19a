"""Runs as TensorBoard event files (written by tensorboardX, no TensorFlow needed): one folder per run.

In a run's folder (``run-<id>``):

- every stored metric of every epoch as the scalar ``epoch/<metric>`` at step = the epoch (1, 2, ...);
- the within-epoch points (``experiments/store/dynamics.py``) as ``within_epoch/loss``, ``within_epoch/acc``
  and ``within_epoch/l2_penalty`` at step = thousandths of an epoch (``round(x * 1000)``: epoch 2 half done is
  step 1500, the end of epoch 2 is step 2000), a finer scale than the epochs' since TensorBoard's steps are
  whole numbers;
- the settings as TensorBoard HParams (one session per run; hidden layers as text such as "256,128"), with
  ``best/val_acc``, ``best/val_loss`` and ``best/test_acc`` (at step = the best epoch by validation) and the
  last epoch's test accuracy and training loss as its metrics.

Wall times are the run's: its creation time plus each epoch's ``elapsed`` seconds (points between epochs
are placed in proportion), so TensorBoard's "relative" axis shows the training time. Missing values (a
diverged epoch's losses, stored as NULL) are left out. Exporting a run again replaces its folder: a second
set of event files beside the first would draw every curve twice.
"""
from __future__ import annotations

import io
import math
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from experiments.exports.common import ExportError, Tool, require, runs_to_export
from experiments.i18n import _
from experiments.store import EPOCH_METRICS, RunRecord, RunStore
from experiments.store.dynamics import get_batch_points
from nn.batch_curve import BatchPoint

STEPS_PER_EPOCH = 1000   # within-epoch points: step = round(x * STEPS_PER_EPOCH)
POINT_FIELDS = ("loss", "acc", "l2_penalty")
BEST_METRICS = {"best/val_acc": "best_val_acc", "best/val_loss": "best_val_loss", "best/test_acc": "test_acc_at_best"}
HPARAM_METRICS = (*BEST_METRICS, "epoch/test_acc", "epoch/train_loss")  # the HParams table's columns
EVENT_FILE_MARK = "tfevents"


@dataclass(frozen=True)
class TensorBoardExport:
    """What an export wrote: the folder TensorBoard opens and each run's subfolder in it."""

    folder: Path
    run_folders: dict[int, Path]


def run_folder_name(run_id: int) -> str:
    """A run's subfolder in the export (``run-12``): TensorBoard shows it as the run's name."""
    return f"run-{int(run_id)}"


def epoch_tag(metric: str) -> str:
    return f"epoch/{metric}"


def point_tag(field: str) -> str:
    return f"within_epoch/{field}"


def point_step(point: BatchPoint) -> int:
    """A within-epoch point's step: thousandths of an epoch."""
    return round(point.x * STEPS_PER_EPOCH)


def hparams_of(run: RunRecord) -> dict[str, bool | int | float | str]:
    """The run's settings as HParams values (hidden layers joined as text); empty for unreadable settings."""
    if run.config is None:
        return {}
    values: dict[str, bool | int | float | str] = {}
    for name, value in run.config.to_dict().items():
        values[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    return values


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))


class _Clock:
    """Wall times of a run's epochs and points: its creation time plus the stored elapsed seconds."""

    def __init__(self, run: RunRecord, epochs: list[dict[str, Any]]):
        try:
            self.start = datetime.fromisoformat(run.created).timestamp()
        except ValueError:
            self.start = 0.0
        self.elapsed = {0: 0.0}
        for e in epochs:
            if _finite(e.get("elapsed")):
                self.elapsed[int(e["epoch"])] = float(e["elapsed"])

    def at_epoch(self, epoch: int) -> float:
        return self.start + self.elapsed.get(epoch, float(epoch))

    def at_point(self, point: BatchPoint) -> float:
        begin, end = self.at_epoch(point.epoch - 1), self.at_epoch(point.epoch)
        return begin + (point.x - (point.epoch - 1)) * max(end - begin, 0.0)


def _write_run(writer: Any, store: RunStore, run: RunRecord) -> None:
    """One run's scalars and HParams into an open tensorboardX SummaryWriter."""
    summary = require("tensorboardX.summary", Tool.TENSORBOARD)
    epochs = store.get_epochs(run.id)
    clock = _Clock(run, epochs)
    hparams = hparams_of(run)
    if hparams:
        for proto in summary.hparams(hparams, dict.fromkeys(HPARAM_METRICS, 0.0)):
            writer.file_writer.add_summary(proto, walltime=clock.start)
    for e in epochs:
        for metric in EPOCH_METRICS:
            if _finite(e.get(metric)):
                writer.add_scalar(epoch_tag(metric), float(e[metric]), int(e["epoch"]),
                                  walltime=clock.at_epoch(e["epoch"]))
    for point in get_batch_points(store, run.id):
        for field in POINT_FIELDS:
            value = getattr(point, field)
            if _finite(value):
                writer.add_scalar(point_tag(field), float(value), point_step(point), walltime=clock.at_point(point))
    if run.best_epoch is not None:
        for tag, column in BEST_METRICS.items():
            value = getattr(run, column)
            if _finite(value):
                writer.add_scalar(tag, float(value), run.best_epoch, walltime=clock.at_epoch(run.best_epoch))


def _check_folder(folder: Path, runs: Sequence[RunRecord]) -> None:
    """Refuse, before anything is written, a folder that is a file and a run subfolder holding anything
    but event files (replacing it would delete the user's files)."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(_("{folder} is a file: give a folder for the event files (it is created if missing)").format(
            folder=folder))
    for run in runs:
        sub = folder / run_folder_name(run.id)
        if sub.exists() and (not sub.is_dir() or any(EVENT_FILE_MARK not in p.name for p in sub.iterdir())):
            raise ExportError(_("{folder} holds other files than TensorBoard's: move it away or export "
                                "elsewhere").format(
                folder=sub))


def export_tensorboard(store: RunStore, run_ids: Sequence[int] | None,
                       folder: str | os.PathLike[str]) -> TensorBoardExport:
    """Write each run's event files into ``folder/run-<id>/`` (all stored runs for ``run_ids`` None).

    Everything is checked before anything is written (the runs exist, the folder can hold them, tensorboardX
    is installed); each run is written to a hidden folder first and then moved in place of the old one.
    """
    runs = runs_to_export(store, run_ids)
    target = Path(folder).expanduser()
    _check_folder(target, runs)
    writer_type = require("tensorboardX", Tool.TENSORBOARD).SummaryWriter
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(_("cannot create the folder {folder} ({reason})").format(folder=target,
                                                                            reason=exc.strerror or exc)) from None
    written: dict[int, Path] = {}
    for run in runs:
        final = target / run_folder_name(run.id)
        staging = target / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            with writer_type(logdir=str(staging), flush_secs=3600) as writer:
                _write_run(writer, store, run)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except OSError as exc:
            raise ExportError(_("cannot write {path} ({reason})").format(
                path=final, reason=exc.strerror or exc)) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        written[run.id] = final
    return TensorBoardExport(target, written)


def tensorboard_zip(store: RunStore, run_ids: Sequence[int] | None) -> bytes:
    """The export of ``run_ids`` as one zip (a folder per run inside), for a download button."""
    with tempfile.TemporaryDirectory(prefix="tensorboard-") as tmp:
        export = export_tensorboard(store, run_ids, tmp)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(export.folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(export.folder).as_posix())
        return out.getvalue()
