"""The presets carry the report's numbers exactly, and state the settings the report leaves open."""
import json
import re

import pytest

from experiments.config import ConfigError
from experiments.report import presets
from experiments.report.reference import REFERENCE_PATH, load_reference
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared"
REPORT_NUMBERS = ("final_train_accuracy_pct", "peak_train_accuracy_pct", "mean_train_accuracy_pct",
                  "first_epoch_train_accuracy_pct", "first_epoch_loss", "final_loss")


def test_the_projects_copy_of_the_reference_equals_the_shared_transcription():
    shared = SHARED / "report_reference.json"
    if not shared.is_file():
        pytest.skip("../shared/report_reference.json is not here")
    assert json.loads(REFERENCE_PATH.read_text()) == json.loads(shared.read_text())


def test_every_number_of_the_reference_is_printed_in_the_report_itself():
    seeds = sorted((SHARED / "seed").glob("000_*.txt")) if (SHARED / "seed").is_dir() else []
    if not seeds:
        pytest.skip("the report's text is not here")
    printed = [float(t) for t in re.findall(r"\d+\.\d+", seeds[0].read_text(encoding="utf-8"))]
    for comparison in load_reference().comparisons:
        for run in comparison.runs:
            numbers = [*run.loss, *run.train_accuracy_pct, *(getattr(run, k) for k in REPORT_NUMBERS)]
            for x in (n for n in numbers if n is not None):
                assert any(abs(x - p) < 1e-9 for p in printed), (comparison.id, run.label, x)


def test_every_comparison_and_every_report_run_is_a_preset_with_the_same_numbers():
    ref = load_reference()
    assert tuple(c.id for c in ref.comparisons) == presets.COMPARISON_IDS
    for rc in ref.comparisons:
        preset = presets.get_comparison(rc.id)
        assert (preset.title, preset.conclusion) == (rc.title, rc.conclusion)
        reproduced = {m.report.label for m in preset.members if m.report is not None}
        assert reproduced == {r.label for r in rc.runs}, rc.id
        for m in preset.members:
            if m.report is None:
                assert m.report_pct is None  # a line of ours, for contrast
                continue
            assert m.report == rc.run(m.report.label)  # the very numbers of the reference
            r = m.report
            if m.report_pct is not None:
                candidates = [getattr(r, k) for k in REPORT_NUMBERS] + list(r.train_accuracy_pct)
                assert m.report_pct in candidates and m.report_what
            if r.sizes is not None:
                assert m.config.sizes() == list(r.sizes)
            for name in ("optimizer", "lr", "l2", "batch_size"):
                stated = getattr(r, name)
                if stated is not None:
                    assert getattr(m.config, name) == stated, (rc.id, m.label, name)
            assert m.read_epoch <= r.epochs


def test_the_reports_headline_numbers():
    pct = {(c.id, m.label): m.report_pct for c in presets.COMPARISONS for m in c.members}
    assert pct[("learning-rate", "lr=0.1")] == 68.385
    assert pct[("learning-rate", "lr=0.001")] == 97.245
    assert pct[("optimizer", "Adam + L2")] == pytest.approx(77.84333333333333, abs=0)
    assert pct[("optimizer", "no optimizer")] == pytest.approx(69.20833333333333, abs=0)
    assert pct[("long-training", "epoch 1")] == 75.41 and pct[("long-training", "epoch 39")] == 64.56
    assert pct[("second-hidden-layer", "784-128-64-10, epoch 1")] == 50.87
    assert pct[("second-hidden-layer", "784-128-64-10, epoch 10")] == 98.52
    assert pct[("second-layer-width", "64 neurons")] == 91.84 and pct[("second-layer-width", "96 neurons")] == 92.52
    assert pct[("epochs", "50 epochs")] == 92.89
    assert [m.read_epoch for m in presets.get_comparison("epochs").members] == [10, 20, 50, 100]


def test_choices_where_the_report_is_silent_are_stated():
    for c in presets.COMPARISONS:
        assert c.assumptions and all(isinstance(a, str) and a for a in c.assumptions)
        assert c.claims
        silent = any(getattr(m.report, k) is None for m in c.members if m.report for k in ("lr", "l2", "batch_size"))
        text = " ".join(c.assumptions).lower()
        if silent:
            assert re.search(r"not (give|state|say)|without a value|does not|silent|neither", text), c.id
    assert "0.001" in " ".join(presets.get_comparison("optimizer").assumptions)


def test_plan_shares_trainings_that_differ_only_in_length():
    everything = presets.plan(presets.COMPARISONS, seeds=3)
    assert len(everything) == 15 and presets.total_epochs(everything) == 450
    assert sorted({p.config.seed for p in everything}) == [0, 1, 2]
    sweep = presets.plan([presets.get_comparison("epochs")], seeds=3)
    assert [p.config.epochs for p in sweep] == [100, 100, 100]
    assert all(p.eval_epochs == [10, 20, 50, 100] and "report:epochs" in p.tags for p in sweep)
    adam = [p for p in everything if p.config.optimizer == "adam"]
    assert {tuple(p.comparisons) for p in adam} == {("optimizer", "long-training", "epochs")}
    width = [p for p in everything if p.config.hidden == (128, 64)][0]
    assert width.eval_epochs == list(range(1, 11))  # the report averaged over the epochs


def test_variants_and_reduced_versions_change_our_settings_not_the_reports_numbers():
    lr = presets.get_comparison("learning-rate")
    summed = lr.with_settings(reduction="sum")
    assert all(m.config.reduction == "sum" for m in summed.members)
    assert [m.report_pct for m in summed.members] == [m.report_pct for m in lr.members]
    quick = lr.scaled(0.1).with_settings(train_size=500)
    assert [m.read_epoch for m in quick.members] == [2, 1] and quick.epochs_scale == 0.1
    assert all(m.config.train_size == 500 for m in quick.members)
    assert len(presets.plan([quick], 2)) == 4


def test_every_comparison_has_a_correct_and_an_as_the_report_ran_it_variant():
    both = presets.variants(presets.COMPARISONS)
    assert [(c.id, c.variant) for c in both] == [(c.id, v) for c in presets.COMPARISONS for v in ("mean", "sum")]
    assert [c.variant_name for c in both[:2]] == ["correct network", "as the report probably ran it"]
    for mean, summed in zip(both[0::2], both[1::2]):
        assert mean == presets.get_comparison(mean.id)  # the correct network is the preset itself
        assert [m.report for m in summed.members] == [m.report for m in mean.members]
        assert [m.report_pct for m in summed.members] == [m.report_pct for m in mean.members]
        assert [m.config.replace(reduction="mean") for m in summed.members] == [m.config for m in mean.members]
    assert [c.variant for c in presets.variants(presets.COMPARISONS[:1], "sum")] == ["sum"]
    with pytest.raises(ConfigError, match="variant"):
        presets.variants(presets.COMPARISONS, "max")
    planned = presets.plan(both, seeds=3)  # the sum runs are separate trainings, shared the same way
    assert len(planned) == 30 and presets.total_epochs(planned) == 900
    assert sum(p.config.reduction == "sum" for p in planned) == 15
    assert all("grad=sum" in p.name for p in planned if p.config.reduction == "sum")


def test_selecting_comparisons():
    assert len(presets.select(None)) == len(presets.select("all")) == len(presets.select([])) == 6
    assert [c.id for c in presets.select(["epochs", "optimizer"])] == ["epochs", "optimizer"]
    with pytest.raises(KeyError, match="choose one of"):
        presets.select(["nope"])
    with pytest.raises(ConfigError):
        presets.plan(presets.COMPARISONS, seeds=0)
    with pytest.raises(ConfigError):
        presets.get_comparison("epochs").scaled(0)


def test_quick_lengths_name_the_epochs_trained_and_keep_the_reports_own():
    """Issue 12 item 3: at length x0.1 the labels said "epoch 39" and "50 epochs vs 100 epochs"."""
    long_ = presets.get_comparison("long-training").scaled(0.1)
    assert [m.label for m in long_.members] == ["epoch 1", "epoch 4"] and long_.members[1].read_epoch == 4
    assert long_.members[1].reported_label == "epoch 39" and long_.members[1].reported_epoch == 39
    assert (long_.claims[0].better, long_.claims[0].worse) == ("epoch 1", "epoch 4")
    sweep = presets.get_comparison("epochs").scaled(0.1)
    assert [m.label for m in sweep.members] == ["1 epoch", "2 epochs", "5 epochs", "10 epochs"]
    assert [(c.better, c.worse) for c in sweep.claims] == [("5 epochs", "1 epoch"), ("5 epochs", "10 epochs")]
    tiny = presets.get_comparison("epochs").scaled(0.01)  # every length becomes 1: the lines stay apart
    assert len({m.label for m in tiny.members}) == 4 and all(m.label.startswith("1 epoch") for m in tiny.members)
    full = presets.get_comparison("long-training")
    assert full.scaled(1) is full and full.members[1].reported_label == "epoch 39"
    assert presets.relabel("784-128-64-10, epoch 10", 10, 2) == "784-128-64-10, epoch 2"
    assert presets.relabel("lr=0.1", 20, 2) == "lr=0.1"
