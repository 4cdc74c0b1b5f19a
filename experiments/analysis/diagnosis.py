"""Diagnosing a run: what is wrong with its curves, as data, with the rules that find it and their evidence.

``diagnose`` turns a run's logged series (the epoch logs, and the per-layer dynamics when recorded) into
``Finding`` records: what kind of trouble, how bad, the numbers it rests on ("the loss is stuck at ln 10 with
lr 1e-05 and sgd") and a concrete change of settings (``Finding.fix``). Each kind of trouble is one small rule
over ``Evidence`` in the table ``RULES``, ordered worst first; a rule's ``explains`` lists the symptoms its
cause accounts for, so they are not reported beside it with a contradicting fix (L2 crushing the weights
makes the loss sit at chance and the predictions collapse: the fix is the L2, not the learning rate).

Evidence that is not a finite number (NaN, inf: a run that blew up) counts as missing, except where it is
the evidence itself (a non-finite loss is a divergence), and a rule never divides by a measured number that
may be zero. The thresholds are the rules of thumb the rules apply; ``dynamics_figures`` draws the update
ratio's band from them. The words a student reads live apart, in diagnosis_text.py. No Streamlit, no labels.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from experiments.config import MAX_EPOCHS, MAX_LR, RunConfig
from nn.dynamics import LayerStats
from nn.status import RunStatus

LN10 = math.log(10)
STUCK_TOLERANCE = 0.05      # |loss - ln 10| below this after 2+ epochs: nothing is being learned
COLLAPSE_FRACTION = 0.5     # one class gets at least this share of the test predictions (balanced: ~0.11)
OVERFIT_GAP = 0.02          # train accuracy above held-out accuracy by this much (underfitting: less)
OVERFIT_RISE = 0.02         # held-out loss this fraction above its best at the last epoch (500 MNIST images,
                            # 30 epochs: 0.512 at epoch 20, 0.526 at 30, +2.7%, train 100% vs test 84%)
DEAD_FRACTION = 0.25        # share of a layer's hidden ReLU units that never fire
SATURATED_FRACTION = 0.3    # share of a sigmoid/tanh layer's activations at their limits
UPDATE_RATIO = 1e-3         # rule of thumb: each step changes a layer's weights by about this fraction
RATIO_HIGH, RATIO_LOW = 2e-2, 2e-4  # a typical step ratio above / below this: the lr is too high / too low
L2_DOMINANT = 1.0           # the L2 penalty at least this many times the cross-entropy
UNDERFIT_ACC = 0.9          # training accuracy below this at the end, with no gap to the held-out data


class DiagnosisKind(StrEnum):
    """What is wrong with a run, worst first."""

    DIVERGED = "diverged"        # the loss became non-finite or exploded
    L2_DOMINATES = "l2_dominates"  # the L2 penalty outweighs the cross-entropy: training shrinks weights
    STUCK = "stuck"              # the loss stays at ln 10: chance level
    COLLAPSED = "collapsed"      # most test images get the same digit
    LARGE_UPDATES = "large_updates"  # each step changes the weights by far more than ~1e-3 of them
    SMALL_UPDATES = "small_updates"  # ... by far less
    DEAD_RELUS = "dead_relus"    # many hidden ReLUs never fire
    SATURATED = "saturated"      # many sigmoid/tanh activations sit at their limits
    OVERFITTING = "overfitting"  # train and held-out accuracy drift apart
    UNDERFITTING = "underfitting"  # the network does not fit even its training images


class Severity(StrEnum):
    ERROR = "error"        # the network is useless as it stands
    WARNING = "warning"    # it learns, but something should change


@dataclass(frozen=True)
class Finding:
    """One diagnosis, the numbers it rests on (None where they do not apply) and the settings that fix it.

    ``fix`` is the change of settings the rule proposes, as (setting, new value) pairs; ``fixed_config``
    applies it to ``config``.
    """

    kind: DiagnosisKind
    severity: Severity
    config: RunConfig | None = None      # the run's settings, for advice that names them
    loss: float | None = None            # the last training loss (cross-entropy)
    majority: float | None = None        # share of test images given the most common digit
    dead: float | None = None            # share of a layer's hidden ReLUs that never fire
    train_acc: float | None = None
    test_acc: float | None = None        # the held-out accuracy (validation when the run has it, else test)
    layer: int | None = None             # the layer the evidence is about (1 = first weight matrix)
    ratio: float | None = None           # that layer's typical update-to-weight ratio per step
    penalty: float | None = None         # the last L2 penalty
    saturated: float | None = None       # share of that layer's activations saturated
    held_out: str = "test"               # "validation" or "test": what test_acc was measured on
    train_acc_full: bool = False         # train_acc from a full pass (else the running mean over the epoch)
    best_loss: float | None = None       # the held-out loss at its best ...
    best_loss_epoch: int | None = None   # ... at this epoch
    held_loss: float | None = None       # the held-out loss at the last epoch ...
    last_epoch: int | None = None        # ... this one
    epochs: int | None = None            # epochs the evidence covers
    fix: tuple[tuple[str, Any], ...] = ()

    @property
    def effective_lr(self) -> float | None:
        """lr x batch size when the gradient is summed over the batch (None otherwise)."""
        c = self.config
        return c.lr * c.batch_size if c is not None and c.reduction == "sum" else None

    def fixed_config(self) -> RunConfig | None:
        """The run's settings with the proposed change (None without settings or a fix)."""
        if self.config is None or not self.fix:
            return None
        return self.config.replace(**dict(self.fix))


Kind = DiagnosisKind
SMALL_TRAIN_SET = 10_000  # fewer training images than this: an overfitting network is first given more


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number; None when it is missing, NaN or infinite."""
    try:
        number = float(value)
    except (TypeError, ValueError):  # missing (None) or not a number at all
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Evidence:
    """What the rules read: a run's epoch logs, its per-layer dynamics (maybe none), status and settings."""

    epochs: list[Mapping[str, Any]]
    status: str = ""
    config: RunConfig | None = None
    layers: list[LayerStats] = field(default_factory=list)

    def series(self, key: str) -> list[float]:
        """The finite values of ``key`` over the epochs, in order."""
        return [value for e in self.epochs if (value := finite(e.get(key))) is not None]

    def last(self, key: str) -> float | None:
        """``key`` at the last epoch; None when it is missing there or not a finite number."""
        return finite(self.epochs[-1].get(key)) if self.epochs else None

    @property
    def held_out(self) -> str:
        """"val" when the run has a validation split, else "test": what overfitting is measured against."""
        return "val" if any(e.get("val_acc") is not None for e in self.epochs) else "test"

    def last_layers(self) -> list[LayerStats]:
        """The per-layer stats of the last recorded epoch."""
        last = max((s.epoch for s in self.layers), default=None)
        return [s for s in self.layers if s.epoch == last]

    def typical_ratios(self) -> dict[int, float]:
        """Each layer's median update-to-weight ratio per step over the recorded epochs."""
        by_layer: dict[int, list[float]] = {}
        for s in self.layers:
            if (ratio := finite(s.update_ratio)) is not None:
                by_layer.setdefault(s.layer, []).append(ratio)
        return {layer: statistics.median(values) for layer, values in by_layer.items()}


def _finding(kind: Kind, severity: Severity, ev: Evidence, fix: Mapping[str, Any] | None = None,
             **numbers: Any) -> Finding:
    changes = tuple(fix.items()) if fix and ev.config is not None else ()
    return Finding(kind, severity, ev.config, epochs=len(ev.epochs), fix=changes, **numbers)


def _lr_times(ev: Evidence, factor: float, digits: int = 3) -> dict[str, Any]:
    """A learning-rate change by ``factor``; a summed gradient is switched to the mean instead of lowering.
    No change when the lr would stay where it is (already at the cap)."""
    c = ev.config
    if c is None:
        return {}
    if factor < 1 and c.reduction == "sum":
        return {"reduction": "mean"}
    lr = float(f"{min(c.lr * factor, MAX_LR):.{digits}g}")
    return {"lr": lr} if lr != c.lr else {}


def _lr_to_target(ev: Evidence, ratio: float) -> dict[str, Any]:
    """The lr that brings a step's update ratio to the rule of thumb: the ratio grows in proportion to the lr
    (for SGD exactly, for Adam nearly), so scale by 1e-3 / ratio, at most 100x either way, one digit. No
    change for a ratio that is not a positive finite number: weights that do not move at all say nothing
    of how far the lr is from the right one (no gradient reaches them: dead or saturated units)."""
    if not (ratio > 0 and math.isfinite(ratio)):
        return {}
    return _lr_times(ev, min(max(UPDATE_RATIO / ratio, 0.01), 100.0), digits=1)


def diverged(ev: Evidence) -> Finding | None:
    blown = any(e.get("train_loss") is not None and not math.isfinite(e["train_loss"]) for e in ev.epochs)
    if ev.status != RunStatus.DIVERGED and not blown:
        return None
    ratios = ev.typical_ratios()
    layer = max(ratios, key=lambda k: ratios[k]) if ratios else None
    return _finding(Kind.DIVERGED, Severity.ERROR, ev, _lr_times(ev, 0.1), layer=layer,
                    ratio=ratios.get(layer) if layer else None)


def l2_dominates(ev: Evidence) -> Finding | None:
    penalty, loss = ev.last("l2_penalty"), ev.last("train_loss")
    if (penalty is None or loss is None or ev.config is None or not ev.config.l2 or penalty <= 0
            or penalty < L2_DOMINANT * loss):
        return None
    l2 = ev.config.l2
    fix: dict[str, Any] = {"l2": 1e-4 if l2 > 1e-3 else l2 / 10}
    ratios = ev.typical_ratios()
    if ratios and 0 < max(ratios.values()) < RATIO_LOW:  # and the steps are tiny too: both must change
        fix.update(_lr_to_target(ev, max(ratios.values())))
    return _finding(Kind.L2_DOMINATES, Severity.ERROR, ev, fix, penalty=penalty, loss=loss,
                    majority=ev.last("majority_fraction"), ratio=max(ratios.values()) if ratios else None)


def stuck(ev: Evidence) -> Finding | None:
    """The loss at ln 10 from the first epoch to the last: the steps are too small to learn. Not when the
    recorded dynamics show no weight moving at all (update ratios of 0): no gradient reaches them (every
    ReLU dead after too large a step), which a larger lr would not change."""
    losses = ev.series("train_loss")
    ratios = ev.typical_ratios()
    if len(ev.epochs) < 2 or len(losses) < 2 or (ratios and max(ratios.values()) == 0):
        return None
    if abs(losses[-1] - LN10) < STUCK_TOLERANCE and abs(losses[0] - LN10) < 3 * STUCK_TOLERANCE:
        fix = _lr_times(ev, 10)
        if ev.config is not None and ev.config.activation == "sigmoid" and ev.config.optimizer == "sgd":
            fix = {"optimizer": "adam", "lr": 1e-3}
        return _finding(Kind.STUCK, Severity.WARNING, ev, fix, loss=losses[-1])
    return None


def collapsed(ev: Evidence) -> Finding | None:
    majority = ev.last("majority_fraction")
    if majority is None or majority < COLLAPSE_FRACTION:
        return None
    return _finding(Kind.COLLAPSED, Severity.ERROR, ev, _lr_times(ev, 0.1), majority=majority,
                    dead=ev.last("dead_fraction"))


def large_updates(ev: Evidence) -> Finding | None:
    ratios = ev.typical_ratios()
    if not ratios or max(ratios.values()) <= RATIO_HIGH:
        return None
    layer = max(ratios, key=lambda k: ratios[k])
    return _finding(Kind.LARGE_UPDATES, Severity.WARNING, ev, _lr_to_target(ev, ratios[layer]), layer=layer,
                    ratio=ratios[layer])


def small_updates(ev: Evidence) -> Finding | None:
    """Every layer's steps far below the rule of thumb, but not zero: weights that do not move at all get no
    gradient (dead or saturated units, which their own rules report), and a larger lr would not move them."""
    ratios = ev.typical_ratios()
    if not ratios or not 0 < max(ratios.values()) < RATIO_LOW:
        return None
    layer = max(ratios, key=lambda k: ratios[k])
    return _finding(Kind.SMALL_UPDATES, Severity.WARNING, ev, _lr_to_target(ev, ratios[layer]), layer=layer,
                    ratio=ratios[layer])


def dead_relus(ev: Evidence) -> Finding | None:
    worst = max((s for s in ev.last_layers() if finite(s.dead_fraction) is not None),
                key=lambda s: s.dead_fraction or 0.0, default=None)
    dead, layer = (worst.dead_fraction, worst.layer) if worst else (ev.last("dead_fraction"), None)
    if dead is None or dead < DEAD_FRACTION:
        return None
    return _finding(Kind.DEAD_RELUS, Severity.WARNING, ev, _lr_times(ev, 0.1), dead=dead, layer=layer)


def saturated(ev: Evidence) -> Finding | None:
    worst = max((s for s in ev.last_layers() if finite(s.saturated_fraction) is not None),
                key=lambda s: s.saturated_fraction or 0.0, default=None)
    if worst is None or (worst.saturated_fraction or 0.0) < SATURATED_FRACTION:
        return None
    return _finding(Kind.SATURATED, Severity.WARNING, ev, {"activation": "relu"},
                    saturated=worst.saturated_fraction, layer=worst.layer)


def overfitting(ev: Evidence) -> Finding | None:
    """The held-out loss (validation when the run has it) has risen from its best by ``OVERFIT_RISE`` while
    the train accuracy stays ``OVERFIT_GAP`` above the held-out one. A gap alone is no overfitting: the train
    accuracy logged per epoch is a running mean over the epoch's batches (measured on weights still
    learning), and a network whose held-out loss is still at its best is still generalising better each
    epoch. The train accuracy compared is the full pass over the training set when the run measured it."""
    held = ev.held_out
    losses = [(int(e.get("epoch") or i + 1), loss) for i, e in enumerate(ev.epochs)
              if (loss := finite(e.get(f"{held}_loss"))) is not None]
    if len(losses) < 2:
        return None
    best_epoch, best_loss = min(losses, key=lambda pair: pair[1])
    last_epoch, last_loss = losses[-1]
    full = ev.last("full_train_acc")
    train, held_acc = (full if full is not None else ev.last("train_acc")), ev.last(f"{held}_acc")
    risen = last_loss > best_loss * (1 + OVERFIT_RISE)
    if not risen or train is None or held_acc is None or train - held_acc < OVERFIT_GAP:
        return None
    return _finding(Kind.OVERFITTING, Severity.WARNING, ev, _against_overfitting(ev.config),
                    train_acc=train, test_acc=held_acc, held_out="validation" if held == "val" else "test",
                    train_acc_full=full is not None, best_loss=best_loss, best_loss_epoch=best_epoch,
                    held_loss=last_loss, last_epoch=last_epoch)


def _against_overfitting(config: RunConfig | None) -> dict[str, Any]:
    """More images when the run used only a few (on 500 MNIST images no L2 helps: measured, L2 1e-3 to 0.1
    left the test accuracy at 84% or lowered it), else a stronger L2."""
    if config is None:
        return {}
    if config.train_size and config.train_size < SMALL_TRAIN_SET:
        return {"train_size": min(config.train_size * 10, SMALL_TRAIN_SET)}
    return {"l2": 1e-3 if config.l2 < 1e-3 else min(config.l2 * 10, 1.0)}


def underfitting(ev: Evidence) -> Finding | None:
    """The training accuracy stays low with no gap to the held-out data: more training, or a larger step."""
    train, held = ev.last("train_acc"), ev.last(f"{ev.held_out}_acc")
    if train is None or held is None or train >= UNDERFIT_ACC or train - held >= OVERFIT_GAP:
        return None
    losses = ev.series("train_loss")
    improving = len(losses) >= 2 and losses[-1] < 0.95 * losses[-2]
    config = ev.config
    fix = ({"epochs": min(config.epochs * 2, MAX_EPOCHS)} if improving and config is not None
           else _lr_times(ev, 3))
    return _finding(Kind.UNDERFITTING, Severity.WARNING, ev, fix, train_acc=train, test_acc=held,
                    loss=losses[-1] if losses else None)


@dataclass(frozen=True)
class Rule:
    """One diagnosis: its check and the kinds of finding its cause explains (dropped when it fires)."""

    kind: Kind
    check: Callable[[Evidence], Finding | None]
    explains: frozenset[Kind] = frozenset()


SYMPTOMS = frozenset({Kind.STUCK, Kind.COLLAPSED, Kind.SMALL_UPDATES, Kind.UNDERFITTING})
UNDERFIT = frozenset({Kind.UNDERFITTING})  # a low training accuracy is what most causes look like
RULES: tuple[Rule, ...] = (
    Rule(Kind.DIVERGED, diverged, frozenset(Kind) - {Kind.DIVERGED}),
    Rule(Kind.L2_DOMINATES, l2_dominates, SYMPTOMS | {Kind.SATURATED}),
    Rule(Kind.STUCK, stuck, frozenset({Kind.SMALL_UPDATES}) | UNDERFIT),
    Rule(Kind.COLLAPSED, collapsed, frozenset({Kind.DEAD_RELUS}) | UNDERFIT),
    Rule(Kind.LARGE_UPDATES, large_updates, UNDERFIT),
    Rule(Kind.SMALL_UPDATES, small_updates, frozenset({Kind.COLLAPSED}) | UNDERFIT),  # nothing learned yet
    Rule(Kind.DEAD_RELUS, dead_relus, UNDERFIT),
    Rule(Kind.SATURATED, saturated, UNDERFIT),
    Rule(Kind.OVERFITTING, overfitting),
    Rule(Kind.UNDERFITTING, underfitting),
)


def apply_rules(ev: Evidence, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every rule's finding, in table order, without the symptoms an earlier-or-later cause explains."""
    if not ev.epochs and ev.status != RunStatus.DIVERGED:
        return []
    fired = [(rule, finding) for rule in rules if (finding := rule.check(ev)) is not None]
    explained = frozenset().union(*(rule.explains for rule, _ in fired))
    return [finding for rule, finding in fired if rule.kind not in explained]


def diagnose(epochs: Sequence[Mapping[str, Any]], status: str = "", message: str = "",
             config: RunConfig | None = None, *, layers: Sequence[LayerStats] = ()) -> list[Finding]:
    """Findings about a run so far, worst first; empty when nothing looks wrong.

    Each check is a rule of ``RULES`` over the logged series: the epochs, and the per-layer dynamics
    (``layers``) when the run recorded them. A cause drops the symptoms it explains (L2 crushing the weights
    explains a loss stuck at chance); a divergence is said alone. ``message`` is the run's status message
    (unused today).
    """
    return apply_rules(Evidence(list(epochs), str(status), config, list(layers)))
