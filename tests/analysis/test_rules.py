"""Each diagnosis rule fires on a recorded run that shows its trouble, and stays quiet on one that does not.

The recorded runs are epoch logs and per-layer stats shaped like those the trainer writes (the numbers taken
from real MNIST runs of 784-128-10; tests/analysis/test_rules_mnist.py trains the real ones).
"""
from __future__ import annotations

import math

import pytest

from experiments.analysis.diagnosis import RULES, Evidence, diagnose
from experiments.analysis.diagnosis import DiagnosisKind as K
from experiments.analysis.diagnosis_text import describe
from experiments.config import RunConfig
from nn.dynamics import LayerStats

LN10 = math.log(10)


def epoch(e, loss=0.3, acc=0.93, test_acc=0.92, test_loss=0.3, majority=0.12, dead=0.0, penalty=0.0, **more):
    return {"epoch": e, "train_loss": loss, "train_acc": acc, "test_acc": test_acc, "test_loss": test_loss,
            "majority_fraction": majority, "dead_fraction": dead, "l2_penalty": penalty, **more}


def layers(epochs=3, ratio=(3e-3, 1.5e-3), dead=0.0, saturated=None):
    return [LayerStats(e, i + 1, 5.0, 0.5, r, dead if i == 0 and saturated is None else None,
                       saturated if i == 0 else None) for e in range(1, epochs + 1) for i, r in enumerate(ratio)]


HEALTHY = [epoch(1, 0.4, 0.88, 0.90), epoch(2, 0.25, 0.93, 0.93), epoch(3, 0.2, 0.945, 0.94)]
CASES = {  # kind: (firing evidence, quiet evidence)
    K.DIVERGED: (Evidence([epoch(1, loss=math.nan)], "diverged", RunConfig(lr=5.0)),
                 Evidence(HEALTHY, "finished", RunConfig())),
    K.L2_DOMINATES: (Evidence([epoch(e, LN10 + 0.18, 0.1, 0.1, majority=0.86, penalty=118.0) for e in (1, 2, 3)],
                              "finished", RunConfig(activation="sigmoid", optimizer="sgd", lr=1e-5, l2=1.0),
                              layers(ratio=(1e-5, 1.1e-5), saturated=0.0)),
                     Evidence([epoch(e, penalty=0.05) for e in (1, 2)], "finished", RunConfig(l2=1e-4))),
    K.STUCK: (Evidence([epoch(e, LN10 + 0.002, 0.11, 0.11) for e in (1, 2)], "finished",
                       RunConfig(optimizer="sgd", lr=1e-6)),
              Evidence([epoch(1, LN10), epoch(2, 1.2, 0.6, 0.6)], "finished", RunConfig())),
    K.COLLAPSED: (Evidence([epoch(1, 2.33, 0.1, 0.098, majority=1.0, dead=1.0)], "finished",
                           RunConfig(optimizer="sgd", lr=0.1, reduction="sum")),
                  Evidence(HEALTHY, "finished", RunConfig())),
    K.LARGE_UPDATES: (Evidence(HEALTHY, "finished", RunConfig(optimizer="sgd", lr=1.0), layers(ratio=(5e-2, 3.6e-2))),
                      Evidence(HEALTHY, "finished", RunConfig(optimizer="sgd", lr=0.1), layers(ratio=(5e-3, 1e-2)))),
    K.SMALL_UPDATES: (Evidence([epoch(e, 2.1, 0.36, 0.42) for e in (1, 2, 3)], "finished",
                               RunConfig(optimizer="sgd", lr=1e-3), layers(ratio=(8.9e-5, 1.1e-4))),
                      Evidence(HEALTHY, "finished", RunConfig(), layers())),
    K.DEAD_RELUS: (Evidence(HEALTHY, "finished", RunConfig(lr=0.1), layers(dead=0.86)),
                   Evidence(HEALTHY, "finished", RunConfig(lr=0.01), layers(dead=0.18))),
    K.SATURATED: (Evidence(HEALTHY, "finished", RunConfig(activation="tanh"), layers(saturated=0.6)),
                  Evidence(HEALTHY, "finished", RunConfig(activation="tanh"), layers(saturated=0.03))),
    K.OVERFITTING: (Evidence([epoch(e, 0.5 / e, 1.0, 0.839, test_loss=0.5 + 0.1 * e) for e in (1, 2, 3)], "finished",
                             RunConfig(train_size=500)),
                    Evidence(HEALTHY, "finished", RunConfig())),
    K.UNDERFITTING: (Evidence([epoch(1, 1.2, 0.7, 0.71), epoch(2, 0.9, 0.78, 0.79)], "finished",
                              RunConfig(optimizer="sgd", lr=0.01, epochs=2)),
                     Evidence(HEALTHY, "finished", RunConfig())),
}


def test_every_rule_has_a_case():
    assert {rule.kind for rule in RULES} == set(CASES) == set(K)


@pytest.mark.parametrize("kind", list(K))
def test_rule_fires_with_evidence_and_a_fix(kind):
    ev = CASES[kind][0]
    findings = diagnose(ev.epochs, ev.status, config=ev.config, layers=ev.layers)
    assert kind in [f.kind for f in findings]
    finding = next(f for f in findings if f.kind == kind)
    fixed = finding.fixed_config()
    assert fixed is not None and fixed != ev.config  # a concrete, valid change of settings
    words = describe(finding)
    assert "Try:" in words.advice and "→" in words.advice


@pytest.mark.parametrize("kind", list(K))
def test_rule_stays_quiet_without_the_trouble(kind):
    ev = CASES[kind][1]
    rule = next(r for r in RULES if r.kind == kind)
    assert rule.check(ev) is None


def test_l2_dominating_is_not_advised_as_a_learning_rate_problem():
    ev = CASES[K.L2_DOMINATES][0]
    findings = diagnose(ev.epochs, ev.status, config=ev.config, layers=ev.layers)
    assert [f.kind for f in findings] == [K.L2_DOMINATES]  # not "collapsed: lower the learning rate"
    assert dict(findings[0].fix) == {"l2": 1e-4, "lr": 9e-4}  # steps 1.1e-5 of the weights: lr x 1e-3 / 1.1e-5
    words = describe(findings[0])
    assert "118" in words.message and "lowering the learning rate would not help" in words.advice
    assert dict(diagnose(ev.epochs, ev.status, config=ev.config)[0].fix) == {"l2": 1e-4}  # no step sizes known


def test_evidence_names_the_layer_and_its_ratio():
    ev = CASES[K.LARGE_UPDATES][0]
    finding = next(f for f in diagnose(ev.epochs, ev.status, config=ev.config, layers=ev.layers)
                   if f.kind == K.LARGE_UPDATES)
    assert "Layer 1's updates are 0.05 of its weights per step" in describe(finding).message
    assert dict(finding.fix) == {"lr": 0.02}  # 1.0 x 1e-3 / 0.05: the step brought to the rule of thumb


def test_overfitting_on_all_images_raises_l2():
    epochs = [epoch(e, 0.5 / e, 1.0, 0.9, test_loss=0.2 * e) for e in (1, 2, 3)]
    finding = next(f for f in diagnose(epochs, "finished", config=RunConfig()) if f.kind == K.OVERFITTING)
    assert dict(finding.fix) == {"l2": 1e-3} and "Raise **L2**" in describe(finding).advice


def test_overfitting_uses_validation_when_the_run_has_it():
    epochs = [epoch(e, 0.1, 0.999, 0.995, val_acc=0.9, val_loss=0.4 + 0.1 * e) for e in (1, 2, 3)]
    finding = next(f for f in diagnose(epochs, "finished", config=RunConfig()) if f.kind == K.OVERFITTING)
    assert finding.held_out == "validation" and finding.test_acc == 0.9
    assert "vs validation 90.00%" in describe(finding).message
    quiet = [epoch(e, 0.1, 0.999, 0.9, val_acc=0.995, val_loss=0.4 + 0.1 * e) for e in (1, 2, 3)]
    assert K.OVERFITTING not in [f.kind for f in diagnose(quiet, "finished", config=RunConfig())]


def test_no_overfitting_while_the_validation_loss_is_still_at_its_best():
    """Issue 23: a 2-point gap between the running train accuracy and validation accuracy, the validation
    loss lowest at the last epoch, was called overfitting. The network still generalises better each epoch."""
    still_best = [epoch(e, 0.3 / e, 0.93 + 0.02 * e, 0.92, val_acc=0.91 + 0.01 * e, val_loss=0.4 - 0.05 * e)
                  for e in (1, 2, 3, 4)]
    assert K.OVERFITTING not in [f.kind for f in diagnose(still_best, "finished", config=RunConfig())]
    wide_gap = [epoch(e, 0.3 / e, 0.999, 0.9, val_acc=0.9, val_loss=0.4 - 0.01 * e) for e in (1, 2, 3)]
    assert K.OVERFITTING not in [f.kind for f in diagnose(wide_gap, "finished", config=RunConfig())]


def test_overfitting_names_the_rise_of_the_validation_loss_and_which_train_accuracy():
    losses = [0.30, 0.22, 0.21, 0.24, 0.28]
    epochs = [epoch(e, 0.1, 0.99, 0.97, val_acc=0.96, val_loss=loss) for e, loss in enumerate(losses, 1)]
    finding = next(f for f in diagnose(epochs, "finished", config=RunConfig()) if f.kind == K.OVERFITTING)
    assert (finding.best_loss_epoch, finding.best_loss, finding.held_loss) == (3, 0.21, 0.28)
    message = describe(finding).message
    assert "validation loss rose from 0.210 at its best (epoch 3) to 0.280 at epoch 5" in message
    assert "average over the epoch" in message
    full = [{**e, "full_train_acc": 0.995} for e in epochs]
    finding = next(f for f in diagnose(full, "finished", config=RunConfig()) if f.kind == K.OVERFITTING)
    assert finding.train_acc == 0.995 and "average over the epoch" not in describe(finding).message


ODD_NUMBERS = {"zero": 0.0, "nan": math.nan, "inf": math.inf, "-inf": -math.inf}
ODD_CONFIGS = [RunConfig(), RunConfig(optimizer="sgd", lr=5.0), RunConfig(optimizer="sgd", lr=10.0, l2=1.0),
               RunConfig(activation="sigmoid", optimizer="sgd", reduction="sum", train_size=500)]


def odd_evidence(value: float, config: RunConfig, status: str) -> Evidence:
    """Two epochs and two layers where every measured number is ``value`` (zero, NaN or infinite)."""
    keys = ("train_loss", "train_acc", "test_loss", "test_acc", "val_loss", "val_acc", "majority_fraction",
            "dead_fraction", "l2_penalty")
    epochs = [{"epoch": e, **dict.fromkeys(keys, value)} for e in (1, 2)]
    stats = [LayerStats(e, layer, value, value, value, value, value) for e in (1, 2) for layer in (1, 2)]
    return Evidence(epochs, status, config, stats)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind.value)
@pytest.mark.parametrize("value", ODD_NUMBERS.values(), ids=list(ODD_NUMBERS))
def test_every_rule_survives_zero_nan_and_infinite_evidence(rule, value):
    """A run that blew up (NaN, inf) or learned nothing (zeros) is diagnosed, never crashes the page: each
    finding's numbers are finite, its fix a valid config, its words printable (lr 5 with every ReLU dead made
    every update ratio 0 and raised ZeroDivisionError)."""
    for config in ODD_CONFIGS:
        for status in ("finished", "diverged"):
            finding = rule.check(odd_evidence(value, config, status))
            if finding is None:
                continue
            assert finding.kind is rule.kind
            numbers = [finding.loss, finding.majority, finding.dead, finding.train_acc, finding.test_acc,
                       finding.ratio, finding.penalty, finding.saturated]
            assert all(n is None or math.isfinite(n) for n in numbers), finding
            fixed = finding.fixed_config()
            assert fixed is None or fixed != config
            assert describe(finding).text


def test_dead_relus_at_a_huge_learning_rate_are_diagnosed_without_a_division_by_zero():
    """sgd at lr 5: every ReLU dead, so no weight moves (update ratio 0): dead ReLUs, lower the lr; not
    "too-small updates", whose larger lr would move nothing."""
    dead = [LayerStats(e, layer, 5.0, 0.0, 0.0, 1.0 if layer == 1 else None) for e in (1, 2) for layer in (1, 2)]
    epochs = [epoch(e, 2.30, 0.1, 0.1, majority=1.0, dead=1.0) for e in (1, 2)]
    findings = diagnose(epochs, "finished", config=RunConfig(optimizer="sgd", lr=5.0), layers=dead)
    kinds = [f.kind for f in findings]
    assert K.SMALL_UPDATES not in kinds and (K.COLLAPSED in kinds or K.DEAD_RELUS in kinds)
    assert all(dict(f.fix).get("lr", 0.0) < 5.0 for f in findings)
