"""Early stopping on a validation metric, keeping the best epoch and (optionally) its weights.

A run ended this way has *finished* its training protocol, so it ends as RunStatus.FINISHED, with a message
that says at which epoch it stopped, why, and which epoch was best (STOPPED is kept for the user's stop
button). ``best_epoch(history, monitor)`` finds the same best epoch in any stored history.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .callbacks import Callback, Order
from .status import EARLY_STOPPED, EARLY_STOPPED_RESTORED, RunStatus

MONITORS = {"val_loss": "min", "val_acc": "max", "test_loss": "min", "test_acc": "max", "train_loss": "min",
            "train_acc": "max"}


def improves(monitor: str, value: float, best: float, min_delta: float = 0.0) -> bool:
    """Whether ``value`` beats ``best`` by more than ``min_delta`` in ``monitor``'s direction."""
    if not math.isfinite(value):
        return False
    return value < best - min_delta if MONITORS[monitor] == "min" else value > best + min_delta


def best_epoch(history: Sequence[dict[str, Any]], monitor: str = "val_loss") -> dict[str, Any] | None:
    """The logs of the best epoch by ``monitor`` (the earliest on ties), or None if no epoch logged it."""
    best: dict[str, Any] | None = None
    for logs in history:
        if monitor in logs and (best is None or improves(monitor, logs[monitor], best[monitor])):
            best = logs
    return best


class EarlyStopping(Callback):
    """Ends training once ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``monitor`` is "val_loss" (lower is better) or "val_acc" (higher is better); other logged metrics are
    accepted too, but choosing by test numbers fits the test set. With ``restore_best_weights`` (default)
    the model ends with the parameters of the best epoch, whether training stopped early or ran out of
    epochs. ``best_epoch``/``best_logs`` record that epoch; ``stopped_epoch`` is 0 unless it stopped the run.
    ``state_dict``/``load_state_dict`` keep all of it (the best weights too) across a checkpoint.
    """

    order = Order.PROTOCOL

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best_weights: bool = True):
        if monitor not in MONITORS:
            raise ValueError(f"early stopping monitors one of {', '.join(MONITORS)}, not {monitor!r}")
        if int(patience) != patience or patience < 1:
            raise ValueError(f"early stopping patience must be a whole number >= 1, got {patience}")
        if not min_delta >= 0:
            raise ValueError(f"early stopping min_delta must be >= 0, got {min_delta}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore_best_weights = restore_best_weights
        self.best_logs: dict[str, Any] | None = None
        self.best_weights: np.ndarray | None = None
        self.wait, self.stopped_epoch = 0, 0

    @property
    def best_epoch(self) -> int:
        """The best epoch so far (1-based), 0 before any."""
        return int(self.best_logs["epoch"]) if self.best_logs else 0

    def state_dict(self) -> dict[str, Any]:
        """A copy of where early stopping stands: what it monitors, the best epoch's logs and weights, the
        epochs without improvement since, and the epoch it stopped the run at (0 if it did not)."""
        return {"monitor": self.monitor, "best_logs": dict(self.best_logs) if self.best_logs else None,
                "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_weights": None if self.best_weights is None else self.best_weights.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on from ``state_dict()``'s output. A state saved when this ended the run (a run continued for
        more epochs after early stopping) starts a fresh patience. ValueError, nothing changed, for another
        monitor or malformed state."""
        try:
            monitor, best_logs, wait = state["monitor"], state["best_logs"], int(state["wait"])
            weights = state.get("best_weights")
            weights = None if weights is None else np.array(weights, copy=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an early stopping state ({type(exc).__name__}: {exc})") from None
        if monitor != self.monitor:
            raise ValueError(f"the saved early stopping monitors {monitor}, this one {self.monitor}")
        if best_logs is not None and self.monitor not in best_logs:
            raise ValueError(f"the saved best epoch has no {self.monitor}")
        self.best_logs, self.best_weights = (dict(best_logs) if best_logs else None), weights
        self.wait = 0 if wait >= self.patience or state.get("stopped_epoch") else wait
        self.stopped_epoch = 0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        data = self.loop.data
        if self.monitor.startswith("val_") and data is not None and not data.has_validation:
            raise ValueError(f"early stopping monitors {self.monitor} but the data has no validation split: "
                             f"hold out a validation set or turn early stopping off")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        value = logs[self.monitor]
        if self.best_logs is None or improves(self.monitor, value, self.best_logs[self.monitor], self.min_delta):
            self.best_logs, self.wait = logs, 0
            if self.restore_best_weights:
                self.best_weights = self.loop.model.flat_params.copy()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            template = EARLY_STOPPED_RESTORED if self.restore_best_weights else EARLY_STOPPED
            self.loop.request_stop(RunStatus.FINISHED, template.format(
                epoch=epoch, monitor=self.monitor, min_delta=f"{self.min_delta:g}", patience=self.patience,
                best=f"{self.best_logs[self.monitor]:.4g}", best_epoch=self.best_epoch))

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.loop.model.flat_params[...] = self.best_weights
