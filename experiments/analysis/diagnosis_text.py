"""The words for a diagnosis: what a ``Finding`` means, its evidence, and which setting to change.

``experiments.analysis.diagnosis`` finds the trouble, the numbers behind it and the fix (a change of settings);
this module names the settings as the sidebar labels them (in Markdown bold; the command line strips the
asterisks) and says it in words. Plain text, no Streamlit, for the Train page and ``python -m experiments
fix`` alike.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from experiments.analysis.diagnosis import DEAD_FRACTION, LN10, UPDATE_RATIO, DiagnosisKind, Finding, Severity
from experiments.analysis.rounding import acc_percent

# The sidebar's labels, as the advice names them.
LR, ACTIVATION, OPTIMIZER, BATCH, L2, EPOCHS = ("**Learning rate**", "**Activation**", "**Optimizer**",
                                                "**Batch size**", "**L2**", "**Epochs**")
LABELS = {"train_size": "**Training images**", "lr": LR, "activation": ACTIVATION, "optimizer": OPTIMIZER,
          "batch_size": BATCH, "l2": L2,
          "epochs": EPOCHS, "reduction": "**Gradient reduction**"}


@dataclass(frozen=True)
class Described:
    """A finding in words: how bad, what it means (with its evidence), what to change."""

    severity: Severity
    message: str
    advice: str

    @property
    def text(self) -> str:
        return f"{self.message} {self.advice}"


def describe(finding: Finding) -> Described:
    """The message and advice for ``finding``; the advice ends with the proposed change of settings."""
    message, advice = _WORDS[finding.kind](finding)
    change = fix_text(finding)
    if change:
        advice = f"{advice} Try: {change}."
    return Described(finding.severity, message, advice)


def fix_text(finding: Finding) -> str:
    """The proposed change as "**Learning rate** 0.1 → 0.01" (several joined by commas); "" without one."""
    parts = []
    for name, value in finding.fix:
        old = getattr(finding.config, name, None) if finding.config is not None else None
        parts.append(f"{LABELS.get(name, name)} {_value(old)} → {_value(value)}")
    return ", ".join(parts)


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _lr(f: Finding) -> str:
    return f" ({f.config.lr:g})" if f.config else ""


def _layer_ratio(f: Finding) -> str:
    """E.g. "layer 1's updates are 0.03 of its weights per step (rule of thumb: about 0.001)"."""
    if f.layer is None or f.ratio is None:
        return ""
    return (f"Layer {f.layer}'s updates are {f.ratio:.2g} of its weights per step (rule of thumb: about "
            f"{UPDATE_RATIO:g}).")


def _diverged(f: Finding) -> tuple[str, str]:
    evidence = _layer_ratio(f)
    return ("Diverged: the loss became NaN or exploded, so the weights are now useless." +
            (f" {evidence}" if evidence else ""), f"Lower the {LR}{_lr(f)}, e.g. by a factor of 10.")


def _l2_dominates(f: Finding) -> tuple[str, str]:
    penalty, loss = f.penalty or 0.0, f.loss or 0.0
    times = f" ({penalty / loss:.0f}x)" if loss > 0 else ""
    l2 = f" ({f.config.l2:g})" if f.config else ""
    tiny = (f" The steps are tiny as well (the weights change by {f.ratio:.1g} of themselves per step), so "
            f"raise the {LR} too." if f.ratio is not None and any(k == "lr" for k, _ in f.fix) else "")
    return (f"L2 dominates the loss: the L2 penalty is {penalty:.3g}, larger than the cross-entropy {loss:.3g}"
            f"{times}, so each step mostly shrinks the weights towards zero instead of fitting the images.",
            f"Lower {L2}{l2}: lowering the learning rate would not help.{tiny}")


def _stuck(f: Finding) -> tuple[str, str]:
    advice = f"Raise the {LR}{_lr(f)}"
    if f.config and f.config.activation == "sigmoid":
        advice += f", or switch the {ACTIVATION} to relu"
    if f.config and f.config.optimizer == "sgd":
        advice += f", or use the adam {OPTIMIZER}"
    loss = f" ({f.loss:.3f})" if f.loss is not None else ""
    return (f"Stuck: the cross-entropy{loss} stays at ln 10 ≈ {LN10:.2f}, the loss of guessing at random; the "
            f"network is not learning.", advice + ".")


def _collapsed(f: Finding) -> tuple[str, str]:
    c, effective = f.config, f.effective_lr
    if c is not None and effective is not None:
        advice = (f"The gradient is summed over the batch, not averaged, so the effective learning rate is "
                  f"lr x batch size = {c.lr:g} x {c.batch_size} = {effective:g}: steps that large "
                  f"overshoot, can kill every hidden ReLU, and leave the output bias alone to pick the digit. Set "
                  f"the gradient reduction to mean, or divide the {LR}{_lr(f)} by the {BATCH}.")
    else:
        advice = f"Lower the {LR}{_lr(f)}, or try the adam {OPTIMIZER}."
    dead = f" {f.dead:.0%} of the hidden ReLUs never fire." if f.dead is not None and f.dead >= DEAD_FRACTION else ""
    majority = f.majority or 0.0
    return (f"Collapsed predictions: {majority:.0%} of the test images are given the same digit, whatever the "
            f"image.{dead}", advice)


def _large_updates(f: Finding) -> tuple[str, str]:
    return (f"Too-large updates: {_layer_ratio(f)} Steps that big overshoot and make the loss jump.",
            f"Lower the {LR}{_lr(f)}.")


def _small_updates(f: Finding) -> tuple[str, str]:
    return (f"Too-small updates: {_layer_ratio(f)} At this pace the weights barely move.",
            f"Raise the {LR}{_lr(f)}.")


def _dead_relus(f: Finding) -> tuple[str, str]:
    dead = f.dead or 0.0
    where = f"of layer {f.layer}'s units never fire on a sample of training images" if f.layer else \
        "of the hidden units never fire on any test image"
    return (f"Many dead ReLUs: {dead:.0%} {where} and no longer learn.",
            f"Lower the {LR}{_lr(f)}, or use tanh as the {ACTIVATION}.")


def _saturated(f: Finding) -> tuple[str, str]:
    share = f.saturated or 0.0
    activation = f.config.activation if f.config else "sigmoid/tanh"
    return (f"Saturated units: {share:.0%} of layer {f.layer}'s {activation} activations sit at their limits, where "
            f"the gradient is nearly zero.", f"Use relu as the {ACTIVATION}, or lower the {LR}{_lr(f)}.")


def _overfitting(f: Finding) -> tuple[str, str]:
    train = acc_percent(f.train_acc)
    test = acc_percent(f.test_acc)
    which = "train accuracy" if f.train_acc_full else "train accuracy (average over the epoch)"
    rose = (f"the {f.held_out} loss rose from {f.best_loss:.3f} at its best (epoch {f.best_loss_epoch}) to "
            f"{f.held_loss:.3f} at epoch {f.last_epoch}" if f.best_loss is not None and f.held_loss is not None
            else f"the {f.held_out} loss rose from its best")
    more = any(name == "train_size" for name, _ in f.fix)
    return (f"Overfitting: {rose}, with {which} {train} vs {f.held_out} {test}; the network memorises the "
            f"training images.", "Give it more training images." if more else
            f"Raise {L2} or the dropout, or turn on early stopping (or train fewer {EPOCHS}).")


def _underfitting(f: Finding) -> tuple[str, str]:
    train = acc_percent(f.train_acc)
    longer = any(name == "epochs" for name, _ in f.fix)
    return (f"Underfitting: the network reaches only {train} on its own training images" +
            (", and its loss was still falling." if longer else ", and its loss has levelled off."),
            f"Train longer (more {EPOCHS})." if longer else f"Take larger steps: raise the {LR}{_lr(f)}.")


_WORDS: dict[DiagnosisKind, Callable[[Finding], tuple[str, str]]] = {
    DiagnosisKind.DIVERGED: _diverged, DiagnosisKind.L2_DOMINATES: _l2_dominates, DiagnosisKind.STUCK: _stuck,
    DiagnosisKind.COLLAPSED: _collapsed, DiagnosisKind.LARGE_UPDATES: _large_updates,
    DiagnosisKind.SMALL_UPDATES: _small_updates, DiagnosisKind.DEAD_RELUS: _dead_relus,
    DiagnosisKind.SATURATED: _saturated, DiagnosisKind.OVERFITTING: _overfitting,
    DiagnosisKind.UNDERFITTING: _underfitting,
}
