"""The Train page's words for a diagnosis: what a ``Finding`` means and which sidebar setting to change.

``experiments.analysis.diagnosis`` finds the trouble and the numbers behind it; this module names the
sidebar's settings (in Markdown bold, as the widgets are labelled) and gives the advice. Plain text, no
Streamlit, so it can be tested on its own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from experiments.analysis.diagnosis import DEAD_FRACTION, LN10, DiagnosisKind, Finding, Severity

# The sidebar's labels, as the advice names them.
LR, ACTIVATION, OPTIMIZER, BATCH, L2, EPOCHS = ("**Learning rate**", "**Activation**", "**Optimizer**",
                                                "**Batch size**", "**L2**", "**Epochs**")


@dataclass(frozen=True)
class Described:
    """A finding in words: how bad, what it means, what to change."""

    severity: Severity
    message: str
    advice: str

    @property
    def text(self) -> str:
        return f"{self.message} {self.advice}"


def describe(finding: Finding) -> Described:
    """The message and advice for ``finding``."""
    message, advice = _WORDS[finding.kind](finding)
    return Described(finding.severity, message, advice)


def _lr(f: Finding) -> str:
    return f" ({f.config.lr:g})" if f.config else ""


def _diverged(f: Finding) -> tuple[str, str]:
    return ("Diverged: the loss became NaN or exploded, so the weights are now useless.",
            f"Lower the {LR}{_lr(f)}, e.g. by a factor of 10.")


def _stuck(f: Finding) -> tuple[str, str]:
    advice = f"Raise the {LR}{_lr(f)}"
    if f.config and f.config.activation == "sigmoid":
        advice += f", or switch the {ACTIVATION} to relu"
    if f.config and f.config.optimizer == "sgd":
        advice += f", or use the adam {OPTIMIZER}"
    return (f"Stuck: the loss stays at ln 10 ≈ {LN10:.2f}, the loss of guessing at random; the network is not "
            f"learning.", advice + ".")


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


def _overfitting(f: Finding) -> tuple[str, str]:
    train = f"{f.train_acc:.1%}" if f.train_acc is not None else "-"
    held = f"{f.test_acc:.1%}" if f.test_acc is not None else "-"
    return (f"Overfitting: train accuracy {train} vs {f.held_out} {held}, and the gap is growing; the network "
            f"memorises the training images.", f"Raise {L2} (e.g. 1e-4) or the dropout, or turn on early "
            f"stopping (or train fewer {EPOCHS}).")


def _dead_relus(f: Finding) -> tuple[str, str]:
    dead = f.dead or 0.0
    return (f"Many dead ReLUs: {dead:.0%} of the hidden units never fire on any test image and no longer learn.",
            f"Lower the {LR}{_lr(f)}, or use tanh as the {ACTIVATION}.")


_WORDS: dict[DiagnosisKind, Callable[[Finding], tuple[str, str]]] = {
    DiagnosisKind.DIVERGED: _diverged, DiagnosisKind.STUCK: _stuck, DiagnosisKind.COLLAPSED: _collapsed,
    DiagnosisKind.OVERFITTING: _overfitting, DiagnosisKind.DEAD_RELUS: _dead_relus,
}
