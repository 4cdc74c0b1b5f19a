"""The words for a diagnosis: what a ``Finding`` means, its evidence, and which setting to change.

``experiments.analysis.diagnosis`` finds the trouble, the numbers behind it and the fix (a change of settings);
this module names the settings as the sidebar labels them (in Markdown bold; the command line strips the
asterisks) and says it in words, in the current language (``experiments.i18n``). Plain text, no Streamlit,
for the Train page and ``python -m experiments fix`` alike.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from experiments.analysis.diagnosis import DEAD_FRACTION, LN10, UPDATE_RATIO, DiagnosisKind, Finding, Severity
from experiments.analysis.rounding import acc_percent, percent_text
from experiments.config import setting_of
from experiments.i18n import _, decimal, localized

# The settings a fix may change, named as the sidebar labels them (any other by its field name).
LABELLED = ("train_size", "lr", "activation", "optimizer", "batch_size", "l2", "epochs", "reduction")


def label(name: str) -> str:
    """A setting as the sidebar labels it, in bold: "**Learning rate**" (in the current language)."""
    return f"**{setting_of(name).label}**"


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
        advice = _("{advice} Try: {change}.").format(advice=advice, change=change)
    return Described(finding.severity, message, advice)


def fix_text(finding: Finding) -> str:
    """The proposed change as "**Learning rate** 0.1 → 0.01" (several joined by commas); "" without one."""
    parts = []
    for name, value in finding.fix:
        old = getattr(finding.config, name, None) if finding.config is not None else None
        parts.append(f"{label(name) if name in LABELLED else name} {_value(old)} → {_value(value)}")
    return ", ".join(parts)


def _value(value: Any) -> str:
    """A setting's value as it is typed (the same in every language: it goes into the sidebar's boxes)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _lr(f: Finding) -> str:
    return f" ({f.config.lr:g})" if f.config else ""


def _lower_lr(f: Finding) -> str:
    """"Lower the **Learning rate** (0.1)" in the current language."""
    return _("Lower the {lr}{value}").format(lr=label("lr"), value=_lr(f))


def _raise_lr(f: Finding) -> str:
    return _("Raise the {lr}{value}").format(lr=label("lr"), value=_lr(f))


def _layer_ratio(f: Finding) -> str:
    """E.g. "layer 1's updates are 0.03 of its weights per step (rule of thumb: about 0.001)"."""
    if f.layer is None or f.ratio is None:
        return ""
    return _("Layer {layer}'s updates are {ratio} of its weights per step (rule of thumb: about {usual}).").format(
        layer=f.layer, ratio=_significant(f.ratio, 2), usual=_significant(UPDATE_RATIO, 6))


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits (Python's ``g``) with the language's decimal mark."""
    return localized(f"{value:.{digits}g}")


def _diverged(f: Finding) -> tuple[str, str]:
    evidence = _layer_ratio(f)
    return (_("Diverged: the loss became NaN or exploded, so the weights are now useless.") +
            (f" {evidence}" if evidence else ""), _("{lower}, e.g. by a factor of 10.").format(lower=_lower_lr(f)))


def _l2_dominates(f: Finding) -> tuple[str, str]:
    penalty, loss = f.penalty or 0.0, f.loss or 0.0
    times = _(" ({times}x)").format(times=decimal(penalty / loss, 0)) if loss > 0 else ""
    l2 = f" ({f.config.l2:g})" if f.config else ""
    tiny = (" " + _("The steps are tiny as well (the weights change by {ratio} of themselves per step), so raise "
                    "the {lr} too.").format(ratio=_significant(f.ratio, 1), lr=label("lr"))
            if f.ratio is not None and any(k == "lr" for k, _v in f.fix) else "")
    return (_("L2 dominates the loss: the L2 penalty is {penalty}, larger than the cross-entropy {loss}{times}, so "
              "each step mostly shrinks the weights towards zero instead of fitting the images.").format(
                penalty=_significant(penalty, 3), loss=_significant(loss, 3), times=times),
            _("Lower {l2}{value}: lowering the learning rate would not help.").format(l2=label("l2"), value=l2) + tiny)


def _stuck(f: Finding) -> tuple[str, str]:
    advice = _raise_lr(f)
    if f.config and f.config.activation == "sigmoid":
        advice += _(", or switch the {activation} to relu").format(activation=label("activation"))
    if f.config and f.config.optimizer == "sgd":
        advice += _(", or use the adam {optimizer}").format(optimizer=label("optimizer"))
    loss = f" ({decimal(f.loss, 3)})" if f.loss is not None else ""
    return (_("Stuck: the cross-entropy{loss} stays at ln 10 ≈ {ln10}, the loss of guessing at random; the network "
              "is not learning.").format(loss=loss, ln10=decimal(LN10, 2)), advice + ".")


def _collapsed(f: Finding) -> tuple[str, str]:
    c, effective = f.config, f.effective_lr
    if c is not None and effective is not None:
        advice = _("The gradient is summed over the batch, not averaged, so the effective learning rate is lr x batch "
                   "size = {lr} x {batch} = {effective}: steps that large overshoot, can kill every hidden ReLU, and "
                   "leave the output bias alone to pick the digit. Set the gradient reduction to mean, or divide the "
                   "{lr_label}{value} by the {batch_label}.").format(
            lr=f"{c.lr:g}", batch=c.batch_size, effective=f"{effective:g}", lr_label=label("lr"), value=_lr(f),
            batch_label=label("batch_size"))
    else:
        advice = _("{lower}, or try the adam {optimizer}.").format(lower=_lower_lr(f), optimizer=label("optimizer"))
    dead = (" " + _("{share} of the hidden ReLUs never fire.").format(share=percent_text(f.dead, 0))
            if f.dead is not None and f.dead >= DEAD_FRACTION else "")
    majority = f.majority or 0.0
    return (_("Collapsed predictions: {share} of the test images are given the same digit, whatever the "
              "image.").format(share=percent_text(majority, 0)) + dead, advice)


def _large_updates(f: Finding) -> tuple[str, str]:
    return (_("Too-large updates: {evidence} Steps that big overshoot and make the loss jump.").format(
        evidence=_layer_ratio(f)), _lower_lr(f) + ".")


def _small_updates(f: Finding) -> tuple[str, str]:
    return (_("Too-small updates: {evidence} At this pace the weights barely move.").format(evidence=_layer_ratio(f)),
            _raise_lr(f) + ".")


def _dead_relus(f: Finding) -> tuple[str, str]:
    share = percent_text(f.dead or 0.0, 0)
    if f.layer:
        message = _("Many dead ReLUs: {share} of layer {layer}'s units never fire on a sample of training images and "
                    "no longer learn.").format(share=share, layer=f.layer)
    else:
        message = _("Many dead ReLUs: {share} of the hidden units never fire on any test image and no longer "
                    "learn.").format(share=share)
    return message, _("{lower}, or use tanh as the {activation}.").format(lower=_lower_lr(f),
                                                                           activation=label("activation"))


def _saturated(f: Finding) -> tuple[str, str]:
    activation = f.config.activation if f.config else "sigmoid/tanh"
    return (_("Saturated units: {share} of layer {layer}'s {activation} activations sit at their limits, where the "
              "gradient is nearly zero.").format(share=percent_text(f.saturated or 0.0, 0), layer=f.layer,
                                                 activation=activation),
            _("Use relu as the {activation}, or lower the {lr}{value}.").format(
                activation=label("activation"), lr=label("lr"), value=_lr(f)))


def _held_out(f: Finding) -> str:
    """The held-out set the finding compares with, named in the current language."""
    return {"validation": _("validation"), "test": _("test")}.get(f.held_out, f.held_out)


def _overfitting(f: Finding) -> tuple[str, str]:
    train = acc_percent(f.train_acc)
    test = acc_percent(f.test_acc)
    which = _("train accuracy") if f.train_acc_full else _("train accuracy (average over the epoch)")
    held = _held_out(f)
    if f.best_loss is not None and f.held_loss is not None:
        rose = _("the {held} loss rose from {best} at its best (epoch {best_epoch}) to {last} at epoch "
                 "{last_epoch}").format(held=held, best=decimal(f.best_loss, 3), best_epoch=f.best_loss_epoch,
                                        last=decimal(f.held_loss, 3), last_epoch=f.last_epoch)
    else:
        rose = _("the {held} loss rose from its best").format(held=held)
    more = any(name == "train_size" for name, _v in f.fix)
    return (_("Overfitting: {rose}, with {which} {train} vs {held} {test}; the network memorises the training "
              "images.").format(rose=rose, which=which, train=train, held=held, test=test),
            _("Give it more training images.") if more else
            _("Raise {l2} or the dropout, or turn on early stopping (or train fewer {epochs}).").format(
                l2=label("l2"), epochs=label("epochs")))


def _underfitting(f: Finding) -> tuple[str, str]:
    train = acc_percent(f.train_acc)
    longer = any(name == "epochs" for name, _v in f.fix)
    if longer:
        message = _("Underfitting: the network reaches only {train} on its own training images, and its loss was "
                    "still falling.").format(train=train)
        return message, _("Train longer (more {epochs}).").format(epochs=label("epochs"))
    message = _("Underfitting: the network reaches only {train} on its own training images, and its loss has "
                "levelled off.").format(train=train)
    return message, _("Take larger steps: raise the {lr}{value}.").format(lr=label("lr"), value=_lr(f))


_WORDS: dict[DiagnosisKind, Callable[[Finding], tuple[str, str]]] = {
    DiagnosisKind.DIVERGED: _diverged, DiagnosisKind.L2_DOMINATES: _l2_dominates, DiagnosisKind.STUCK: _stuck,
    DiagnosisKind.COLLAPSED: _collapsed, DiagnosisKind.LARGE_UPDATES: _large_updates,
    DiagnosisKind.SMALL_UPDATES: _small_updates, DiagnosisKind.DEAD_RELUS: _dead_relus,
    DiagnosisKind.SATURATED: _saturated, DiagnosisKind.OVERFITTING: _overfitting,
    DiagnosisKind.UNDERFITTING: _underfitting,
}
