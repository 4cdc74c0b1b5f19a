"""Callbacks in Keras's shape, and the controls that end or hold a run: stop, pause, divergence.

``fit`` hands every callback the ``RunState`` (Keras: ``set_model``) before training starts. A callback
reads the model, optimizer, options, history and the other callbacks from it, and ends the run with
``run.request_stop(status, message)``: that is the one way a run ends early, used alike by the user's stop
button (``StopOnEvent``), the divergence check (``DivergenceGuard``, on by default) and early stopping.

Every callback subclasses ``Callback`` and says where it runs by its ``order`` (see ``Order``); a callback
that carries state from epoch to epoch also has ``state_dict()``/``load_state_dict()`` (``Stateful``), which
the checkpoint callback (``nn.checkpoint.BackupAndRestore``) saves and a resumed run loads back.
Only hooks a callback overrides are called, so an unused per-batch hook costs nothing.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .status import LOSS_EXPLODED, LOSS_NOT_FINITE, PARAMETERS_OVERFLOWED, STOPPED_BY_USER, RunStatus

if TYPE_CHECKING:
    from .data import Dataset
    from .loop import FitOptions
    from .mlp import MLP
    from .optim import Optimizer

# A mean cross-entropy this large means the correct class gets probability below e^-10000: the weights
# have blown up even if the arithmetic has not yet overflowed to inf or NaN (e.g. every ReLU died).
EXPLODED_LOSS = 1e4
HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class Flag(Protocol):
    """A switch a user holds over a run (stop, pause): a threading.Event, or a multiprocessing Event shared by
    a sweep's worker processes; the trainer only reads it (``is_set``), its holder sets and clears it."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...


@runtime_checkable
class Stateful(Protocol):
    """A training piece whose state a checkpoint keeps (PyTorch's shape): ``state_dict()`` returns a copy of
    it (JSON values and NumPy arrays), ``load_state_dict(state)`` goes on from one, raising ValueError with
    nothing changed if it does not fit. Optimizers, early stopping and the lr scheduler are stateful."""

    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class Order(IntEnum):
    """Where a callback runs among the others at each hook (``Callback.order``; ties keep the given order)."""

    TURN = 0        # waits between batches for the run's turn on a shared machine (a scheduler's time slices)
    PAUSE = 1       # holds the run between batches: before stop, so a run stopped while paused stops at once
    STOP = 2        # ends the run: the user's stop, the divergence guard (before early stopping can)
    MEASURE = 3     # adds to an epoch's logs for every callback after it (a whole-training-set pass, the clock)
    PROTOCOL = 4    # the settings that steer training: the lr schedule, early stopping
    RECORD = 5      # the default: store the epoch, record dynamics, show progress
    CHECKPOINT = 6  # last: saves the state every other callback left at the epoch's end


class RunState:
    """What callbacks see of the run in progress, and the one way to end it early (``request_stop``)."""

    def __init__(self, model: MLP, optimizer: Optimizer, options: FitOptions, data: Dataset | None = None):
        self.model, self.optimizer, self.options, self.data = model, optimizer, options, data
        self.callbacks: list[Any] = []           # the run's callbacks, in the order they run (set by CallbackList)
        self.history: list[dict[str, Any]] = []  # one logs dict per epoch finished in this call of fit
        self.epoch = options.initial_epoch       # the epoch in progress (1-based) once training runs
        self.status = RunStatus.FINISHED
        self.message = ""
        self.stop_requested = False

    def request_stop(self, status: RunStatus, message: str) -> None:
        """End the run with ``status``: before the next batch if asked during a batch or before it, else
        after the current epoch's ``on_epoch_end`` hooks (every callback still sees that epoch). The first
        request wins, so a divergence found at an epoch's end is not overwritten by a later callback."""
        if not self.stop_requested:
            self.stop_requested, self.status, self.message = True, RunStatus(status), message


class Callback:
    """Base class of every callback, with a documented no-op for every hook; override the ones you need.

    ``logs`` per hook: train_begin {epochs, initial_epoch, batches_per_epoch}; epoch_begin {}; batch_begin
    {}; batch_end {loss (per example), correct, size}; epoch_end the epoch's metrics (see ``fit``), which a
    callback may add keys to for the callbacks after it; train_end {status, message}.

    ``order`` places the callback at every hook, whatever order it was given in (``CallbackList`` sorts by
    it, stably): controls first (a turn, pause, then stop and divergence), then callbacks that add to the logs,
    the protocol (lr schedule, early stopping), the recorders (the default), and the checkpoint last. See
    ``Order``.
    """

    order: Order = Order.RECORD
    loop: RunState

    def set_loop(self, loop: RunState) -> None:
        """Called by ``fit`` before ``on_train_begin``: the run this callback observes and may stop."""
        self.loop = loop

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Once, before the first epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        """Before epoch ``epoch`` (1-based) trains: e.g. set the learning rate for it."""

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        """Before batch ``batch`` (0-based within the epoch): a stop requested here runs no more batches."""

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        """After the batch's update; ``logs`` holds its loss: keep this cheap, it runs ~1000 times an epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """After the epoch is trained and evaluated; ``logs`` is the dict stored in the history."""

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """Once, after the last epoch or the stop; ``logs`` has the final status and message."""


class CallbackList:
    """Dispatches each hook to the callbacks that implement it, sorted by their ``order`` (built once per
    ``fit``). An object that is not a ``Callback`` but has some hook methods (a proxy that times another
    callback, say) runs as a recorder."""

    def __init__(self, callbacks: Iterable[Any], loop: RunState):
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", Order.RECORD))
        loop.callbacks = self.callbacks
        for cb in self.callbacks:
            set_loop = getattr(cb, "set_loop", None)
            if set_loop is not None:
                set_loop(loop)
        hooks = {name: [m for cb in self.callbacks if (m := _implemented(cb, name)) is not None] for name in HOOKS}
        self.train_begin, self.train_end = hooks["on_train_begin"], hooks["on_train_end"]
        self.epoch_begin, self.epoch_end = hooks["on_epoch_begin"], hooks["on_epoch_end"]
        self.batch_begin, self.batch_end = hooks["on_batch_begin"], hooks["on_batch_end"]

    @staticmethod
    def call(hooks: list[Callable[..., None]], *args: Any) -> None:
        for hook in hooks:
            hook(*args)


def _implemented(cb: Any, name: str) -> Callable[..., None] | None:
    """``cb``'s hook ``name`` unless it is missing or the base class's no-op."""
    method = getattr(cb, name, None)
    if method is None or getattr(type(cb), name, None) is getattr(Callback, name):
        return None
    return method


class StopOnEvent(Callback):
    """Ends the run as STOPPED before the next batch once ``event`` is set (e.g. by a Stop button)."""

    order = Order.STOP

    def __init__(self, event: Flag):
        self.event = event

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        if self.event.is_set():
            self.loop.request_stop(RunStatus.STOPPED, STOPPED_BY_USER.format(epoch=self.loop.epoch))


class PauseOnEvent(Callback):
    """Holds training between batches while ``event`` is set; a set ``stop_event`` releases it.

    It runs before ``StopOnEvent`` (``Order.PAUSE``), so a run stopped while paused stops at once.
    """

    order = Order.PAUSE

    def __init__(self, event: Flag, stop_event: Flag | None = None, poll: float = 0.05):
        self.event, self.stop_event, self.poll = event, stop_event, poll

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        while self.event.is_set() and not (self.stop_event is not None and self.stop_event.is_set()):
            time.sleep(self.poll)


class DivergenceGuard(Callback):
    """Ends the run as DIVERGED when a batch loss is not finite or above ``threshold`` per example, or an
    epoch's evaluated loss is not finite (the parameters overflowed). ``fit`` adds one unless given one.

    ``loss`` is per example in both reductions (see ``MLP.backprop``), so one threshold fits both.
    """

    order = Order.STOP

    def __init__(self, threshold: float = EXPLODED_LOSS):
        if not threshold > 0:
            raise ValueError(f"divergence threshold must be > 0, got {threshold}")
        self.threshold = threshold

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        loss = logs["loss"]
        if not math.isfinite(loss) or loss > self.threshold:
            finite = math.isfinite(loss)
            self._diverged(LOSS_EXPLODED if finite else LOSS_NOT_FINITE, loss=f"{loss:.3g}" if finite else f"{loss}",
                           epoch=self.loop.epoch, batch=batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if any(not math.isfinite(logs[key]) for key in ("val_loss", "test_loss") if key in logs):
            self._diverged(PARAMETERS_OVERFLOWED, epoch=epoch)

    def _diverged(self, template: str, **values: object) -> None:
        self.loop.request_stop(RunStatus.DIVERGED, template.format(lr=f"{self.loop.optimizer.lr:g}", **values))
