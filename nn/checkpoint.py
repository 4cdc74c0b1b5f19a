"""Checkpoints: model + optimizer + epoch/seed + history in one ``.npz`` (no pickle), written atomically.

A run's only randomness after initialisation is drawn from generators seeded by (seed, epoch) (the
shuffle, dropout masks), so the seed and the number of finished epochs are its whole RNG state: training
the loaded model and optimizer with ``FitOptions(..., seed=ckpt.seed, initial_epoch=ckpt.epoch)`` replays the
remaining epochs exactly as an uninterrupted run would.

Layout: ``meta`` (a JSON string: format, epoch, seed, architecture, optimizer kind/hyperparameters/steps,
history, and ``extra``: JSON state of the caller's, e.g. early stopping's counters), ``params`` (the flat
parameter buffer) and ``optimizer/<param index>/<state name>`` arrays.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .callbacks import Callback
from .mlp import MLP
from .optim import OPTIMIZERS, Optimizer

FORMAT = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be used (missing, truncated, another architecture), with a one-line message."""


@dataclass
class Checkpoint:
    """What ``load_checkpoint`` returns: ready-to-train objects and where training stopped."""

    model: MLP
    optimizer: Optimizer
    epoch: int            # epochs finished: continue with FitOptions(initial_epoch=epoch)
    seed: int
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # what the caller saved beside the training state


def save_checkpoint(path: str | os.PathLike[str], model: MLP, optimizer: Optimizer, *, epoch: int, seed: int,
                    history: Sequence[dict[str, Any]] = (), extra: dict[str, Any] | None = None) -> None:
    """Write the checkpoint to a temporary file in ``path``'s folder, then rename it over ``path``: a
    reader (or a crash) never sees half a file, and the previous checkpoint stays until the new one is whole."""
    path = Path(path)
    state = optimizer.state_dict()
    meta = {"format": FORMAT, "epoch": int(epoch), "seed": int(seed), "model": model.architecture(),
            "optimizer": {"kind": state["kind"], "hyperparameters": state["hyperparameters"], "steps": state["steps"]},
            "history": list(history), "extra": dict(extra or {})}
    arrays = {f"optimizer/{i}/{name}": a for i, s in state["state"].items() for name, a in s.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, default=float)), params=model.flat_params, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike[str], model: MLP | None = None,
                    optimizer: Optimizer | None = None) -> Checkpoint:
    """Read a checkpoint into fresh objects, or into ``model``/``optimizer`` when given (which must match its
    architecture and optimizer kind). Every problem raises CheckpointError with a one-line message, and a
    given model or optimizer is changed only when the whole checkpoint has been read and checked."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            params = f["params"]
            arrays = {key: f[key] for key in f.files if key.startswith("optimizer/")}
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{path.name} has checkpoint format {meta.get('format')!r}, expected {FORMAT}")
        architecture = meta["model"]
        epoch, seed, history = int(meta["epoch"]), int(meta["seed"]), list(meta["history"])
        extra = dict(meta.get("extra") or {})
        saved = meta["optimizer"]
        state_dict = {**saved, "state": _nest(arrays)}
    except CheckpointError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path.name} is not a readable checkpoint (truncated or corrupted: "
                              f"{type(exc).__name__}): delete it or train from scratch") from None
    model = _check_model(path.name, architecture, params, model)
    optimizer = _restore_optimizer(path.name, state_dict, model, optimizer)
    model.flat_params[...] = params  # last: nothing given is changed unless everything loaded
    return Checkpoint(model, optimizer, epoch, seed, history, extra)


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint's ``meta`` (epoch, seed, architecture, optimizer, history, extra) without reading its
    arrays: a quick check before a long load. CheckpointError (one line) for a missing or unreadable file;
    a truncated file is found here too, since a zip's directory is at its end."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            if "params" not in f.files or not isinstance(meta, dict):
                raise KeyError("params")
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path.name} is not a readable checkpoint (truncated or corrupted: "
                              f"{type(exc).__name__}): delete it or train from scratch") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} has checkpoint format {meta.get('format')!r}, expected {FORMAT}")
    return meta


def _nest(arrays: dict[str, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
    """``{"optimizer/0/m": a}`` -> ``{0: {"m": a}}``."""
    state: dict[int, dict[str, np.ndarray]] = {}
    for key, a in arrays.items():
        _, index, name = key.split("/")
        state.setdefault(int(index), {})[name] = a
    return state


def _check_model(name: str, architecture: dict[str, Any], params: np.ndarray, model: MLP | None) -> MLP:
    """The model to load into (``model``, or a fresh one): CheckpointError unless ``params`` fit it."""
    try:
        fresh = MLP.from_architecture(architecture)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{name} describes no valid network ({exc})") from None
    if model is None:
        model = fresh
    elif model.architecture() != fresh.architecture():
        raise CheckpointError(f"{name} holds a {fresh.describe()} network, not the {model.describe()} one "
                              f"it is loaded into")
    if params.shape != model.flat_params.shape:
        raise CheckpointError(f"{name} holds {params.size} parameters but its network needs "
                              f"{model.flat_params.size}: the file is corrupted")
    return model


def _restore_optimizer(name: str, state_dict: dict[str, Any], model: MLP, optimizer: Optimizer | None) -> Optimizer:
    kind = state_dict.get("kind")
    try:
        if optimizer is None:
            optimizer = OPTIMIZERS[str(kind)](**state_dict["hyperparameters"])
        optimizer.load_state_dict(state_dict, [model.flat_params])
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{name}: cannot restore its {kind} optimizer state ({exc})") from None
    return optimizer


class SaveCheckpoint(Callback):
    """Checkpoints the run to ``path`` after every epoch (atomically, so only the latest is kept).

    ``history_before`` is the history of the epochs before this call of ``fit`` (when it resumes a run),
    so the file always holds the whole run's history.
    """

    def __init__(self, path: str | os.PathLike[str], history_before: Sequence[dict[str, Any]] = ()):
        self.path, self.history_before = Path(path), list(history_before)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        save_checkpoint(self.path, self.loop.model, self.loop.optimizer, epoch=epoch, seed=self.loop.options.seed,
                        history=[*self.history_before, *self.loop.history])
