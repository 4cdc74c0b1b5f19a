"""The diagnosis rules: one small function per kind of trouble over a run's logged series, in one table.

Each rule reads ``Evidence`` (the epoch logs, the per-layer dynamics when recorded, the settings), returns a
``Finding`` with the numbers it rests on and a concrete change of settings (``Finding.fix``), or None. The
table ``RULES`` is ordered worst first; a rule's ``explains`` lists the symptoms its cause accounts for, so
they are not reported beside it with a contradicting fix (L2 crushing the weights makes the loss sit at
chance and the predictions collapse: the fix is the L2, not the learning rate).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from experiments.analysis.diagnosis import (
    COLLAPSE_FRACTION,
    DEAD_FRACTION,
    L2_DOMINANT,
    LN10,
    OVERFIT_GAP,
    OVERFIT_WIDE_GAP,
    RATIO_HIGH,
    RATIO_LOW,
    SATURATED_FRACTION,
    STUCK_TOLERANCE,
    UNDERFIT_ACC,
    UPDATE_RATIO,
    DiagnosisKind,
    Finding,
    Severity,
)
from experiments.config import MAX_EPOCHS, MAX_LR, RunConfig
from nn.dynamics import LayerStats
from nn.status import RunStatus

Kind = DiagnosisKind
SMALL_TRAIN_SET = 10_000  # fewer training images than this: an overfitting network is first given more


@dataclass(frozen=True)
class Evidence:
    """What the rules read: a run's epoch logs, its per-layer dynamics (maybe none), status and settings."""

    epochs: list[Mapping[str, Any]]
    status: str = ""
    config: RunConfig | None = None
    layers: list[LayerStats] = field(default_factory=list)

    def series(self, key: str) -> list[float]:
        """The finite values of ``key`` over the epochs, in order."""
        return [float(e[key]) for e in self.epochs if e.get(key) is not None and math.isfinite(e[key])]

    def last(self, key: str) -> float | None:
        value = self.epochs[-1].get(key) if self.epochs else None
        return float(value) if value is not None else None

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
            if s.update_ratio is not None and math.isfinite(s.update_ratio):
                by_layer.setdefault(s.layer, []).append(s.update_ratio)
        return {layer: statistics.median(values) for layer, values in by_layer.items()}


def _finding(kind: Kind, severity: Severity, ev: Evidence, fix: Mapping[str, Any] | None = None,
             **numbers: Any) -> Finding:
    changes = tuple(fix.items()) if fix and ev.config is not None else ()
    return Finding(kind, severity, ev.config, epochs=len(ev.epochs), fix=changes, **numbers)


def _lr_times(ev: Evidence, factor: float, digits: int = 3) -> dict[str, Any]:
    """A learning-rate change by ``factor``; a summed gradient is switched to the mean instead of lowering."""
    c = ev.config
    if c is None:
        return {}
    if factor < 1 and c.reduction == "sum":
        return {"reduction": "mean"}
    return {"lr": float(f"{min(c.lr * factor, MAX_LR):.{digits}g}")}


def _lr_to_target(ev: Evidence, ratio: float) -> dict[str, Any]:
    """The lr that brings a step's update ratio to the rule of thumb: the ratio grows in proportion to the lr
    (for SGD exactly, for Adam nearly), so scale by 1e-3 / ratio, at most 100x either way, one digit."""
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
    if penalty is None or loss is None or ev.config is None or not ev.config.l2 or penalty < L2_DOMINANT * loss:
        return None
    l2 = ev.config.l2
    fix: dict[str, Any] = {"l2": 1e-4 if l2 > 1e-3 else l2 / 10}
    ratios = ev.typical_ratios()
    if ratios and max(ratios.values()) < RATIO_LOW:  # and the steps are tiny too: both must change
        fix.update(_lr_to_target(ev, max(ratios.values())))
    return _finding(Kind.L2_DOMINATES, Severity.ERROR, ev, fix, penalty=penalty, loss=loss,
                    majority=ev.last("majority_fraction"), ratio=max(ratios.values()) if ratios else None)


def stuck(ev: Evidence) -> Finding | None:
    losses = ev.series("train_loss")
    if len(ev.epochs) < 2 or len(losses) < 2:
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
    ratios = ev.typical_ratios()
    if not ratios or max(ratios.values()) >= RATIO_LOW:
        return None
    layer = max(ratios, key=lambda k: ratios[k])
    return _finding(Kind.SMALL_UPDATES, Severity.WARNING, ev, _lr_to_target(ev, ratios[layer]), layer=layer,
                    ratio=ratios[layer])


def dead_relus(ev: Evidence) -> Finding | None:
    worst = max((s for s in ev.last_layers() if s.dead_fraction is not None),
                key=lambda s: s.dead_fraction or 0.0, default=None)
    dead, layer = (worst.dead_fraction, worst.layer) if worst else (ev.last("dead_fraction"), None)
    if dead is None or dead < DEAD_FRACTION:
        return None
    return _finding(Kind.DEAD_RELUS, Severity.WARNING, ev, _lr_times(ev, 0.1), dead=dead, layer=layer)


def saturated(ev: Evidence) -> Finding | None:
    worst = max((s for s in ev.last_layers() if s.saturated_fraction is not None),
                key=lambda s: s.saturated_fraction or 0.0, default=None)
    if worst is None or (worst.saturated_fraction or 0.0) < SATURATED_FRACTION:
        return None
    return _finding(Kind.SATURATED, Severity.WARNING, ev, {"activation": "relu"},
                    saturated=worst.saturated_fraction, layer=worst.layer)


def overfitting(ev: Evidence) -> Finding | None:
    """Train accuracy above the held-out one (validation when the run has it): by a wide margin, or by a
    growing one, or with the held-out loss rising from its best."""
    held = ev.held_out
    gaps = [e["train_acc"] - e[f"{held}_acc"] for e in ev.epochs
            if e.get("train_acc") is not None and e.get(f"{held}_acc") is not None]
    if not gaps:
        return None
    held_losses = ev.series(f"{held}_loss")
    rising = len(held_losses) >= 3 and held_losses[-1] > min(held_losses) * 1.05
    widening = gaps[-1] >= OVERFIT_GAP and (len(gaps) < 3 or gaps[-1] > gaps[-3])
    if not (gaps[-1] >= OVERFIT_WIDE_GAP or widening or (rising and gaps[-1] > 0)):
        return None
    return _finding(Kind.OVERFITTING, Severity.WARNING, ev, _against_overfitting(ev.config),
                    train_acc=ev.last("train_acc"), test_acc=ev.last(f"{held}_acc"),
                    held_out="validation" if held == "val" else "test")


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
