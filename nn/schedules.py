"""Learning-rate schedules: the lr of every epoch as a pure function of the epoch number.

Each schedule holds its base ``lr`` and an optional linear warm-up: epochs 1..w run at lr * e / (w + 1),
then the decay starts from the full lr at epoch w + 1 (t = epoch - w - 1 epochs after warm-up):

- ``Constant``:     lr
- ``StepDecay``:    lr * factor ** (t // every)          (e.g. halve every 10 epochs)
- ``Exponential``:  lr * gamma ** t
- ``Cosine``:       lr * (m + (1 - m) * (1 + cos(pi * min(t, T) / T)) / 2), m = min_factor, T = ``epochs``

Because the lr depends on the epoch alone, a resumed run picks the schedule up where it was.
``LearningRateScheduler`` applies one to the optimizer before each epoch; ``fit`` logs the lr per epoch. Its
``state_dict`` is the schedule itself (``Schedule.state_dict``), so a run continued for more epochs than it
was planned with goes on with the schedule it was built with (a cosine stays at its floor) instead of one
stretched over the new length.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .callbacks import Callback, Order


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """Base: a constant ``lr`` after ``warmup_epochs`` of linear warm-up; subclasses override ``decay``."""

    lr: float
    warmup_epochs: int = 0

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"schedule lr must be > 0, got {self.lr}")
        if self.warmup_epochs < 0:
            raise ValueError(f"warm-up epochs must be >= 0, got {self.warmup_epochs}")

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (1-based)."""
        if epoch < 1:
            raise ValueError(f"epochs are numbered from 1, got {epoch}")
        if epoch <= self.warmup_epochs:
            return self.lr * epoch / (self.warmup_epochs + 1)
        return self.lr * self.decay(epoch - self.warmup_epochs - 1)

    def decay(self, t: int) -> float:
        """The factor on ``lr`` ``t`` epochs after warm-up (t = 0 is the first full epoch)."""
        return 1.0

    def state_dict(self) -> dict[str, Any]:
        """The schedule as data: its name and parameters (``make_schedule(**state)`` builds it again)."""
        name = next(key for key, cls in SCHEDULES.items() if cls is type(self))
        return {"name": name, **dataclasses.asdict(self)}


@dataclass(frozen=True, kw_only=True)
class Constant(Schedule):
    """The same lr every epoch (after the warm-up, if any)."""


@dataclass(frozen=True, kw_only=True)
class StepDecay(Schedule):
    """Multiply the lr by ``factor`` every ``every`` epochs."""

    factor: float = 0.5
    every: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.factor <= 1:
            raise ValueError(f"step decay factor must be in (0, 1], got {self.factor}")
        if self.every < 1:
            raise ValueError(f"step decay interval must be >= 1 epoch, got {self.every}")

    def decay(self, t: int) -> float:
        return self.factor ** (t // self.every)


@dataclass(frozen=True, kw_only=True)
class Exponential(Schedule):
    """Multiply the lr by ``gamma`` every epoch."""

    gamma: float = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.gamma <= 1:
            raise ValueError(f"exponential decay gamma must be in (0, 1], got {self.gamma}")

    def decay(self, t: int) -> float:
        return self.gamma ** t


@dataclass(frozen=True, kw_only=True)
class Cosine(Schedule):
    """Half a cosine from lr down to ``min_factor * lr`` over ``epochs`` epochs, then flat."""

    epochs: int
    min_factor: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.epochs < 1:
            raise ValueError(f"cosine schedule length must be >= 1 epoch, got {self.epochs}")
        if not 0 <= self.min_factor <= 1:
            raise ValueError(f"cosine min_factor must be in [0, 1], got {self.min_factor}")

    def decay(self, t: int) -> float:
        progress = min(t, self.epochs) / self.epochs
        return self.min_factor + (1 - self.min_factor) * (1 + math.cos(math.pi * progress)) / 2


SCHEDULES: dict[str, type[Schedule]] = {"constant": Constant, "step": StepDecay, "exponential": Exponential,
                                        "cosine": Cosine}


def make_schedule(name: str, lr: float, **parameters: Any) -> Schedule:
    """Build a schedule by name (constant, step, exponential, cosine); ValueError for an unknown name or a
    parameter out of range or not taken by that schedule."""
    try:
        cls = SCHEDULES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}") from None
    try:
        return cls(lr=lr, **parameters)
    except TypeError as exc:
        raise ValueError(f"{name} schedule: {exc}") from None


class LearningRateScheduler(Callback):
    """Sets the optimizer's lr to ``schedule.lr_at(epoch)`` before each epoch."""

    order = Order.PROTOCOL

    def __init__(self, schedule: Schedule):
        self.schedule = schedule

    def state_dict(self) -> dict[str, Any]:
        """The schedule in use (see ``Schedule.state_dict``)."""
        return {"schedule": self.schedule.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on with the saved schedule; ValueError, nothing changed, if it describes none."""
        try:
            saved = dict(state["schedule"])
            name = str(saved.pop("name"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a learning-rate scheduler state ({type(exc).__name__}: {exc})") from None
        lr = saved.pop("lr", None)
        if not isinstance(lr, (int, float)):
            raise ValueError(f"the saved {name} schedule has no learning rate")
        self.schedule = make_schedule(name, float(lr), **saved)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.loop.optimizer.lr = self.schedule.lr_at(epoch)
