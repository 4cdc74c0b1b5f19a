"""RunConfig: every setting of one training run, validated on construction.

A RunConfig that exists is valid: bad settings raise ``ConfigError`` with a message naming the field and
the accepted range, before any data is loaded or any run is queued. The limits below are the only place
where the product's caps are set (the dashboard, the command line and the store all go through here).
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from nn.activations import ACTIVATIONS
from nn.mlp import REDUCTIONS
from nn.optim import OPTIMIZERS

MAX_WIDTH = 4096          # units in one hidden layer
MAX_DEPTH = 8             # hidden layers
MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 60000
MAX_LR = 10.0
MAX_L2 = 1.0
MAX_SEED = 2**32 - 1
MAX_TRIALS = 200         # trials in one sweep (experiments/sweeps/spec.py)
MAX_QUEUED = 100         # runs waiting in one run manager's queue (experiments/runs/runner.py)
DTYPES = ("float32", "float64")


class ConfigError(ValueError):
    """An invalid setting; the message is meant for the user, as it is."""


@dataclass(frozen=True)
class RunConfig:
    """Hyperparameters, dataset and seed of one run. Defaults are the course report's base network."""

    hidden: tuple[int, ...] = (128,)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    l2: float = 0.0
    epochs: int = 10
    batch_size: int = 64
    seed: int = 0
    dtype: str = "float32"
    reduction: str = "mean"
    train_size: int = 0      # use only the first N training images; 0 means all of them
    data_dir: str = ""       # "" means MNIST_DIR, else the per-user cache (downloading if needed)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        problems: list[str] = []
        try:
            set_("hidden", parse_hidden(self.hidden))
        except ConfigError as exc:
            problems.append(str(exc))
        for name, choices in (("activation", ACTIVATIONS), ("optimizer", tuple(OPTIMIZERS)),
                              ("dtype", DTYPES), ("reduction", REDUCTIONS)):
            value = getattr(self, name)
            value = value.strip().lower() if isinstance(value, str) else value
            if value not in choices:
                problems.append(f"{name} must be one of {', '.join(choices)} (got {value!r})")
            else:
                set_(name, value)
        for name, low, high, low_inclusive in (("lr", 0.0, MAX_LR, False), ("l2", 0.0, MAX_L2, True)):
            try:
                set_(name, _number(getattr(self, name), name, float))
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            value = getattr(self, name)
            if not math.isfinite(value) or value > high or value < low or (value == low and not low_inclusive):
                bound = ">" if not low_inclusive else ">="
                problems.append(f"{name} must be a number {bound} {low:g} and <= {high:g} (got {value!r})")
        for name, low, high in (("epochs", 1, MAX_EPOCHS), ("batch_size", 1, MAX_BATCH_SIZE),
                                ("seed", 0, MAX_SEED), ("train_size", 0, MAX_BATCH_SIZE)):
            try:
                value = _number(getattr(self, name), name, int)
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            set_(name, value)
            if not low <= value <= high:
                problems.append(f"{name} must be a whole number from {low} to {high} (got {value})")
        if not isinstance(self.data_dir, str):
            problems.append("data_dir must be a folder path (text)")
        if not problems and self.train_size and self.batch_size > self.train_size:
            problems.append(f"batch_size ({self.batch_size}) is larger than the training set ({self.train_size})")
        if problems:
            raise ConfigError("; ".join(problems))

    # ------------------------------------------------------------------ derived
    def sizes(self, num_features: int = 784, num_classes: int = 10) -> list[int]:
        """Layer widths from input to output, e.g. ``[784, 128, 10]``."""
        return [num_features, *self.hidden, num_classes]

    @property
    def architecture(self) -> str:
        return "-".join(str(s) for s in self.sizes())

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Build from a dict (e.g. parsed JSON); unknown keys are refused, missing ones take defaults."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run configuration must be a mapping of settings, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the run configuration is not valid JSON ({exc.msg})") from None

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some settings changed (validated like any new config)."""
        return RunConfig.from_dict({**self.to_dict(), **changes})


def parse_hidden(value: Any) -> tuple[int, ...]:
    """Hidden-layer widths from text such as ``"128, 64"`` or from a sequence of integers.

    An empty text or sequence means no hidden layer (softmax regression).
    """
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").replace(" ", ",").split(",")]
        parts = [p for p in parts if p] if value.strip() else []
        if value.strip() and len(parts) != len([p for p in value.replace(" ", "").split(",")]):
            raise ConfigError(f"hidden layers must be widths separated by commas, such as '128, 64' (got {value!r})")
        items: Sequence[Any] = parts
    elif isinstance(value, Iterable):
        items = list(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    else:
        raise ConfigError(f"hidden layers must be widths such as '128, 64' (got {value!r})")
    if len(items) > MAX_DEPTH:
        raise ConfigError(f"at most {MAX_DEPTH} hidden layers are allowed (got {len(items)})")
    widths = []
    for item in items:
        try:
            width = _number(item, "hidden layer width", int)
        except ConfigError:
            raise ConfigError(f"hidden layer width {item!r} is not a whole number; write widths such as '128, 64'") from None
        if not 1 <= width <= MAX_WIDTH:
            raise ConfigError(f"hidden layer width must be from 1 to {MAX_WIDTH} (got {width})")
        widths.append(width)
    return tuple(widths)


def _number(value: Any, name: str, kind: type) -> Any:
    """Coerce ``value`` to int or float, accepting numeric text; refuse bools and fractional ints."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number (got {value!r})")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text) if kind is float or any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise ConfigError(f"{name} must be a number (got {value!r})") from None
    if kind is int:
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise ConfigError(f"{name} must be a whole number (got {value!r})")
            value = int(value)
        if not isinstance(value, int):
            try:
                value = int(value)  # numpy integers
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be a whole number (got {value!r})") from None
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number (got {value!r})") from None


# ---------------------------------------------------------------------- legend labels
LABEL_NAMES = {"hidden": "hidden", "activation": "act", "optimizer": "opt", "lr": "lr", "l2": "L2",
               "epochs": "epochs", "batch_size": "batch", "seed": "seed", "dtype": "dtype",
               "reduction": "grad", "train_size": "train", "data_dir": "data"}


def differing_fields(configs: Sequence[RunConfig], include_seed: bool = False) -> list[str]:
    """Names of the settings that are not the same across ``configs``, in field order."""
    names = [f.name for f in fields(RunConfig) if include_seed or f.name != "seed"]
    return [n for n in names if len({_format(n, getattr(c, n)) for c in configs}) > 1]


def short_label(config: RunConfig, names: Sequence[str]) -> str:
    """A legend label from the given settings, e.g. ``"lr=0.1, batch=64"``; the architecture if none."""
    if not names:
        return config.architecture
    return ", ".join(f"{LABEL_NAMES.get(n, n)}={_format(n, getattr(config, n))}" for n in names)


def labels_for(configs: Sequence[RunConfig]) -> list[str]:
    """One short legend label per config, built from the settings that differ among them."""
    names = differing_fields(configs)
    return [short_label(c, names) for c in configs]


def _format(name: str, value: Any) -> str:
    if name == "hidden":
        return "-".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
