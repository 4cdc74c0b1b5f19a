"""The report's figures, outcomes and HTML page, on a synthetic reproduction in a temporary store."""
import pandas as pd
import pytest

from experiments.analysis import stats
from experiments.report import outcomes, presets, wording
from experiments.report.figures import comparison_figure
from experiments.report.html import render_report
from experiments.report.outcomes import ClaimOutcome
from experiments.store.export import epochs_frame


def fake_reproduction(store, comparisons, seeds=3, group="report-20990101T000000Z", final_acc=None, tags=()):
    """Store runs as ``reproduce`` would, with made-up epochs: accuracy rises to ``final_acc(config, seed)``."""
    final_acc = final_acc or (lambda config, seed: 0.97 + 0.001 * seed)
    ids = []
    for p in presets.plan(comparisons, seeds):
        run_id = store.create_run(p.config, name=p.name, group_id=group, source="test")
        store.set_tags(run_id, [*p.tags, *tags])
        top = final_acc(p.config, p.config.seed)
        for epoch in range(1, p.config.epochs + 1):
            acc = top - 0.1 / epoch
            logs = dict(epoch=epoch, train_loss=0.5 / epoch, train_acc=acc - 0.01, test_loss=0.6 / epoch, test_acc=acc,
                        seconds=0.1, elapsed=0.1 * epoch, lr=p.config.lr)
            if epoch in p.eval_epochs:
                logs.update(full_train_acc=acc + 0.01, full_train_loss=0.4 / epoch)
            store.log_epoch(run_id, logs)
        store.set_status(run_id, "finished")
        ids.append(run_id)
    return ids


def test_figure_draws_ours_on_both_sets_beside_the_reports_numbers(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    [result] = outcomes.collect(store, [lr])
    fig = comparison_figure(lr, epochs_frame(store, ids), result.runs_by_label(), "accuracy")
    names = [t.name for t in fig.data if t.name]
    assert any(n.startswith("ours: lr=0.1 (test, 2 seeds)") for n in names)
    assert any("train, full pass" in n for n in names) and any("train, average over the epoch" in n for n in names)
    star = [t for t in fig.data if t.name and t.name.startswith("report: lr=0.1:")][0]
    assert list(star.x) == [20] and list(star.y) == [68.385] and "training accuracy" in star.name
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(bands) == 2  # one seed band per line
    test_curve = [t for t in fig.data if t.name and t.name.startswith("ours: lr=0.001 (test")][0]
    assert max(test_curve.y) == pytest.approx(100 * (0.9705 - 0.01), abs=0.01)  # percent, mean of two seeds
    loss = comparison_figure(lr, epochs_frame(store, ids), result.runs_by_label(), "loss")
    report_loss = [t for t in loss.data if t.name and t.name.startswith("report: lr=0.1 (train loss")][0]
    assert len(report_loss.y) == 20 and report_loss.line.dash == "dash"


def test_lines_read_from_one_training_share_a_curve_and_means_are_levels(store):
    sweep, width = presets.get_comparison("epochs"), presets.get_comparison("second-layer-width")
    ids = fake_reproduction(store, [sweep, width], seeds=3)
    by_id = {o.comparison.id: o for o in outcomes.collect(store, [sweep, width])}
    fig = comparison_figure(sweep, epochs_frame(store, ids), by_id["epochs"].runs_by_label())
    tests = [t for t in fig.data if t.name and t.name.startswith("ours:") and "(test" in t.name]
    assert len(tests) == 1 and max(tests[0].x) == 100
    fig = comparison_figure(width, epochs_frame(store, ids), by_id["second-layer-width"].runs_by_label())
    level = [t for t in fig.data if t.name and t.name.startswith("report: 96 neurons")][0]
    assert list(level.x) == [1, 10] and list(level.y) == [92.52, 92.52]


def test_figure_without_runs_shows_the_report_alone_and_escapes_labels():
    lr = presets.get_comparison("learning-rate")
    m = lr.members[0]
    odd = presets.Comparison("x", "<script>alert(1)</script>", (presets.Member("<b>bold</b>", m.config, m.report,
                             m.report_pct, "final"),), "c", (), ())
    fig = comparison_figure(odd, pd.DataFrame(columns=["run_id", "epoch", "test_acc"]), {}, "accuracy")
    assert all(n.startswith("report:") for n in (t.name for t in fig.data))
    assert "<script>" not in fig.layout.title.text and "&lt;b&gt;" in "".join(t.name for t in fig.data)
    with pytest.raises(ValueError):
        comparison_figure(lr, pd.DataFrame(), {}, "speed")


def test_outcomes_say_whether_the_reports_conclusion_holds(store):
    lr, width = presets.get_comparison("learning-rate"), presets.get_comparison("second-layer-width")
    # lr=0.1 clearly better than lr=0.001 (the report said the opposite); 96 and 64 neurons the same
    fake_reproduction(store, [lr, width], final_acc=lambda c, seed: (0.98 if c.lr == 0.1 and c.hidden == (128,)
                                                                     else 0.90 if c.hidden == (128,) else 0.97)
                                                                    + 0.002 * seed)
    result = {o.comparison.id: o for o in outcomes.collect(store, [lr, width])}
    assert result["learning-rate"].status == ClaimOutcome.REVERSED
    assert result["second-layer-width"].status == ClaimOutcome.NOT_SHOWN
    line = result["learning-rate"].line("lr=0.1")
    assert line.test.n == 3 and line.test.mean == pytest.approx(0.98 - 0.1 / 20 + 0.002)
    assert line.train.mean == pytest.approx(line.test.mean + 0.01)  # the full pass, not the running accuracy
    assert not line.train_is_running_average
    mean_line = result["second-layer-width"].line("64 neurons")  # mean over epochs 1..10, as the report read
    assert mean_line.test.mean == pytest.approx(sum(0.97 + 0.002 - 0.1 / e for e in range(1, 11)) / 10)
    assert wording.verdict_line(result["learning-rate"]).startswith(
        "learning-rate: the report's conclusion does not hold for our runs")


def test_the_newest_reproduction_wins_and_a_missing_one_is_said(store):
    opt = presets.get_comparison("optimizer")
    fake_reproduction(store, [opt], group="report-20990101T000000Z", final_acc=lambda c, s: 0.5)
    fake_reproduction(store, [opt], group="report-20990102T000000Z", final_acc=lambda c, s: 0.9 + 0.01 * s)
    fast = opt.scaled(0.2)
    fake_reproduction(store, [fast], group="report-20980101T000000Z", tags=["epochs-scale:0.2"])
    result = outcomes.collect(store, [opt, presets.get_comparison("epochs")])
    assert result[0].group_id == "report-20990102T000000Z" and result[0].line("Adam + L2").test.mean > 0.85
    assert not result[1].complete and "not reproduced yet" in wording.verdict_line(result[1])
    scaled = outcomes.collect(store, [opt], group_id="report-20980101T000000Z")[0]
    assert scaled.complete and scaled.comparison.epochs_scale == 0.2


def test_html_page_is_self_contained_and_escaped(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    store.rename(ids[0], "<img src=x onerror=alert(1)>")
    result = outcomes.collect(store, presets.COMPARISONS)
    page = render_report(result, epochs_frame(store, ids), "the run store named <store>")
    assert page.count("plotly.js v") == 1  # the library is inlined once, for the first figure
    assert '<script src="https://cdn.plot.ly' not in page
    assert "68.39%" in page and "97.25%" in page and "&lt;store&gt;" in page and "<store>" not in page
    assert "onerror=alert" not in page
    assert page.count("not reproduced yet") >= 5  # the other comparisons
    assert "Welch" in page and "Our choices where the report is silent" in page


def test_both_variants_overlay_and_a_flipped_conclusion_is_said_in_one_sentence(store):
    lr = presets.get_comparison("learning-rate")
    # as measured: averaged, lr 0.1 wins (the report reversed); summed, lr 0.1 collapses and lr 0.001 wins
    def final(c, seed):
        if c.reduction == "sum":
            return (0.10 if c.lr == 0.1 else 0.97) + 0.002 * seed
        return (0.98 if c.lr == 0.1 else 0.89) + 0.002 * seed
    ids = fake_reproduction(store, presets.variants([lr]), final_acc=final)
    [pair] = outcomes.collect_variants(store, [lr])
    assert pair.mean.status == ClaimOutcome.REVERSED and pair.sum.status == ClaimOutcome.HOLDS
    assert pair.sum.comparison.variant == "sum" and set(pair.sum.line("lr=0.1").run_ids).isdisjoint(
        pair.mean.line("lr=0.1").run_ids)
    flip = wording.flip_note(pair.mean, pair.sum)
    assert flip.startswith("The conclusion flips") and flip.count(". ") == 0
    assert "as the report probably ran it" in flip and "lr x batch size" in flip
    assert wording.verdict_line(pair.sum).startswith(
        "learning-rate (as the report probably ran it): the report's conclusion holds for our runs")
    fig = comparison_figure(lr, epochs_frame(store, ids), pair.mean.runs_by_label(), "accuracy",
                            pair.sum.runs_by_label())
    summed = [t for t in fig.data if t.name and t.name.startswith("ours, grad=sum: lr=0.1 (test")]
    assert len(summed) == 1 and summed[0].line.dash == "dashdot" and max(summed[0].y) < 15
    assert any(t.name.startswith("ours: lr=0.1 (test") and t.line.dash == "solid" for t in fig.data if t.name)
    page = render_report(outcomes.collect_variants(store, presets.COMPARISONS), epochs_frame(store, ids))
    assert "correct network" in page and "as the report probably ran it" in page
    assert "The conclusion flips" in page and page.count("plotly.js v") == 1
    only_mean = outcomes.collect_variants(store, [lr], "mean")[0]
    assert only_mean.sum is None and wording.flip_note(only_mean.mean, only_mean.sum) == ""


def test_no_flip_sentence_when_the_variants_agree_or_one_is_missing(store):
    width = presets.get_comparison("second-layer-width")
    fake_reproduction(store, presets.variants([width]), final_acc=lambda c, s: 0.97 + 0.002 * s)
    [pair] = outcomes.collect_variants(store, [width])
    assert pair.mean.status == pair.sum.status == ClaimOutcome.NOT_SHOWN
    assert wording.flip_note(pair.mean, pair.sum) == "" and wording.flip_note(pair.mean, None) == ""


def test_a_line_that_diverged_on_every_seed_loses_its_claim_and_says_so(store):
    second = presets.get_comparison("second-hidden-layer").with_settings(reduction="sum")
    for p in presets.plan([second], 2):
        run_id = store.create_run(p.config, name=p.name, group_id="report-20990101T000000Z", source="test")
        store.set_tags(run_id, p.tags)
        if p.config.hidden == (128, 64):  # the two-layer network diverges in its first epoch
            store.set_status(run_id, "diverged", "the loss exploded")
            continue
        for epoch in range(1, p.config.epochs + 1):
            store.log_epoch(run_id, dict(epoch=epoch, train_loss=2.3, train_acc=0.1, test_loss=2.3,
                                         test_acc=0.1 + 0.001 * p.config.seed, full_train_acc=0.1))
        store.set_status(run_id, "finished")
    [result] = outcomes.collect(store, [second])
    assert result.complete and result.status == ClaimOutcome.REVERSED
    line = result.line("784-128-64-10, epoch 10")
    assert line.all_diverged and line.text() == "diverged (2 of 2 seeds)"
    assert "diverged on all 2 seeds" in result.claims[0].verdict.text


def test_both_sides_diverged_says_so_instead_of_cannot_tell_yet(store):
    """Issue 23: every run done, both lines diverged on every seed, and the cell said "cannot tell yet"."""
    second = presets.get_comparison("second-hidden-layer").with_settings(reduction="sum")
    for p in presets.plan([second], 2):
        run_id = store.create_run(p.config, name=p.name, group_id="report-20990101T000000Z", source="test")
        store.set_tags(run_id, p.tags)
        store.set_status(run_id, "diverged", "the loss exploded")
    [result] = outcomes.collect(store, [second])
    assert result.complete and result.status == ClaimOutcome.UNKNOWN and result.both_diverged
    assert wording.status_label(result) == "cannot tell: both sides diverged"
    sentence = wording.verdict_sentence(result)
    assert "both sides diverged on every seed" in sentence and "yet" not in sentence


def test_the_chart_and_the_text_round_a_number_once(store):
    """Issue 23: 68.38% in the text against 68.39% on the chart, for the report's 68.385 and for our means."""
    lr = presets.get_comparison("learning-rate")
    [member] = [m for m in lr.members if m.report_pct == 68.385]
    assert member.report_text == "68.39%"
    fig = comparison_figure(lr, epochs_frame(store, []), {}, "accuracy")
    star = [t for t in fig.data if t.name and t.name.startswith("report: lr=0.1:")][0]
    assert "68.39%" in star.name and list(star.customdata) == ["68.39%"] and "customdata" in star.hovertemplate
    assert stats.spread([0.6838, 0.6839]).text() == "68.39 ± 0.01%"  # the mean is 68.38499999999999 in floats
    ids = fake_reproduction(store, [lr], seeds=2)
    [result] = outcomes.collect(store, [lr])
    fig = comparison_figure(lr, epochs_frame(store, ids), result.runs_by_label(), "accuracy")
    for line in result.lines:
        curve = next(t for t in fig.data if t.name and t.name.startswith(f"ours: {line.member.label.split(',')[0]} "
                                                                          f"(test"))
        shown = dict(zip(curve.x, curve.customdata))[line.member.read_epoch]
        assert line.final_test.text().startswith(shown)


def test_the_legend_groups_each_lines_entries_under_one_title(store):
    """Issue 23: a dozen legend entries: each line's (ours, grad=sum, the report's) now sit in one group."""
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    [result] = outcomes.collect(store, [lr])
    fig = comparison_figure(lr, epochs_frame(store, ids), result.runs_by_label(), "accuracy")
    shown = [t for t in fig.data if t.showlegend is not False]
    groups = {t.legendgroup for t in shown}
    assert None not in groups and len(groups) <= len(lr.members) < len(shown)
    assert all(t.legendgrouptitle.text == t.legendgroup for t in shown)
    assert fig.layout.legend.groupclick == "togglegroup"


def test_quick_length_charts_draw_single_epoch_lines_and_label_the_epochs_trained(store):
    """Issue 12 item 3: a one-epoch line drew nothing in lines mode, and labels kept the full-length epochs."""
    sweep = presets.get_comparison("epochs").scaled(0.1)
    opt = presets.get_comparison("optimizer").scaled(0.1)      # 1 epoch per line at x0.1
    ids = fake_reproduction(store, [sweep, opt], seeds=2, tags=["epochs-scale:0.1"])
    found = {o.comparison.id: o for o in outcomes.collect(store, [presets.get_comparison("epochs"),
                                                                   presets.get_comparison("optimizer")])}
    fig = comparison_figure(found["optimizer"].comparison, epochs_frame(store, ids),
                            found["optimizer"].runs_by_label())
    ours = [t for t in fig.data if t.name and t.name.startswith("ours:") and t.mode != "markers"]
    assert ours and all(len(t.x) == 1 and "markers" in t.mode for t in ours)  # visible: one point, with a marker
    assert any(t.error_y.visible for t in ours if "(test" in t.name)  # the seed spread of that one point
    epochs = found["epochs"]
    sentence = wording.verdict_line(epochs)
    assert "5 epochs" in sentence and "10 epochs" in sentence and "50 epochs" not in sentence
    fig = comparison_figure(epochs.comparison, epochs_frame(store, ids), epochs.runs_by_label())
    stars = [t for t in fig.data if t.name and t.name.startswith("report: 50 epochs")]
    assert stars and list(stars[0].x) == [50]  # the report's number stays at the report's epoch, under its label
    long_ = outcomes.collect(store, [presets.get_comparison("long-training")])[0]
    assert [m.label for m in long_.comparison.members] == ["epoch 1", "epoch 4"]
    assert "epoch 39" not in wording.verdict_line(long_)


def test_duplicated_runs_count_once_in_the_verdict_and_are_named(store):
    """Issue 12 item 1: a comparison queued twice gave 'a real difference, p < 0.001' on duplicated pairs."""
    lr = presets.get_comparison("learning-rate").scaled(0.1)
    def final(c, seed):  # read at epoch 2 (lr 0.1) and 1 (lr 0.001): 90.0/91.5% vs 90.5/91.0%, within seed noise
        return (0.95 + 0.015 * seed) if c.lr == 0.1 else (1.005 + 0.005 * seed)
    first = fake_reproduction(store, [lr], seeds=2, tags=["epochs-scale:0.1"], final_acc=final)
    [once] = outcomes.collect(store, [presets.get_comparison("learning-rate")])
    second = fake_reproduction(store, [lr], seeds=2, tags=["epochs-scale:0.1"], final_acc=final)  # the double click
    [twice] = outcomes.collect(store, [presets.get_comparison("learning-rate")])
    assert twice.claims[0].verdict.n_a == twice.claims[0].verdict.n_b == 2
    assert twice.claims[0].verdict.p == pytest.approx(once.claims[0].verdict.p)
    assert twice.status == once.status == ClaimOutcome.NOT_SHOWN
    assert twice.duplicates == sorted(first) and not once.duplicates  # the newest copy is kept
    assert sorted(i for ids in twice.runs_by_label().values() for i in ids) == sorted(second)
    assert "not counted again" in wording.verdict_line(twice) and f"#{first[0]}" in wording.verdict_line(twice)


def test_html_header_names_no_path_and_the_seeds_actually_used(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    page = render_report(outcomes.collect(store, [lr]), epochs_frame(store, ids), "the default run store")
    assert "from the default run store" in page and str(store.path) not in page
    assert "With 2 seeds per config" in page and "3 seeds" not in page
    assert "cannot tell for our runs" not in page


def test_no_verdict_while_any_run_of_the_comparison_is_still_training(store):
    """Issue 23 item 6: with 2 of 3 seeds of one line done, the verdict was given on n = 2 and 3."""
    lr = presets.get_comparison("learning-rate").scaled(0.1)
    ids = fake_reproduction(store, [lr], seeds=3,
                            final_acc=lambda c, seed: (0.98 if c.lr == 0.1 else 0.90) + 0.002 * seed)
    late = store.create_run(store.get_run(ids[0]).config.replace(seed=3), name="seed 3",
                            group_id="report-20990101T000000Z")
    store.set_tags(late, store.get_run(ids[0]).tags)
    store.set_status(late, "running")  # queued with the others, still on its way to the line's epoch
    runs = store.search_runs(order_by="id", descending=False)
    assert outcomes.waiting_runs(lr, runs) == [late]
    frame = epochs_frame(store, [*ids, late])
    result = outcomes.outcome(lr, runs, frame)
    assert not result.complete and result.waiting == [late]
    assert wording.status_label(result) == "waiting for 1 run"
    assert "no verdict yet, waiting for 1 run" in wording.verdict_line(result)
    store.set_status(late, "stopped")  # a run that ended is not waited for: the seeds that have the epoch count
    assert outcomes.outcome(lr, store.search_runs(order_by="id", descending=False), frame).complete


def test_the_report_names_what_its_verdict_tests(store):
    fake_reproduction(store, [presets.get_comparison("optimizer")])
    page = render_report(outcomes.collect(store, [presets.get_comparison("optimizer")]), epochs_frame(store, []))
    assert "final test accuracies" not in page
    assert "test accuracy at the epoch the report reads its number" in page


def test_the_protocol_note_says_how_many_images_and_how_long():
    """Issue 23: the Report page's header promised 60,000 images whatever the stored runs did."""
    from experiments.report.wording import protocol_note
    full = protocol_note(0, 1.0)
    assert "all 60,000 training images" in full and "comparable with the report" in full
    reduced = protocol_note(5000, 0.1)
    assert reduced.startswith("Reduced reproduction") and "first 5,000 training images only" in reduced
    assert "every epoch count × 0.1" in reduced and "Not comparable" in reduced
    assert "all 60,000 training images" in protocol_note(0, 0.5) and "× 0.5" in protocol_note(0, 0.5)


def test_the_report_chart_band_stays_within_0_and_100_percent(store):
    """A seed at 97% beside one at 10% drew the band of mean ± std past 100% (and below 0)."""
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    frame = epochs_frame(store, ids)
    frame.loc[frame["run_id"] == ids[0], "test_acc"] = 0.10  # the first seed of the first line collapsed
    [result] = outcomes.collect(store, [lr])
    fig = comparison_figure(lr, frame, result.runs_by_label(), "accuracy")
    bands = [t for t in fig.data if t.fill == "toself"]
    assert bands and all(0.0 <= y <= 100.0 for t in bands for y in t.y)
