"""Report: rerun the course report's comparisons; our curves appear live beside the report's numbers.

One button per comparison and one for all queue the runs (experiments.report.reproduce, with several seeds),
once per click (``common.first_click``). A fragment redraws each comparison's figure
(experiments.report.figures) when an epoch arrived and says, in one line, how our result relates to the
report's conclusion (experiments.report.outcomes, worded by experiments.report.wording). The fragment
refreshes itself only while a run it shows is queued or training: an idle Report tab costs no server CPU.
Each comparison runs in two variants, overlaid: the correct network (batch gradient averaged, solid) and
"as the report probably ran it" (summed, dash-dot); where the conclusion flips between them, one sentence says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from experiments import i18n, visibility
from experiments.i18n import N_, _, ngettext
from experiments.report import presets, reproduce, wording
from experiments.report.figures import comparison_figure
from experiments.report.outcomes import Outcome, group_scale, outcome, train_size_of, waiting_runs
from experiments.report.presets import Comparison
from experiments.runs.completion import RunEpochs, completion, status_word
from experiments.store import RunRecord
from experiments.store.export import epochs_frame
from nn.status import RunStatus
from ui import common, student

# the pickers' options in English (the catalog's msgids), translated where shown; the values stay codes
VARIANTS = {"both": N_("both, overlaid"), "mean": N_("correct network only"),
            "sum": N_("as the report probably ran it only")}
SCALES = {1.0: N_("as in the report"), 0.5: N_("half the epochs"), 0.2: N_("a fifth of the epochs (quick look)"),
          0.1: N_("a tenth of the epochs (quickest)")}
METRICS = {"accuracy": N_("accuracy"), "loss": N_("loss")}
LIVE_EVERY = 1.0   # seconds between refreshes while a shown run is active (none when all have ended)
ENDED_EARLY = (RunStatus.FAILED, RunStatus.DIVERGED, RunStatus.STOPPED, RunStatus.INTERRUPTED, RunStatus.PRUNED)


@dataclass(frozen=True)
class VariantRuns:
    """One variant of a comparison as reproduced: the comparison at the group's length, its runs, and the
    run ids of each line (by label)."""

    scaled: Comparison
    runs: list[RunRecord]
    by_label: dict[str, list[int]]


@dataclass(frozen=True)
class Reproduction:
    """What the store holds for one comparison: a signature that changes with any epoch or status, the
    variants found, and whether a run is still queued or training."""

    signature: tuple[Any, ...]
    variants: dict[str, VariantRuns] = field(default_factory=dict)
    active: bool = False


@dataclass(frozen=True)
class View:
    """What a comparison's section shows, rebuilt only when its reproduction's signature changes."""

    signature: tuple[Any, ...]
    figure: Any
    verdicts: list[str]
    flip: str
    protocol: str    # what the shown runs did (images, length); "" when nothing is reproduced yet


def _group_for(comparison_id: str) -> str | None:
    """The reproduction to show: the one queued in this session, else the newest stored one."""
    mine = st.session_state.get("report_groups", {}).get(comparison_id)
    if mine:
        return str(mine)
    runs = common.store().search_runs(tag=f"report:{comparison_id}", limit=1)
    return runs[0].group_id if runs and runs[0].group_id else None


def _queue(comparisons: list[Comparison], seeds: int, scale: float, variant: str) -> None:
    """Queue the runs of ``comparisons``, once per click: a double click's second rerun queues nothing."""
    payload = (tuple(c.id for c in comparisons), int(seeds), float(scale), variant)
    if not common.first_click("report_queue", payload):
        st.toast(_("Already queued: that click was a repeat."), icon=":material/block:")
        return
    scaled = presets.variants([c.scaled(scale) for c in comparisons], variant)
    queued = reproduce.queue(common.manager(), scaled, seeds, source="dashboard", student=student.current())
    groups = st.session_state.setdefault("report_groups", {})
    for c in comparisons:
        groups[c.id] = queued.group_id
    st.toast(_("{runs} runs queued ({epochs} epochs)").format(runs=len(queued.run_ids), epochs=queued.total_epochs),
             icon=":material/schedule:")


def _reproduction(comparison: Comparison) -> Reproduction:
    """The shown reproduction of ``comparison`` (see ``_group_for``), split by variant."""
    group_id = _group_for(comparison.id)
    if not group_id:
        return Reproduction(("none",))
    runs = common.store().search_runs(group_id=group_id, order_by="id", descending=False)
    runs = [r for r in runs if f"report:{comparison.id}" in r.tags]
    variants = {}
    for variant in presets.VARIANTS:
        found = _variant_runs(comparison.with_settings(reduction=variant).scaled(group_scale(runs)), runs)
        if found is not None:
            variants[variant] = found
    signature = (group_id, tuple((r.id, r.epochs_done, r.status) for r in runs))
    active = any(RunStatus.parse(r.status).is_active for r in runs)
    return Reproduction(signature, variants, active)


def _variant_runs(scaled: Comparison, runs: list[RunRecord]) -> VariantRuns | None:
    """The runs of one variant of a comparison, by line label; None if the group has none of them."""
    keys = {m.label: presets.training_key(m.config) for m in scaled.members}
    key_of = {r.id: presets.training_key(r.config) for r in runs if r.config is not None}
    mine = [r for r in runs if key_of.get(r.id) in keys.values()]
    if not mine:
        return None
    by_label = {label: [r.id for r in mine if key_of[r.id] == key] for label, key in keys.items()}
    return VariantRuns(scaled, mine, by_label)


def _progress(v: VariantRuns) -> str:
    """How far the runs of an unfinished reproduction have got, and how many runs the verdict waits for."""
    reach = completion(RunEpochs(r.epochs_done, r.planned_epochs, RunStatus.parse(r.status).is_active)
                       for r in v.runs)
    ended_badly = [r for r in v.runs if r.status in ENDED_EARLY]
    note = ngettext("; {n} run ended early ({status})", "; {n} runs ended early ({status})", len(ended_badly)).format(
        n=len(ended_badly), status=status_word(ended_badly[0].status)) if ended_badly else ""
    waiting = waiting_runs(v.scaled, v.runs)
    if not waiting:
        return _("no verdict: {done} of {total} epochs done{note}, and a line has no run that reached its epoch: "
                 "resume its runs or queue the comparison again.").format(done=reach.done, total=reach.total,
                                                                         note=note)
    return _("no verdict yet, {waiting}: {done} of {total} epochs done{note}. The verdict comes when every run has "
             "its epochs.").format(waiting=wording.waiting_text(len(waiting)), done=reach.done, total=reach.total,
                                   note=note)


def _outcome(v: VariantRuns, frame: Any) -> Outcome | None:
    """The variant's outcome once every run of it has its epochs (or ended) and every line has a number (or
    diverged), else None: no verdict on the seeds that happen to be done first."""
    result = outcome(v.scaled, v.runs, frame, v.runs[0].group_id)
    return result if result.complete else None


def _view(comparison: Comparison, state: Reproduction, metric: str) -> View:
    """The figure, verdict sentences and flip note of one comparison."""
    ids = [i for v in state.variants.values() for ids in v.by_label.values() for i in ids]
    frame = epochs_frame(common.store(), ids)
    results = {name: _outcome(v, frame) for name, v in state.variants.items()}
    verdicts = []
    for name, v in state.variants.items():
        result = results[name]
        said = wording.verdict_sentence(result) if result else _progress(v)
        if not common.sees_test():  # the reproductions hold out no validation set: their verdicts are on test
            said = _("the verdict is read on the test set, and {note}").format(note=_(visibility.HIDDEN_NOTE))
        verdicts.append(f"{_(presets.VARIANT_NAMES[name]).capitalize()}: {said}")
    mean, summed = state.variants.get("mean"), state.variants.get("sum")
    shown = next((v.scaled for v in (mean, summed) if v), comparison)
    figure = comparison_figure(shown, frame, mean.by_label if mean else {}, metric,
                               summed.by_label if summed else None)
    flip = wording.flip_note(results.get("mean"), results.get("sum"))
    runs = [r for v in state.variants.values() for r in v.runs]
    protocol = wording.protocol_note(train_size_of(runs), shown.epochs_scale) if runs else ""
    return View(state.signature, figure, verdicts, flip, protocol)



def _comparison_view(comparison: Comparison, state: Reproduction, metric: str) -> None:
    cache: dict[tuple[str, str], View] = st.session_state.setdefault("report_cache", {})
    # the cached view is worded: one per language
    key = (comparison.id, f"{metric}, test {'shown' if common.sees_test() else 'hidden'}, {i18n.language()}")
    if key not in cache or cache[key].signature != state.signature:
        cache[key] = _view(comparison, state, metric)
    view = cache[key]
    st.plotly_chart(view.figure, key=f"report_fig_{comparison.id}", config={"displaylogo": False})
    if not view.verdicts:
        st.markdown("**" + _("Not reproduced yet: press the button to queue its runs.") + "**")
    for text in view.verdicts:
        st.markdown(f"**{common.md_escape(text)}**")
    if view.flip:
        st.warning(common.md_escape(view.flip), icon=":material/swap_horiz:")
    if view.protocol:
        st.caption(view.protocol)


def _live(comparisons: list[Comparison], metric: str) -> None:
    """The fragment: the comparisons' sections, errors shown as messages."""
    common.run_page(lambda: _sections(comparisons, metric))


def _sections(comparisons: list[Comparison], metric: str) -> None:
    """The comparisons' sections; when a run starts or all end, the page reruns to change the refresh rate."""
    states = {c.id: _reproduction(c) for c in comparisons}
    if any(s.active for s in states.values()) != st.session_state.get("report_busy"):
        st.rerun()  # the whole page, so that the fragment is made again with (or without) its timer
    for c in comparisons:
        _section(c, states[c.id], metric)


def _section(comparison: Comparison, state: Reproduction, metric: str) -> None:
    st.subheader(comparison.shown_title)
    st.caption(_("The report concluded:"))
    st.text(comparison.shown_conclusion)
    _comparison_view(comparison, state, metric)
    with st.expander(_("Our assumptions where the report is silent")):
        for line in (*comparison.assumptions, *presets.COMMON_ASSUMPTIONS):
            st.text("• " + line)
    st.divider()


def _buttons(seeds: int, scale: float, variant: str) -> None:
    """One button for all comparisons and one per comparison, each queuing its runs once per click."""
    comparisons = list(presets.COMPARISONS)
    epochs_all = presets.total_epochs(presets.plan(presets.variants([c.scaled(scale) for c in comparisons], variant),
                                                   seeds))
    if st.button(_("Run all comparisons ({epochs} epochs)").format(epochs=epochs_all), type="primary", key="report_all",
                 icon=":material/playlist_play:"):
        _queue(comparisons, seeds, scale, variant)
    cols = st.columns(2)
    for i, c in enumerate(comparisons):
        epochs = presets.total_epochs(presets.plan(presets.variants([c.scaled(scale)], variant), seeds))
        if cols[i % 2].button(_("{title} ({epochs} epochs)").format(title=c.shown_title, epochs=epochs),
                              key=f"report_run_{c.id}", icon=":material/play_arrow:", width="stretch", wrap=True,
                              help=_("Queue this comparison's runs.")):
            _queue([c], seeds, scale, variant)


def render() -> None:
    st.title(_("Report"))
    st.write(_("Each comparison of the course report, rerun with several seeds. Our curves (mean and seed band) "
               "appear as the runs train; the report's numbers are drawn beside them (dashed lines, stars). Each "
               "runs twice: the correct network averages the batch gradient (solid); 'as the report probably ran "
               "it' sums it (dash-dot), the same as multiplying the learning rate by the batch size."))
    st.caption(_("Protocol: like the report, the runs these buttons queue train on all {images} training images and "
                 "hold out no validation set (val_size 0), so their verdicts are read on the test set. A shorter "
                 "Length, or `reproduce --train-size` on the command line, makes a reduced reproduction: each "
                 "comparison says what its runs did. To choose settings yourself, keep a validation set and check "
                 "test once.").format(images=i18n.whole(60000)))
    c1, c2, c3, c4 = st.columns([1, 2, 1.6, 1.2])
    seeds = int(c1.number_input(_("Seeds"), 1, 10, presets.DEFAULT_SEEDS, key="report_seeds",
                                persist_state=common.KEEP,
                                help=_("Runs per line, with seeds 0, 1, 2, ...: the spread between them is the noise "
                                       "that the verdict compares differences with.")))
    scale = c2.selectbox(_("Length"), list(SCALES), format_func=lambda s: f"× {i18n.localized(f'{s:g}')}: "
                                                                          f"{_(SCALES[s])}",
                         key="report_scale", persist_state=common.KEEP,
                         help=_("Scale every epoch count down for a quicker, rougher reproduction."))
    variant = c3.selectbox(_("Gradient"), list(VARIANTS), format_func=lambda v: _(VARIANTS[v]), key="report_variant",
                           persist_state=common.KEEP,
                           help=_("Which variants the buttons queue: averaged over the batch (correct network), "
                                  "summed (as the report probably ran it), or both."))
    metric = str(c4.radio(_("Show"), list(METRICS), horizontal=True, key="report_metric", persist_state=common.KEEP,
                          format_func=lambda m: _(METRICS[m])))
    _buttons(seeds, float(scale or 1.0), str(variant or "both"))
    st.divider()
    comparisons = list(presets.COMPARISONS)
    busy = st.session_state["report_busy"] = any(_reproduction(c).active for c in comparisons)
    st.fragment(_live, run_every=LIVE_EVERY if busy else None)(comparisons, metric)


common.run_page(render)
