"""A stored run's checkpoints: written after every epoch, read back to resume or continue the run.

The files live in ``RunStore.checkpoint_dir(id)`` (deleted with the run):

- ``latest.npz``: the model, the optimizer's state, the epochs finished, the seed (with the epoch, the whole
  RNG state: see ``nn.checkpoint``), the history, and this module's extra state: early stopping's counters
  (best epoch and its logs, epochs without improvement) and the epochs that get a full training-set pass.
  Replaced after every epoch, so only the latest is kept.
- ``best-<epoch>.npy``: the parameters of the best epoch so far, only when early stopping restores the
  best weights (it keeps them in memory; without the file a resumed run could not restore them). Written
  before the ``latest.npz`` that names it, and older ones removed after, so a crash at any moment leaves
  a ``latest.npz`` whose best file exists.

Every file is written to a temporary path first and moved into place with ``RunStore.attach_artifact``,
which does so only while the run exists: a run deleted while it trains gets no file (nor folder) back.
"""
from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from experiments.config import RunConfig
from experiments.store import RunStore, StoreError
from nn import MLP, Callback, Checkpoint, CheckpointError, EarlyStopping, load_checkpoint
from nn.checkpoint import read_meta, save_checkpoint
from nn.optim import OPTIMIZERS

LATEST = "latest.npz"
BEST_PREFIX = "best-"


class ResumeError(StoreError):
    """A run that cannot be resumed or continued as asked, with a one-line reason; nothing was changed."""


def latest_path(store: RunStore, run_id: int) -> Path:
    return store.checkpoint_dir(run_id) / LATEST


def best_path(store: RunStore, run_id: int, epoch: int) -> Path:
    return store.checkpoint_dir(run_id) / f"{BEST_PREFIX}{int(epoch)}.npy"


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


@dataclass
class ResumePoint:
    """A run's checkpoint loaded for training: where to continue, and early stopping's best weights."""

    checkpoint: Checkpoint
    best_weights: np.ndarray | None = None

    @property
    def epoch(self) -> int:
        return self.checkpoint.epoch

    @property
    def elapsed(self) -> float:
        """Training seconds of the epochs before the checkpoint (the next epochs' ``elapsed`` goes on from it)."""
        history = self.checkpoint.history
        return float(history[-1].get("elapsed") or 0.0) if history else 0.0

    @property
    def train_eval_epochs(self) -> tuple[int, ...]:
        return tuple(int(e) for e in self.checkpoint.extra.get("train_eval_epochs", ()))


def expected_architecture(config: RunConfig, num_features: int = 784) -> dict[str, Any]:
    """``MLP.architecture()`` of the network ``config`` builds (its rules for "auto" init included), without
    allocating it: a one-unit network of the same kind, given the config's widths."""
    init = None if config.init == "auto" else config.init
    tiny = MLP([1, 1], activation=config.activation, dtype=config.dtype, init=init, dropout=config.dropout)
    return {**tiny.architecture(), "sizes": config.sizes(num_features)}


def check_meta(run_id: int, meta: dict[str, Any], config: RunConfig) -> None:
    """ResumeError unless checkpoint ``meta`` belongs to a run of ``config``: its network, optimizer and seed."""
    model = meta.get("model") or {}
    sizes = list(model.get("sizes") or [784])
    expected = expected_architecture(config, int(sizes[0]))
    if {k: model.get(k) for k in expected} != expected:
        saved = ", ".join(f"{k} {model.get(k)}" for k in expected if model.get(k) != expected[k])
        wanted = ", ".join(f"{k} {v}" for k, v in expected.items() if model.get(k) != v)
        raise ResumeError(f"run {run_id}'s checkpoint holds another network ({saved}; the run's settings say "
                          f"{wanted}): it is another run's file; train the run again")
    kind = (meta.get("optimizer") or {}).get("kind")
    if kind != config.optimizer:
        raise ResumeError(f"run {run_id}'s checkpoint holds {kind} optimizer state, but the run uses "
                          f"{config.optimizer}: train the run again")
    if meta.get("seed") != config.seed or not 0 <= int(meta.get("epoch", -1)) <= config.epochs:
        raise ResumeError(f"run {run_id}'s checkpoint (seed {meta.get('seed')}, epoch {meta.get('epoch')}) does "
                          f"not match the run (seed {config.seed}, {config.epochs} epochs): train the run again")


def checked_meta(store: RunStore, run_id: int, config: RunConfig) -> dict[str, Any]:
    """The meta of the run's latest checkpoint, checked against its config without loading the arrays."""
    try:
        meta = read_meta(latest_path(store, run_id))
    except CheckpointError as exc:
        raise ResumeError(f"run {run_id}: {exc}") from None
    check_meta(run_id, meta, config)
    return meta


def load_resume_point(store: RunStore, run_id: int, config: RunConfig) -> ResumePoint:
    """The run's latest checkpoint and its best weights, loaded and checked (ResumeError, one line, if not)."""
    checked_meta(store, run_id, config)
    try:
        checkpoint = load_checkpoint(latest_path(store, run_id))
    except CheckpointError as exc:
        raise ResumeError(f"run {run_id}: {exc}") from None
    state = checkpoint.extra.get("early_stopping") or {}
    best = int((state.get("best_logs") or {}).get("epoch", 0))
    weights = None
    if state.get("best_weights_saved") and best:
        weights = _read_best(best_path(store, run_id, best), checkpoint.model.flat_params)
        if weights is None:
            raise ResumeError(f"run {run_id}: the best weights of epoch {best} (best-{best}.npy) are missing or "
                              f"damaged, so early stopping could not restore them; train the run again")
    return ResumePoint(checkpoint, weights)


def _read_best(path: Path, like: np.ndarray) -> np.ndarray | None:
    try:
        weights = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return weights if weights.shape == like.shape and weights.dtype == like.dtype else None


class RunCheckpointer(Callback):
    """Checkpoints the stored run after every epoch (must come after every callback whose state it saves).

    ``start`` is the point the run resumed from (its history comes first in every file written);
    ``bind(early_stopping)`` tells it the run's early stopping, whose state it restores from ``start`` and
    saves from then on.
    """

    def __init__(self, store: RunStore, run_id: int, start: ResumePoint | None = None,
                 train_eval_epochs: Collection[int] = ()):
        self.store, self.run_id, self.start = store, run_id, start
        self.train_eval_epochs = sorted(int(e) for e in train_eval_epochs)
        self.early_stopping: EarlyStopping | None = None
        self.history_before: list[dict[str, Any]] = list(start.checkpoint.history) if start else []
        self.planned_epochs: int | None = None  # the epochs the schedule is built for (see schedule_config)

    def schedule_config(self, config: RunConfig) -> RunConfig:
        """``config`` as the run's learning-rate schedule is built from: with the epochs the run was first
        planned with, kept in the checkpoint, so a run continued for more epochs goes on with its schedule
        (a cosine stays at its floor) instead of stretching it over the new length."""
        saved = self.start.checkpoint.extra.get("planned_epochs") if self.start else None
        self.planned_epochs = int(saved) if saved else config.epochs
        return config if self.planned_epochs == config.epochs else config.replace(epochs=self.planned_epochs)

    def bind(self, early_stopping: EarlyStopping | None) -> None:
        """Save ``early_stopping``'s state with every checkpoint, restored first from ``start``. A run that
        early stopping had ended (continued for more epochs) gets a fresh patience."""
        self.early_stopping = early_stopping
        if early_stopping is None or self.start is None:
            return
        state = self.start.checkpoint.extra.get("early_stopping") or {}
        if state.get("monitor") != early_stopping.monitor:
            return
        early_stopping.best_logs = state.get("best_logs")
        early_stopping.wait = int(state.get("wait", 0))
        early_stopping.stopped_epoch = 0
        if early_stopping.wait >= early_stopping.patience:
            early_stopping.wait = 0
        if early_stopping.restore_best_weights and self.start.best_weights is not None:
            early_stopping.best_weights = self.start.best_weights.copy()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        es = self.early_stopping
        keep_best = es is not None and es.restore_best_weights and es.best_weights is not None
        if keep_best and es is not None and es.best_epoch == epoch:
            self._attach(best_path(self.store, self.run_id, epoch), lambda tmp: _save_array(tmp, es.best_weights))
        extra: dict[str, Any] = {"train_eval_epochs": self.train_eval_epochs, "planned_epochs": self.planned_epochs}
        if es is not None:
            extra["early_stopping"] = {"monitor": es.monitor, "best_logs": es.best_logs, "wait": es.wait,
                                       "stopped_epoch": es.stopped_epoch, "best_weights_saved": keep_best}
        loop = self.loop
        self._attach(latest_path(self.store, self.run_id), lambda tmp: save_checkpoint(
            tmp, loop.model, loop.optimizer, epoch=epoch, seed=loop.options.seed,
            history=[*self.history_before, *loop.history], extra=extra))
        self._remove_stale_best(es.best_epoch if keep_best and es is not None else 0)

    def _attach(self, final: Path, write: Any) -> None:
        """Write a file through ``write(tmp)`` beside the checkpoint folders, then move it into place if the
        run still exists (the temporary file is removed either way)."""
        tmp = self.store.temp_path_for(final.parent)
        try:
            write(tmp)
            self.store.attach_artifact(self.run_id, tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def _remove_stale_best(self, keep: int) -> None:
        folder = self.store.checkpoint_dir(self.run_id)
        if not folder.is_dir():
            return
        for path in folder.glob(f"{BEST_PREFIX}*.npy"):
            if path.name != f"{BEST_PREFIX}{keep}.npy":
                with contextlib.suppress(OSError):
                    path.unlink()


def _save_array(path: Path, array: Any) -> None:
    with open(path, "wb") as f:
        np.save(f, array)


class ElapsedFrom(Callback):
    """Adds the training time before a resume to each epoch's ``elapsed`` (put it before the store's callback),
    so a resumed run's clock goes on from where it stopped."""

    def __init__(self, offset: float):
        self.offset = offset

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        logs["elapsed"] = logs.get("elapsed", 0.0) + self.offset

