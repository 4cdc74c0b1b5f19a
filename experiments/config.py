"""RunConfig: every setting of one training run, declared once and validated on construction.

This is the single settings schema. Each field is declared with ``setting(default, label, help, parse,
short, **widget hints)``; from that one declaration the command line's flags (``experiments.cli``), the
dashboard's sidebar widgets, keys and defaults (``ui.sidebar``, ``ui.common.CONFIG_KEYS``), "load into
sidebar", validation and legend labels are derived. To add a setting, add one field below (and, if needed,
a cross-setting check to ``CROSS_CHECKS``); nothing else lists the fields.

A RunConfig that exists is valid: bad settings raise ``ConfigError`` with one line naming the field and the
accepted range, before any data is loaded or any run is queued. Fields may be given as user text ("0.01",
"128, 64"): the field's parser turns it into the typed value (``RunConfig.from_dict`` is the typed entry
point for such raw values).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from experiments.settings.labels import differing_fields, labels_for, short_label
from experiments.settings.limits import (
    DTYPES,
    L2_VALUES,
    LEARNING_RATES,
    MAX_BATCH_SIZE,
    MAX_DEPTH,
    MAX_EPOCHS,
    MAX_L2,
    MAX_LR,
    MAX_QUEUED,
    MAX_SEED,
    MAX_TRAIN_SIZE,
    MAX_TRIALS,
    MAX_WIDTH,
)
from experiments.settings.parsers import Choice, ConfigError, FolderPath, RealNumber, WholeNumber, Widths, quote
from experiments.settings.setting import Setting, SettingField, Widget, schema_of, setting
from nn.activations import ACTIVATIONS
from nn.mlp import REDUCTIONS
from nn.optim import OPTIMIZERS

__all__ = ["DTYPES", "MAX_BATCH_SIZE", "MAX_DEPTH", "MAX_EPOCHS", "MAX_L2", "MAX_LR", "MAX_QUEUED", "MAX_SEED",
           "MAX_TRAIN_SIZE", "MAX_TRIALS", "MAX_WIDTH", "ConfigError", "RunConfig", "differing_fields",
           "labels_for", "parse_hidden", "parse_setting", "quote", "schema", "setting_of", "short_label"]


@dataclass(frozen=True)
class RunConfig:
    """Hyperparameters, dataset and seed of one run. Defaults are the course report's base network."""

    hidden: tuple[int, ...] = setting(
        (128,), "Hidden layers", short="hidden", parse=Widths(MAX_DEPTH, MAX_WIDTH),
        help="Widths of the hidden layers, separated by commas: '128' is one layer of 128 units, '256, 128' two "
             "layers. Leave empty (or write none) for no hidden layer (softmax regression).")
    activation: str = setting(
        "relu", "Activation", short="act", parse=Choice(ACTIVATIONS), widget=Widget.CHOICE,
        help="The non-linearity of the hidden units. relu learns fastest; sigmoid saturates and learns slowly.")
    optimizer: str = setting(
        "adam", "Optimizer", short="opt", parse=Choice(tuple(OPTIMIZERS)), widget=Widget.CHOICE,
        help="How the gradient updates the weights: plain sgd, sgd with momentum, or the adaptive rmsprop "
             "and adam.")
    lr: float = setting(
        1e-3, "Learning rate", short="lr", parse=RealNumber(0.0, MAX_LR), widget=Widget.LOG_SLIDER,
        options=LEARNING_RATES,
        help="Step size of each update. Too high and the loss diverges; too low and it crawls. "
             "Good starts: 0.001 for adam, 0.1 for sgd.")
    l2: float = setting(
        0.0, "L2", short="L2", parse=RealNumber(0.0, MAX_L2, low_inclusive=True), widget=Widget.LOG_SLIDER,
        options=L2_VALUES,
        help="Weight decay: a penalty on large weights that fights overfitting. 0 turns it off; try 1e-4.")
    epochs: int = setting(
        10, "Epochs", short="epochs", parse=WholeNumber(1, MAX_EPOCHS),
        help="Passes over the training images.")
    batch_size: int = setting(
        64, "Batch size", short="batch", parse=WholeNumber(1, MAX_BATCH_SIZE),
        help="Images per weight update. Small batches give noisy but many updates; large ones fewer, smoother "
             "updates.")
    seed: int = setting(
        0, "Seed", short="seed", parse=WholeNumber(0, MAX_SEED),
        help="Fixes the initial weights and the order of the batches: the same settings and seed give the same "
             "run. Change it to see how much results vary by chance.")
    dtype: str = setting(
        "float32", "Precision", short="dtype", parse=Choice(DTYPES), widget=Widget.CHOICE, more=True,
        help="float32 is about twice as fast; float64 for checking numerics.")
    reduction: str = setting(
        "mean", "Gradient reduction", short="grad", parse=Choice(REDUCTIONS), widget=Widget.CHOICE, more=True,
        help="mean: the batch gradient is averaged (standard). sum: it is added up, so the step grows with the "
             "batch size (the course report's bug).")
    train_size: int = setting(
        0, "Training images", short="train", parse=WholeNumber(0, MAX_TRAIN_SIZE), more=True,
        help="Train on the first N images only, for quick experiments (0 = all 60,000).")
    data_dir: str = setting(
        "", "Data folder", short="data", parse=FolderPath(), widget=Widget.NONE,
        help="Folder with the MNIST IDX files (empty: $MNIST_DIR, else the per-user cache, downloading if "
             "needed).")

    def __post_init__(self) -> None:
        """Parse every field (user text becomes typed values), then the cross-setting checks; all problems
        are reported at once, joined on one line."""
        problems: list[str] = []
        for entry in schema():
            try:
                object.__setattr__(self, entry.name, entry.setting.parse(entry.name, getattr(self, entry.name)))
            except ConfigError as exc:
                problems.append(str(exc))
        if not problems:
            problems = [problem for check in CROSS_CHECKS if (problem := check(self))]
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
        """Build from a mapping of raw values (parsed JSON, CLI or widget text); unknown keys are refused,
        missing ones take defaults."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run configuration must be a mapping of settings, got {type(d).__name__}")
        known = [entry.name for entry in schema()]
        unknown = sorted(set(d) - set(known), key=str)
        if unknown:
            raise ConfigError(f"unknown setting {quote(unknown[0])}; known settings: {', '.join(sorted(known))}")
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


def _batch_fits_train_size(config: RunConfig) -> str:
    if config.train_size and config.batch_size > config.train_size:
        return f"batch_size ({config.batch_size}) is larger than the training set ({config.train_size})"
    return ""


# Checks that involve several settings, run once every field has parsed; each returns a problem or "".
CROSS_CHECKS: tuple[Callable[[RunConfig], str], ...] = (_batch_fits_train_size,)


def schema() -> tuple[SettingField, ...]:
    """RunConfig's settings (name, default, Setting), in declaration order."""
    return _SCHEMA


def setting_of(name: str) -> Setting:
    """The Setting of RunConfig field ``name`` (e.g. its choices for a page's own widget)."""
    entries = {entry.name: entry for entry in schema()}
    if name not in entries:
        raise ConfigError(f"unknown setting {quote(name)}; known settings: {', '.join(sorted(entries))}")
    return entries[name].setting


def parse_setting(name: str, value: Any) -> Any:
    """One setting's typed value from user input (e.g. a sweep grid entry), or ConfigError."""
    return setting_of(name).parse(name, value)


def parse_hidden(value: Any) -> tuple[int, ...]:
    """Hidden-layer widths from text such as ``"128, 64"`` or a sequence of ints; "" or "none" is no layer."""
    result: tuple[int, ...] = parse_setting("hidden", value)
    return result


_SCHEMA = schema_of(RunConfig)
