"""The diagnosis rules on real MNIST runs, trained and stored as the dashboard does (the issue's cases).

Needs MNIST_DIR; each run is small (a few thousand images, two or three epochs).
"""
from __future__ import annotations

import pytest

from experiments.analysis.diagnosis import DiagnosisKind as K
from experiments.analysis.diagnosis import diagnose
from experiments.analysis.diagnosis_text import describe
from experiments.config import RunConfig
from experiments.runs.lifecycle import execute_run
from experiments.store import RunStore
from experiments.store.dynamics import get_layer_stats


@pytest.fixture
def findings_of(tmp_path, mnist):
    store = RunStore(tmp_path / "runs.sqlite")

    def run(config: RunConfig, images: int):
        data = mnist.subset(images, 10_000)
        run_id = store.create_run(config)
        execute_run(store, run_id, config, load=lambda c: data)
        record = store.get_run(run_id)
        return diagnose(store.get_epochs(run_id), record.status, config=config,
                        layers=get_layer_stats(store, run_id))
    return run


def kinds(findings):
    return [f.kind for f in findings]


def test_sigmoid_sgd_with_l2_1_is_l2_dominating_not_a_learning_rate_problem(findings_of):
    findings = findings_of(RunConfig(activation="sigmoid", optimizer="sgd", lr=1e-5, l2=1.0, epochs=2), 5000)
    assert kinds(findings) == [K.L2_DOMINATES]
    assert "lowering the learning rate would not help" in describe(findings[0]).advice
    assert findings[0].fixed_config().l2 < 1.0
    without_l2 = findings_of(RunConfig(activation="sigmoid", optimizer="sgd", lr=1e-5, epochs=2), 5000)
    assert K.L2_DOMINATES not in kinds(without_l2) and K.COLLAPSED not in kinds(without_l2)
    assert kinds(without_l2) == [K.SMALL_UPDATES]  # the updates are 1e-6 of the weights: raise the lr


def test_stuck_at_chance_can_fire(findings_of):
    findings = findings_of(RunConfig(optimizer="sgd", lr=1e-3, epochs=2), 5000)
    assert kinds(findings) == [K.STUCK]
    assert findings[0].loss == pytest.approx(2.3026, abs=0.05)  # the cross-entropy, no penalty in it


def test_500_images_at_100_percent_train_get_an_overfitting_warning(findings_of):
    findings = findings_of(RunConfig(epochs=30, train_size=500), 500)
    over = [f for f in findings if f.kind == K.OVERFITTING]
    assert over and over[0].train_acc == 1.0 and over[0].test_acc < 0.9
    assert over[0].fixed_config().train_size == 5000  # on 500 images no L2 helps; more images do


def test_updates_and_unit_health_on_real_runs(findings_of):
    assert K.LARGE_UPDATES in kinds(findings_of(RunConfig(optimizer="sgd", lr=1.0, epochs=2), 5000))
    assert K.DEAD_RELUS in kinds(findings_of(RunConfig(lr=0.1, epochs=2), 5000))
    assert K.SATURATED in kinds(findings_of(RunConfig(activation="tanh", lr=0.1, epochs=2), 5000))


def test_a_healthy_run_gets_no_finding(findings_of):
    assert findings_of(RunConfig(epochs=3), 10_000) == []
