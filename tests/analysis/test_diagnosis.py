"""Plain-words diagnosis of a run's curves: the findings and their words."""
from __future__ import annotations

import math

from experiments.analysis.diagnosis import DiagnosisKind, Finding, Severity, diagnose
from experiments.analysis.diagnosis_text import describe
from experiments.config import RunConfig


def log(epoch, train_loss=0.3, test_loss=0.3, train_acc=0.9, test_acc=0.9, majority=0.11, dead=0.0):
    return {"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss, "train_acc": train_acc,
            "test_acc": test_acc, "majority_fraction": majority, "dead_fraction": dead}


def kinds(findings):
    return [f.kind for f in findings]


def test_healthy_run_has_no_findings():
    epochs = [log(i, 1 / i, 1 / i, 0.9 + i / 100, 0.9 + i / 100) for i in range(1, 5)]
    assert diagnose(epochs, "finished", config=RunConfig()) == []


def test_diverged_says_lower_the_learning_rate():
    findings = diagnose([log(1)], "diverged", "the loss became nan", RunConfig(lr=5.0))
    assert kinds(findings) == ["diverged"]
    assert "Learning rate" in describe(findings[0]).advice and "(5)" in describe(findings[0]).advice
    assert kinds(diagnose([log(1, train_loss=math.nan)], "running")) == ["diverged"]


def test_stuck_at_ln10():
    ln10 = math.log(10)
    epochs = [log(i, ln10 + 0.001, ln10, 0.11, 0.11) for i in range(1, 4)]
    findings = diagnose(epochs, "finished", config=RunConfig(optimizer="sgd", lr=1e-5, activation="sigmoid"))
    assert "stuck" in kinds(findings)
    stuck = findings[kinds(findings).index("stuck")]
    assert "Raise the **Learning rate**" in describe(stuck).advice and "relu" in describe(stuck).advice
    assert "stuck" not in kinds(diagnose(epochs[:1], "running"))  # one epoch is too early to tell


def test_collapsed_predictions_points_at_sum_reduction():
    findings = diagnose([log(1, majority=0.98)], "finished", config=RunConfig(reduction="sum"))
    assert kinds(findings) == ["collapsed"]
    assert findings[0].majority == 0.98
    assert "98%" in describe(findings[0]).message and "mean" in describe(findings[0]).advice


def test_overfitting_when_gap_grows():
    epochs = [log(1, 0.3, 0.3, 0.93, 0.93), log(2, 0.1, 0.25, 0.97, 0.95), log(3, 0.03, 0.3, 0.995, 0.96)]
    assert "overfitting" in kinds(diagnose(epochs, "finished"))
    assert "L2" in describe(diagnose(epochs, "finished")[0]).advice


def test_dead_relus():
    findings = diagnose([log(1, dead=0.6)], "finished", config=RunConfig())
    assert kinds(findings) == ["dead_relus"] and "60%" in describe(findings[0]).message


def test_collapse_of_a_sum_run_explains_the_effective_learning_rate():
    """The report's lr 0.1 run as it probably ran: one digit for every image, every ReLU dead, finite loss."""
    epochs = [log(1, 2.33, 2.31, 0.10, 0.098, majority=1.0, dead=1.0)]
    config = RunConfig(optimizer="sgd", lr=0.1, batch_size=64, reduction="sum")
    findings = diagnose(epochs, "finished", config=config)
    collapsed = findings[kinds(findings).index("collapsed")]
    assert collapsed.severity is Severity.ERROR and collapsed.effective_lr == 6.4 and collapsed.majority == 1.0
    words = describe(collapsed)
    assert "100%" in words.message and "lr x batch size = 0.1 x 64 = 6.4" in words.advice and "mean" in words.advice
    mean = diagnose(epochs, "finished", config=config.replace(reduction="mean"))[0]
    assert mean.effective_lr is None and "lr x batch size" not in describe(mean).advice


def test_findings_are_data_and_every_kind_has_words():
    """Diagnosis knows nothing of the sidebar: no Markdown, no labels; the UI module words every kind."""
    import dataclasses
    for kind in DiagnosisKind:
        f = Finding(kind, Severity.WARNING, RunConfig(lr=0.5), loss=2.3, majority=0.9, dead=0.5, train_acc=0.99,
                    test_acc=0.9)
        assert not any(isinstance(v, str) and "**" in v for v in dataclasses.asdict(f).values())
        words = describe(f)
        assert words.message and words.advice and "**" in words.advice and words.text.startswith(words.message)
