"""A stored run's checkpoint: where it is kept, how it is written, and whether it belongs to the run.

The mechanism is ``nn.checkpoint`` (``BackupAndRestore`` saves the model, optimizer, epoch and every stateful
callback after each epoch; ``Checkpoint.restore`` loads them back). This module only adds what is about a
stored run:

- the file, ``latest.npz`` in ``RunStore.checkpoint_dir(id)`` (deleted with the run), replaced after every
  epoch. It is written to a temporary path and moved into place with ``RunStore.attach_artifact``, which
  does so only while the run exists: a run deleted while it trains gets no file (nor folder) back;
- the checks before a run goes on from it (``checkpoint_epoch``, ``load_start``): the file names this run,
  holds its network (hidden layers) and seed, and its epoch is not ahead of the epochs stored for the run
  (stored epochs after it are trained again).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from experiments.config import RunConfig
from experiments.i18n import _
from experiments.store import RunStore, StoreError
from experiments.store.records import RunRecord
from nn import BackupAndRestore, Checkpoint, CheckpointError, load_checkpoint
from nn.checkpoint import read_meta
from nn.optim import OPTIMIZERS

LATEST = "latest.npz"


class ResumeError(StoreError):
    """A run that cannot be resumed or continued as asked, with a one-line reason; nothing was changed."""


def latest_path(store: RunStore, run_id: int) -> Path:
    return store.checkpoint_dir(run_id) / LATEST


def checkpoint_bytes(store: RunStore, run_id: int) -> int:
    """The size of a run's checkpoint files on disk (0 when it has none)."""
    folder = store.checkpoint_dir(run_id)
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0


def estimated_checkpoint_bytes(config: RunConfig, num_features: int = 784) -> int:
    """About how large one run's checkpoint of ``config`` is: the parameters, once for the weights and once
    per optimizer state array (Adam keeps two), plus a best copy when early stopping restores the best."""
    sizes = config.sizes(num_features)
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    copies = 1 + len(OPTIMIZERS[config.optimizer].STATE)
    if config.early_stopping != "off" and config.restore_best:
        copies += 1
    return params * copies * np.dtype(config.dtype).itemsize


class RunBackup(BackupAndRestore):
    """``BackupAndRestore`` for stored run ``run_id``: its ``latest.npz``, written through the store (kept
    only while the run exists) and naming the run inside (``extra["run_id"]``)."""

    def __init__(self, store: RunStore, run_id: int):
        super().__init__(latest_path(store, run_id), place=lambda _final, write: place_checkpoint(store, run_id, write),
                         extra={"run_id": int(run_id)})


def place_checkpoint(store: RunStore, run_id: int, write: Callable[[Path], Any]) -> bool:
    """Have ``write`` fill a temporary file, then move it to the run's ``latest.npz`` only while the run exists
    (``RunStore.attach_artifact``); False if the run is gone (no file is left). A run trained elsewhere (on Ray)
    sends its checkpoint's bytes, placed here the same way."""
    final = latest_path(store, run_id)
    tmp = store.temp_path_for(final.parent)  # beside the run's folder, which may not exist yet
    try:
        write(tmp)
        return store.attach_artifact(run_id, tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def checkpoint_epoch(store: RunStore, run: RunRecord) -> int:
    """The epoch the run's checkpoint reached, after checking that it is the run's (read without its arrays);
    0 for a run with neither an epoch nor a checkpoint. ResumeError (one line) for a missing or unreadable
    file, another run's file, or one ahead of the epochs stored for the run."""
    path = latest_path(store, run.id)
    if not path.is_file():
        if run.epochs_done == 0:
            return 0
        if path.parent.is_dir():
            raise ResumeError(_("run {id} cannot go on: its checkpoint file {file} is missing from {folder}; its "
                                "{done} stored epochs are kept, train it again to go further").format(
                                    id=run.id, file=path.name, folder=path.parent, done=run.epochs_done))
        raise ResumeError(_("run {id} cannot go on: it has no checkpoint (trained before checkpoints were kept, or "
                            "its files were removed); its {done} stored epochs are kept, train it again to go "
                            "further").format(id=run.id, done=run.epochs_done))
    try:
        meta = read_meta(path)
    except CheckpointError as exc:
        raise ResumeError(_("run {id}: {reason}").format(id=run.id, reason=exc)) from None
    owner = (meta.get("extra") or {}).get("run_id", run.id)  # files before format 2 do not name their run
    if owner != run.id:
        raise ResumeError(_("run {id}'s checkpoint belongs to run {owner}: it is another run's file; train the run "
                            "again").format(id=run.id, owner=owner))
    _check_network(run, meta)
    epoch = int(meta.get("epoch", -1))
    if not 0 <= epoch <= run.epochs_done:
        raise ResumeError(_("run {id}'s checkpoint is of epoch {epoch}, ahead of its {done} stored epochs: the file "
                            "does not match the run; train the run again").format(id=run.id, epoch=epoch,
                                                                                  done=run.epochs_done))
    return epoch


def _check_network(run: RunRecord, meta: dict[str, Any]) -> None:
    """ResumeError unless the checkpoint holds the run's network and seed: a file of the same run id from
    another store (or one copied in by hand) names this run yet holds another network."""
    if run.config is None:
        return
    sizes = (meta.get("model") or {}).get("sizes") or []
    hidden, seed = tuple(int(n) for n in sizes[1:-1]), meta.get("seed")
    if hidden != tuple(run.config.hidden) or seed != run.config.seed:
        found = "-".join(str(n) for n in sizes) or _("an unknown network")
        raise ResumeError(_("run {id}'s checkpoint holds {found} with seed {seed}, not the run's hidden layers "
                            "{hidden} with seed {run_seed}: the file does not match the run; train the run "
                            "again").format(id=run.id, found=found, seed=seed, hidden=list(run.config.hidden),
                                            run_seed=run.config.seed))


def load_start(store: RunStore, run: RunRecord) -> Checkpoint | None:
    """The run's checkpoint, checked (``checkpoint_epoch``) and read, to resume from; None for a run with
    neither an epoch nor a checkpoint (it starts from scratch). ResumeError (one line) if it cannot be used."""
    if checkpoint_epoch(store, run) == 0 and not latest_path(store, run.id).is_file():
        return None
    try:
        return load_checkpoint(latest_path(store, run.id))
    except CheckpointError as exc:
        raise ResumeError(_("run {id}: {reason}").format(id=run.id, reason=exc)) from None
