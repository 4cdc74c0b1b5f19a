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

import difflib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from experiments.i18n import N_, _
from experiments.settings.labels import differing_fields, labels_for, short_label
from experiments.settings.limits import (
    DTYPES,
    INITS,
    L2_VALUES,
    LEARNING_RATES,
    MAX_BATCH_SIZE,
    MAX_DEPTH,
    MAX_EPOCHS,
    MAX_L2,
    MAX_LR,
    MAX_MIN_DELTA,
    MAX_QUEUED,
    MAX_SEED,
    MAX_TRAIN_SIZE,
    MAX_TRIALS,
    MAX_VAL_SIZE,
    MAX_WIDTH,
    MONITORS,
)
from experiments.settings.parsers import (
    Choice,
    ConfigError,
    FolderPath,
    RealNumber,
    WholeNumber,
    Widths,
    YesNo,
    quote,
)
from experiments.settings.setting import Setting, SettingField, Widget, schema_of, setting
from nn.activations import ACTIVATIONS
from nn.mlp import REDUCTIONS
from nn.optim import OPTIMIZERS
from nn.schedules import SCHEDULES

UNIT = RealNumber(0.0, 1.0, low_inclusive=True, high_inclusive=False)  # [0, 1): dropout, decay constants

__all__ = ["DTYPES", "MAX_BATCH_SIZE", "MAX_DEPTH", "MAX_EPOCHS", "MAX_L2", "MAX_LR", "MAX_QUEUED", "MAX_SEED",
           "MAX_TRAIN_SIZE", "MAX_TRIALS", "MAX_WIDTH", "ConfigError", "RunConfig", "differing_fields",
           "field_name", "labels_for", "parse_hidden", "parse_setting", "quote", "schema", "setting_flag",
           "setting_label", "setting_of", "short_label"]


# Settings whose default is not what runs stored before the setting existed did: such a stored run gets this
# value, not the default (runs from before the validation split held out no validation images).
STORED_BEFORE: dict[str, Any] = {"val_size": 0}


@dataclass(frozen=True)
class RunConfig:
    """Hyperparameters, dataset and seed of one run. Defaults are the course report's base network."""

    hidden: tuple[int, ...] = setting(
        (128,), N_("Hidden layers"), short="hidden", parse=Widths(MAX_DEPTH, MAX_WIDTH),
        help=N_("Widths of the hidden layers, separated by commas: '128' is one layer of 128 units, '256, 128' two "
             "layers. Leave empty (or write none) for no hidden layer (softmax regression)."))
    activation: str = setting(
        "relu", N_("Activation"), short="act", parse=Choice(ACTIVATIONS), widget=Widget.CHOICE,
        help=N_("The non-linearity of the hidden units. relu learns fastest; sigmoid saturates and learns slowly."))
    optimizer: str = setting(
        "adam", N_("Optimizer"), short="opt", parse=Choice(tuple(OPTIMIZERS)), widget=Widget.CHOICE,
        help=N_("How the gradient updates the weights: plain sgd, sgd with momentum, or the adaptive rmsprop "
             "and adam."))
    lr: float = setting(
        1e-3, N_("Learning rate"), short="lr", parse=RealNumber(0.0, MAX_LR), widget=Widget.LOG_SLIDER,
        options=LEARNING_RATES,
        help=N_("Step size of each update. Too high and the loss diverges; too low and it crawls. "
             "Good starts: 0.001 for adam, 0.1 for sgd."))
    l2: float = setting(
        0.0, N_("L2"), short="L2", parse=RealNumber(0.0, MAX_L2, low_inclusive=True), widget=Widget.LOG_SLIDER,
        options=L2_VALUES,
        help=N_("Weight decay: a penalty on large weights that fights overfitting. 0 turns it off; try 1e-4."))
    epochs: int = setting(
        10, N_("Epochs"), short="epochs", parse=WholeNumber(1, MAX_EPOCHS),
        help=N_("Passes over the training images."))
    batch_size: int = setting(
        64, N_("Batch size"), short="batch", parse=WholeNumber(1, MAX_BATCH_SIZE),
        help=N_("Images per weight update. Small batches give noisy but many updates; large ones fewer, smoother "
             "updates."))
    seed: int = setting(
        0, N_("Seed"), short="seed", parse=WholeNumber(0, MAX_SEED),
        help=N_("Fixes the initial weights and the order of the batches: the same settings and seed give the same "
             "run. Change it to see how much results vary by chance."))
    dropout: float = setting(
        0.0, N_("Dropout"), short="dropout", parse=UNIT,
        help=N_("The fraction of hidden units switched off at random in each training step (inverted dropout; "
             "none at evaluation). It fights overfitting; try 0.2 to 0.5. 0 turns it off."))
    schedule: str = setting(
        "constant", N_("Learning-rate schedule"), short="sched", parse=Choice(tuple(SCHEDULES)), widget=Widget.CHOICE,
        help=N_("How the learning rate changes over the epochs: constant, step (multiply by the step factor every "
             "few epochs), exponential (multiply by gamma every epoch) or cosine (down to the cosine floor by "
             "the last epoch). Its parameters are under More settings."))
    early_stopping: str = setting(
        "off", N_("Early stopping"), short="stop", parse=Choice(MONITORS), widget=Widget.CHOICE,
        help=N_("Stop when the validation metric (val_loss or val_acc) has not improved for 'patience' epochs, "
             "and keep the best epoch's weights. Needs a validation set (val_size > 0)."))
    dtype: str = setting(
        "float32", N_("Precision"), short="dtype", parse=Choice(DTYPES), widget=Widget.CHOICE, more=True,
        help=N_("float32 is about twice as fast; float64 for checking numerics."))
    reduction: str = setting(
        "mean", N_("Gradient reduction"), short="grad", parse=Choice(REDUCTIONS), widget=Widget.CHOICE, more=True,
        help=N_("mean: the batch gradient is averaged (standard). sum: it is added up, so the step grows with the "
             "batch size (the course report's bug)."))
    train_size: int = setting(
        0, N_("Training images"), short="train", parse=WholeNumber(0, MAX_TRAIN_SIZE), more=True,
        help=N_("Train on the first N training images only, for quick experiments (0 = all of them: 60,000 less "
             "the validation images)."))
    val_size: int = setting(
        10_000, N_("Validation images"), short="val", parse=WholeNumber(0, MAX_VAL_SIZE), more=True,
        help=N_("Training images held out to choose settings and epochs by (the same ones in every run, stratified "
             "by class); the test set is kept for one final check. 0 = none (the course report's protocol)."))
    init: str = setting(
        "auto", N_("Initialisation"), short="init", parse=Choice(INITS), widget=Widget.CHOICE, more=True,
        help=N_("The initial weights: he (for relu), glorot (for sigmoid and tanh), or small (0.01 * randn, which "
             "makes deep networks start slowly). auto picks he or glorot by the activation."))
    patience: int = setting(
        5, N_("Patience"), short="patience", parse=WholeNumber(1, MAX_EPOCHS), more=True,
        help=N_("Early stopping: epochs without improvement before the run stops."))
    min_delta: float = setting(
        0.0, N_("Min delta"), short="min_delta", parse=RealNumber(0.0, MAX_MIN_DELTA, low_inclusive=True), more=True,
        help=N_("Early stopping: the least change of the monitored metric that counts as an improvement."))
    restore_best: bool = setting(
        True, N_("Restore best weights"), short="restore", parse=YesNo(), widget=Widget.CHECKBOX, more=True,
        help=N_("Early stopping: end the run with the weights of its best epoch rather than its last."))
    step_factor: float = setting(
        0.5, N_("Step factor"), short="step_factor", parse=RealNumber(0.0, 1.0), more=True,
        help=N_("Step schedule: the learning rate is multiplied by this every 'step every' epochs."))
    step_every: int = setting(
        10, N_("Step every"), short="step_every", parse=WholeNumber(1, MAX_EPOCHS), more=True,
        help=N_("Step schedule: epochs between two steps."))
    gamma: float = setting(
        0.95, N_("Exponential gamma"), short="gamma", parse=RealNumber(0.0, 1.0), more=True,
        help=N_("Exponential schedule: the learning rate is multiplied by this every epoch."))
    cosine_min: float = setting(
        0.0, N_("Cosine floor"), short="cos_min", parse=RealNumber(0.0, 1.0, low_inclusive=True), more=True,
        help=N_("Cosine schedule: the final learning rate as a fraction of the initial one."))
    warmup_epochs: int = setting(
        0, N_("Warm-up"), short="warmup", parse=WholeNumber(0, MAX_EPOCHS), more=True,
        help=N_("Epochs of linear warm-up (the learning rate grows to its full value) before the schedule starts."))
    momentum: float = setting(
        0.9, N_("Momentum"), short="momentum", parse=UNIT, more=True,
        help=N_("The momentum optimizer's constant: the fraction of the last step kept in the next."))
    rho: float = setting(
        0.9, N_("RMSprop rho"), short="rho", parse=UNIT, more=True,
        help=N_("rmsprop's constant: how slowly its running average of squared gradients forgets."))
    beta1: float = setting(
        0.9, N_("Adam beta1"), short="beta1", parse=UNIT, more=True,
        help=N_("adam's constant for its running average of gradients."))
    beta2: float = setting(
        0.999, N_("Adam beta2"), short="beta2", parse=UNIT, more=True,
        help=N_("adam's constant for its running average of squared gradients."))
    data_dir: str = setting(
        "", N_("Data folder"), short="data", parse=FolderPath(), widget=Widget.NONE,
        help=N_("Folder with the MNIST IDX files (empty: $MNIST_DIR, else the per-user cache, downloading if "
             "needed)."))

    def __post_init__(self) -> None:
        """Parse every field (user text becomes typed values), then the cross-setting checks; all problems
        are reported at once, joined on one line, each naming its setting by field name."""
        self._parse(field_name)

    def _parse(self, name_of: Callable[[str], str]) -> None:
        problems: list[str] = []
        for entry in schema():
            try:
                parsed = entry.setting.parse(name_of(entry.name), getattr(self, entry.name))
                object.__setattr__(self, entry.name, parsed)
            except ConfigError as exc:
                problems.append(str(exc))
        if not problems:
            problems = [problem for check in CROSS_CHECKS if (problem := check(self, name_of))]
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
            raise ConfigError(_("a run configuration must be a mapping of settings, got {kind}").format(
                kind=type(d).__name__))
        known = [entry.name for entry in schema()]
        unknown = sorted(set(d) - set(known), key=str)
        if unknown:
            raise ConfigError(unknown_setting(unknown[0], known))
        return cls(**d)

    @classmethod
    def from_user(cls, d: dict[str, Any], name_of: Callable[[str], str]) -> RunConfig:
        """Like ``from_dict``, but every refusal names a setting as the user's interface shows it
        (``name_of(field)``: the sidebar's label, the command line's flag), not by its field name: a student
        who typed in the box "Batch size" should not read about ``batch_size``."""
        try:
            return cls.from_dict(d)
        except ConfigError:
            pass
        draft = object.__new__(cls)  # the same values, parsed again to word the problems with the user's names
        for entry in schema():
            object.__setattr__(draft, entry.name, d.get(entry.name, entry.default))
        draft._parse(name_of)
        raise AssertionError("from_dict refused values that parse")  # pragma: no cover

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(_("the run configuration is not valid JSON ({reason})").format(reason=exc.msg)) from None

    @classmethod
    def from_stored(cls, text: str) -> RunConfig:
        """A config as the run store keeps it (JSON): a setting missing from a run stored before that setting
        existed takes the value the run actually had (``STORED_BEFORE``), else its default."""
        try:
            stored = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(_("the run configuration is not valid JSON ({reason})").format(reason=exc.msg)) from None
        if isinstance(stored, dict):
            stored = {**{k: v for k, v in STORED_BEFORE.items() if k not in stored}, **stored}
        return cls.from_dict(stored)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some settings changed (validated like any new config)."""
        return RunConfig.from_dict({**self.to_dict(), **changes})

    @property
    def monitor(self) -> str:
        """The validation metric that picks the run's best epoch: early stopping's, else val_loss."""
        return self.early_stopping if self.early_stopping != "off" else "val_loss"




def _training_images(config: RunConfig) -> int:
    """How many MNIST training images the run trains on: ``train_size`` of those left after validation."""
    left = MAX_TRAIN_SIZE - config.val_size
    return min(config.train_size, left) if config.train_size else left


def _sizes_fit(config: RunConfig, name_of: Callable[[str], str]) -> str:
    left = MAX_TRAIN_SIZE - config.val_size
    if config.train_size > left:
        return _("{train} ({train_value}) and {val} ({val_value}) together exceed the {total} training "
                 "images").format(train=name_of("train_size"), train_value=config.train_size,
                                  val=name_of("val_size"), val_value=config.val_size, total=MAX_TRAIN_SIZE)
    if config.batch_size > _training_images(config):
        return _("{batch} ({batch_value}) is larger than the training set ({images})").format(
            batch=name_of("batch_size"), batch_value=config.batch_size, images=_training_images(config))
    return ""


def _early_stopping_has_validation(config: RunConfig, name_of: Callable[[str], str]) -> str:
    if config.early_stopping != "off" and config.val_size == 0:
        return _("{early_stopping} monitors {metric} but {val} is 0: hold out validation images or turn early "
                 "stopping off").format(early_stopping=name_of("early_stopping"), metric=config.early_stopping,
                                        val=name_of("val_size"))
    return ""


def _warmup_fits(config: RunConfig, name_of: Callable[[str], str]) -> str:
    if config.warmup_epochs and config.warmup_epochs >= config.epochs:
        return _("{warmup} ({warmup_value}) must be fewer than {epochs} ({epochs_value})").format(
            warmup=name_of("warmup_epochs"), warmup_value=config.warmup_epochs, epochs=name_of("epochs"),
            epochs_value=config.epochs)
    return ""


# Checks that involve several settings, run once every field has parsed; each returns a problem or "".
CROSS_CHECKS: tuple[Callable[[RunConfig, Callable[[str], str]], str], ...] = (
    _sizes_fit, _early_stopping_has_validation, _warmup_fits)


def field_name(name: str) -> str:
    """A setting named by its field name, as config files, sweep specs and links write it."""
    return name


def setting_label(name: str) -> str:
    """A setting named as the sidebar's box reads, e.g. "Batch size" (for ``RunConfig.from_user``)."""
    return setting_of(name).label


def setting_flag(name: str) -> str:
    """A setting named as the command line's flag, e.g. "--batch-size" (for ``RunConfig.from_user``)."""
    return setting_of(name).cli_flag(name)


def schema() -> tuple[SettingField, ...]:
    """RunConfig's settings (name, default, Setting), in declaration order."""
    return _SCHEMA


def setting_of(name: str) -> Setting:
    """The Setting of RunConfig field ``name`` (e.g. its choices for a page's own widget)."""
    entries = {entry.name: entry for entry in schema()}
    if name not in entries:
        raise ConfigError(unknown_setting(name, list(entries)))
    return entries[name].setting


def unknown_setting(name: Any, known: list[str]) -> str:
    """One line refusing setting ``name``: the nearest known name if one is close, else where they are listed."""
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = (_("did you mean {name}?").format(name=close[0]) if close
            else _("'python -m experiments run --help' lists the settings"))
    return _("unknown setting {name}; {hint}").format(name=quote(name), hint=hint)


def parse_setting(name: str, value: Any) -> Any:
    """One setting's typed value from user input (e.g. a sweep grid entry), or ConfigError."""
    return setting_of(name).parse(name, value)


def parse_hidden(value: Any) -> tuple[int, ...]:
    """Hidden-layer widths from text such as ``"128, 64"`` or a sequence of ints; "" or "none" is no layer."""
    result: tuple[int, ...] = parse_setting("hidden", value)
    return result


_SCHEMA = schema_of(RunConfig)
