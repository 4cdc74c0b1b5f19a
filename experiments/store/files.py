"""A store's files: the folder of its own beside the database, and moving files in from the old shared layout.

Each run store keeps the files it writes (a run's final weights, its checkpoints) in a folder named after its
database file, ``runs.sqlite`` -> ``runs.sqlite.files/`` (``weights/<id>.npz``, ``checkpoints/<id>/``). The
name is the database file's whole name plus ``.files``, so two stores in one folder (``runs.sqlite`` and
``faults.sqlite``, or even ``runs.sqlite`` and ``runs.db``) never share a file: their run ids overlap, and
before this every store named its files by run id in ``weights/`` and ``checkpoints/`` beside the database,
so one store's run 2 replaced (and deleting it removed) another's.

Stores written before keep their files in that old layout. ``adopt_old_files`` moves, when a store is
opened, the old files of this store's runs into its folder: a file is taken only when it is of the run's
network (its layer sizes are the run's settings), since the old folder may hold another store's run of the
same id; anything else stays where it is (nothing is deleted). A store that has moved its files finds
nothing left to move the next time.
"""
from __future__ import annotations

import contextlib
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES_SUFFIX = ".files"
WEIGHTS = "weights"
CHECKPOINTS = "checkpoints"
CHECKPOINT_FILE = "latest.npz"


def files_folder(database: Path) -> Path:
    """The folder of the store's own files: the database file's name with ``.files`` appended."""
    return database.with_name(database.name + FILES_SUFFIX)


def weights_file(database: Path, run_id: int) -> Path:
    return files_folder(database) / WEIGHTS / f"{int(run_id)}.npz"


def checkpoint_folder(database: Path, run_id: int) -> Path:
    return files_folder(database) / CHECKPOINTS / str(int(run_id))


@dataclass(frozen=True)
class RunShape:
    """What identifies a stored run's network in a file: its id and its layer sizes (784, ..., 10)."""

    run_id: int
    sizes: Sequence[int]


def _sizes_in_weights(path: Path) -> list[int] | None:
    """The layer sizes a weights file (``MLP.save``) holds, read without its parameters; None if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return [int(n) for n in f["sizes"].tolist()]
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None


def _sizes_in_checkpoint(folder: Path) -> list[int] | None:
    """The layer sizes a checkpoint folder's ``latest.npz`` holds (its meta), None if there is none."""
    try:
        with np.load(folder / CHECKPOINT_FILE, allow_pickle=False) as f:
            return [int(n) for n in json.loads(str(f["meta"]))["model"]["sizes"]]
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None


def _move(old: Path, new: Path) -> bool:
    """Move ``old`` to ``new`` unless ``new`` exists (a newer file of this store wins); False if not moved
    (another process moved it first, or the disk refused: the file stays where it was)."""
    if new.exists():
        return False
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.rename(old, new)  # same file system: atomic, nothing half-moved
    except OSError:
        return False
    return True


def adopt_old_files(database: Path, runs: Iterable[RunShape]) -> list[Path]:
    """Move this store's files from the old layout (``weights/<id>.npz`` and ``checkpoints/<id>/`` beside the
    database) into its own folder, each only when it holds the run's network; return the files moved."""
    old_weights, old_checkpoints = database.parent / WEIGHTS, database.parent / CHECKPOINTS
    if not old_weights.is_dir() and not old_checkpoints.is_dir():
        return []
    moved = []
    for run in runs:
        sizes = [int(n) for n in run.sizes]
        weights = old_weights / f"{run.run_id}.npz"
        if (weights.is_file() and _sizes_in_weights(weights) == sizes
                and _move(weights, weights_file(database, run.run_id))):
            moved.append(weights)
        checkpoints = old_checkpoints / str(run.run_id)
        if (checkpoints.is_dir() and _sizes_in_checkpoint(checkpoints) == sizes
                and _move(checkpoints, checkpoint_folder(database, run.run_id))):
            moved.append(checkpoints)
    for folder in (old_weights, old_checkpoints):  # gone once empty; another store's files keep it
        with contextlib.suppress(OSError):
            folder.rmdir()
    return moved
