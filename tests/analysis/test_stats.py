"""Seed statistics: spread, per-epoch bands, the Student-t tail and the Welch verdict."""
import math

import pandas as pd
import pytest

from experiments.analysis import stats

# Wikipedia, "Welch's t-test", Examples 1 and 3 (published: t = -2.46, nu = 25.0, p = 0.021 and
# t = -2.22, nu = 24.5, p = 0.036).
WIKI_A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
WIKI_A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
WIKI_B1 = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0]
WIKI_B2 = [28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3,
           20.4, 23.9, 13.3]


@pytest.mark.parametrize("a,b,t,df,p", [(WIKI_A1, WIKI_A2, -2.46, 25.0, 0.021), (WIKI_B1, WIKI_B2, -2.22, 24.5, 0.036)])
def test_welch_matches_published_worked_examples(a, b, t, df, p):
    w = stats.welch(a, b)
    # published to 2, 1 and 3 digits: agree to within one unit of the last published digit
    assert w.t == pytest.approx(t, abs=0.01) and w.df == pytest.approx(df, abs=0.1)
    assert w.p == pytest.approx(p, abs=0.001)


def test_benjamini_hochberg_matches_the_papers_example():
    # Benjamini & Hochberg (1995), section 4: 15 p-values; at q = 0.05 the four smallest are rejected.
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719,
         0.6528, 0.7590, 1.000]
    adjusted = stats.bh_adjust(p)
    assert sum(a < 0.05 for a in adjusted) == 4
    assert adjusted[3] == pytest.approx(0.0095 * 15 / 4) and adjusted[0] == pytest.approx(0.0015)
    assert adjusted[5] == adjusted[6] == pytest.approx(0.0298 * 15 / 7)  # step-up: a later p caps an earlier one
    assert stats.bh_adjust(list(reversed(p))) == pytest.approx(list(reversed(adjusted)))  # input order kept
    assert stats.bh_adjust([]) == []


def test_mean_interval_is_t_based():
    ci = stats.mean_interval([1.0, 2.0, 3.0, None])
    # t(0.975, 2) = 4.302653; s = 1; n = 3
    assert ci.mean == 2.0 and ci.half_width == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    one = stats.mean_interval([0.9])
    assert one.mean == 0.9 and math.isnan(one.low) and math.isnan(one.high)


def test_welch_statistic_and_degrees_of_freedom():
    w = stats.welch([1.0, 2.0, 3.0], [4.0, 6.0, 8.0])
    # by hand: var 1 and 4, n 3: se^2 = 1/3 + 4/3 = 5/3; t = -4 / sqrt(5/3); df = (5/3)^2 / ((1/9 + 16/9) / 2)
    assert w.t == pytest.approx(-4 / math.sqrt(5 / 3))
    assert w.df == pytest.approx((5 / 3) ** 2 / ((1 / 9 + 16 / 9) / 2))
    assert 0.02 < w.p < 0.1
    with pytest.raises(ValueError):
        stats.welch([1.0], [2.0, 3.0])


def test_verdict_calls_a_clear_difference_real_and_gives_its_size():
    v = stats.verdict([0.981, 0.982, 0.980], [0.970, 0.971, 0.969], "96 neurons", "64 neurons")
    assert v.kind == stats.VerdictKind.REAL and v.real and v.p < 0.001
    assert v.diff == pytest.approx(0.011) and v.effect_size > 5
    assert "a real difference" in v.text and "+1.10 points" in v.text and "Cohen's d" in v.text and "n = 3" in v.text


def test_verdict_calls_overlapping_seeds_noise():
    v = stats.verdict([0.9252, 0.9190, 0.9210], [0.9184, 0.9230, 0.9170], "96", "64")
    assert v.kind == stats.VerdictKind.NOISE and not v.real and v.p > 0.05
    assert v.text.startswith("within seed noise")


def test_verdict_with_one_run_each_cannot_tell():
    v = stats.verdict([0.9252], [0.9184], "96 neurons", "64 neurons")
    assert v.kind == stats.VerdictKind.UNKNOWN and v.p is None
    assert "one run each" in v.text and "+0.68 points" in v.text
    assert stats.verdict([], [0.9], "a", "b").kind == stats.VerdictKind.UNKNOWN
    nan_dropped = stats.verdict([0.9, float("nan")], [0.8, 0.81], "a", "b")  # NaN dropped: n = 1
    assert nan_dropped.kind == stats.VerdictKind.UNKNOWN


def test_verdict_without_any_seed_spread():
    assert stats.verdict([0.9, 0.9], [0.9, 0.9]).kind == stats.VerdictKind.NOISE
    assert stats.verdict([0.95, 0.95], [0.9, 0.9]).kind == stats.VerdictKind.REAL


def test_spread_and_its_text():
    s = stats.spread([0.97, 0.98, 0.99, None, float("nan")])
    assert (s.n, s.min, s.max) == (3, 0.97, 0.99)
    assert s.mean == pytest.approx(0.98) and s.std == pytest.approx(0.01)
    assert s.text() == "98.00 ± 1.00%"
    assert stats.spread([0.5]).text() == "50.00%" and stats.spread([0.5]).std == 0
    assert stats.spread([]).text() == "-"


def test_seed_bands_per_epoch():
    frame = pd.DataFrame({"run_id": [1, 1, 2, 2, 3], "epoch": [1, 2, 1, 2, 1],
                          "test_acc": [0.8, 0.9, 0.82, 0.92, 0.5]})
    b = stats.seed_bands(frame, {"A": [1, 2], "B": [3]}, "test_acc")
    a2 = b[(b["label"] == "A") & (b["epoch"] == 2)].iloc[0]
    assert a2["n"] == 2 and a2["mean"] == pytest.approx(0.91) and a2["min"] == 0.9 and a2["max"] == 0.92
    assert a2["std"] == pytest.approx(math.sqrt(0.0002))
    assert b[b["label"] == "B"]["std"].tolist() == [0.0]
    assert stats.seed_bands(frame.iloc[:0], {"A": [1]}, "test_acc").empty


# ---------------------------------------------------------------------- each (config, seed) counted once
def _run(run_id, seed, acc, lr=0.1, epochs_done=2, status="finished"):
    from types import SimpleNamespace

    from experiments.config import RunConfig
    return SimpleNamespace(id=run_id, config=RunConfig(hidden=(8,), lr=lr, seed=seed, epochs=2), test_acc=acc,
                           epochs_done=epochs_done, status=status)


def test_a_run_queued_twice_is_one_seed_not_two():
    """Issue 12 item 1: duplicates of a (config, seed) made the verdict "a real difference, p < 0.001"."""
    from experiments.analysis import seeds
    a = [_run(1, 0, 0.950), _run(2, 1, 0.940)]
    b = [_run(3, 0, 0.945, lr=0.01), _run(4, 1, 0.941, lr=0.01)]
    honest = seeds.verdicts(seeds.group_by_config(a + b), ["lr"], metric="test_acc")
    doubled = [_run(r.id + 10, r.config.seed, r.test_acc, r.config.lr) for r in a + b]  # the same clicks, twice
    groups = seeds.group_by_config(a + b + doubled)
    assert [len(g) for g in groups] == [2, 2] and [len(g.duplicates) for g in groups] == [2, 2]
    [line] = seeds.verdicts(groups, ["lr"], metric="test_acc")
    assert line.startswith(honest[0]) and "n = 2 and 2" in line and "within seed noise" in line
    assert "runs #1, #2 repeat the settings and seed of another run and are counted once" in line  # newest kept
    # without the collapse the same numbers would pass for four agreeing seeds each
    assert stats.verdict([r.test_acc for r in a] * 2, [r.test_acc for r in b] * 2).n_a == 4


def test_one_per_seed_keeps_the_run_with_most_epochs_then_the_finished_then_the_newest():
    from experiments.analysis.seeds import one_per_seed
    short, long_ = _run(1, 0, 0.5, epochs_done=1, status="stopped"), _run(2, 0, 0.9, epochs_done=2)
    assert one_per_seed([long_, short]).kept == [long_] and one_per_seed([short, long_]).dropped == [short]
    old, new = _run(3, 0, 0.9), _run(4, 0, 0.9)
    assert one_per_seed([old, new]).kept == [new]
    failed = _run(5, 0, None, epochs_done=2, status="failed")
    assert one_per_seed([failed, old]).kept == [old]
    assert one_per_seed([_run(6, 0, 0.9), _run(7, 1, 0.9)]).dropped == []


def test_the_small_n_note_names_the_seeds_used():
    assert "With 2 seeds per config" in stats.small_n_note(2)
    assert "With 2 to 3 seeds per config" in stats.small_n_note([3, 2, 3])
    assert "3 seeds" not in stats.SMALL_N_NOTE


def test_verdict_kinds_are_an_enum_with_words_apart():
    v = stats.verdict([0.981, 0.982, 0.980], [0.970, 0.971, 0.969])
    assert v.kind is stats.VerdictKind.REAL and v.text.startswith(stats.VERDICT_TEXT[v.kind])
    assert {k.text for k in stats.VerdictKind} == {"a real difference", "within seed noise", "cannot tell"}


def test_welch_with_one_side_without_spread_gives_no_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = stats.welch([0.91, 0.91], [0.88, 0.91])
    assert w.t == pytest.approx(1.0) and w.df == pytest.approx(1.0) and w.p == pytest.approx(0.5)


def test_a_seed_band_never_leaves_what_the_value_can_be():
    """Issue 23's class "percentages outside [0, 100]": mean ± std of 97% and a diverged 10% reached 115%."""
    from experiments.analysis.seeds import band
    accs = band([[{"epoch": 1, "test_acc": 0.97}], [{"epoch": 1, "test_acc": 0.10}]], "test_acc")
    assert accs.low == [0.0] and accs.high == [1.0] and accs.mean == [pytest.approx(0.535)]
    losses = band([[{"epoch": 1, "test_loss": 0.1}], [{"epoch": 1, "test_loss": 2.3}]], "test_loss")
    assert losses.low == [0.0] and losses.high[0] > 2.3
