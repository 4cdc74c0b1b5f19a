"""Report: rerun the course report's comparisons; our curves appear live beside the report's numbers.

One button per comparison and one for all queue the runs (experiments.report.reproduce, with several seeds); a
fragment redraws each comparison's figure (experiments.report.figures) when an epoch arrived and says,
in one line, how our result relates to the report's conclusion (experiments.report.outcomes, Welch verdicts).
Each comparison runs in two variants, overlaid: the correct network (batch gradient averaged, solid) and
"as the report probably ran it" (summed, dash-dot); where the conclusion flips between them, one sentence says so.
"""
from __future__ import annotations

import streamlit as st

from experiments.report import presets, reproduce
from experiments.report.figures import comparison_figure
from experiments.report.outcomes import flip_note, group_scale, outcome
from experiments.runs.frames import epochs_frame
from ui import common

VARIANTS = {"both": "both, overlaid", "mean": "correct network only", "sum": "as the report probably ran it only"}
SCALES = {1.0: "as in the report", 0.5: "half the epochs", 0.2: "a fifth of the epochs (quick look)",
          0.1: "a tenth of the epochs (quickest)"}


def _group_for(comparison_id: str) -> str | None:
    """The reproduction to show: the one queued in this session, else the newest stored one."""
    mine = st.session_state.get("report_groups", {}).get(comparison_id)
    if mine:
        return mine
    runs = common.store().search_runs(tag=f"report:{comparison_id}", limit=1)
    return runs[0].group_id if runs and runs[0].group_id else None


def _queue(comparisons: list, seeds: int, scale: float, variant: str) -> None:
    scaled = presets.variants([c.scaled(scale) for c in comparisons], variant)
    queued = reproduce.queue(common.manager(), scaled, seeds, source="dashboard")
    groups = st.session_state.setdefault("report_groups", {})
    for c in comparisons:
        groups[c.id] = queued.group_id
    st.toast(f"{len(queued.run_ids)} runs queued ({queued.total_epochs} epochs)", icon=":material/schedule:")


def _state(comparison, group_id: str | None):
    """(signature, {variant: (scaled comparison, its runs, run ids by line label)}) of the reproduction."""
    if not group_id:
        return ("none",), {}
    runs = common.store().search_runs(group_id=group_id, order_by="id", descending=False)
    runs = [r for r in runs if f"report:{comparison.id}" in r.tags]
    variants = {}
    for variant in presets.VARIANTS:
        scaled = comparison.with_settings(reduction=variant).scaled(group_scale(runs))
        keys = {m.label: presets.training_key(m.config) for m in scaled.members}
        mine = [r for r in runs if r.config is not None and presets.training_key(r.config) in keys.values()]
        if mine:
            variants[variant] = (scaled, mine, {label: [r.id for r in mine
                                                        if r.config and presets.training_key(r.config) == key]
                                                for label, key in keys.items()})
    signature = (group_id, tuple((r.id, r.epochs_done, r.status) for r in runs))
    return signature, variants


def _verdict(scaled, runs, by_label, frame):
    """(one line on how our result relates to the report's conclusion, or how far the runs have got; outcome)."""
    name = presets.VARIANT_NAMES[scaled.variant].capitalize()
    needed = {m.label: m.read_epoch for m in scaled.members}
    done = all(any(r.id in by_label[label] and (r.epochs_done >= epoch or r.status == "diverged") for r in runs)
               for label, epoch in needed.items())
    if not done:
        total = sum(r.config.epochs for r in runs)
        have = sum(r.epochs_done for r in runs)
        ended_badly = [r for r in runs if r.status in ("failed", "diverged", "stopped", "interrupted")]
        note = f"; {len(ended_badly)} run(s) ended early ({ended_badly[0].status})" if ended_badly else ""
        return (f"{name}: running, {have} of {total} epochs done{note}. The verdict comes when every line has "
                f"its epochs."), None
    result = outcome(scaled, runs, frame, runs[0].group_id)
    numbers = result.verdict_line.split(". Ours on test: ", 1)[-1]
    return f"{name}: the report's conclusion {result.status} for our runs. Ours on test: {numbers}", result


def _comparison_view(comparison, metric: str) -> None:
    group_id = _group_for(comparison.id)
    signature, variants = _state(comparison, group_id)
    cache = st.session_state.setdefault("report_cache", {})
    key = (comparison.id, metric)
    if key not in cache or cache[key][0] != signature:
        ids = [i for _, _, by_label in variants.values() for ids in by_label.values() for i in ids]
        frame = epochs_frame(common.store(), ids)
        verdicts = {v: _verdict(scaled, runs, by_label, frame) for v, (scaled, runs, by_label) in variants.items()}
        shown = variants.get("mean", variants.get("sum", (comparison, [], {})))[0]
        figure = comparison_figure(shown, frame, variants["mean"][2] if "mean" in variants else {}, metric,
                                   variants["sum"][2] if "sum" in variants else None)
        flip = flip_note(verdicts.get("mean", ("", None))[1], verdicts.get("sum", ("", None))[1])
        cache[key] = (signature, figure, [text for text, _ in verdicts.values()], flip, shown.epochs_scale)
    _, figure, verdicts, flip, epochs_scale = cache[key]
    st.plotly_chart(figure, key=f"report_fig_{comparison.id}", config={"displaylogo": False})
    if not verdicts:
        st.markdown("**Not reproduced yet: press the button to queue its runs.**")
    for text in verdicts:
        st.markdown(f"**{common.md_escape(text)}**")
    if flip:
        st.warning(common.md_escape(flip), icon=":material/swap_horiz:")
    if epochs_scale != 1:
        st.caption(f"Reduced reproduction: every epoch count × {epochs_scale:g}.")


@st.fragment(run_every=1.0)
def _live(comparisons: list, metric: str) -> None:
    common.run_page(lambda: [_section(c, metric) for c in comparisons])


def _section(comparison, metric: str) -> None:
    st.subheader(comparison.title)
    st.caption("The report concluded:")
    st.text(comparison.conclusion)
    _comparison_view(comparison, metric)
    with st.expander("Our assumptions where the report is silent"):
        for line in (*comparison.assumptions, *presets.COMMON_ASSUMPTIONS):
            st.text("• " + line)
    st.divider()


def render() -> None:
    st.title("Report")
    st.write("Each comparison of the course report, rerun with several seeds. Our curves (mean and seed band) "
             "appear as the runs train; the report's numbers are drawn beside them (dashed lines, stars). Each runs "
             "twice: the correct network averages the batch gradient (solid); 'as the report probably ran it' sums "
             "it (dash-dot), the same as multiplying the learning rate by the batch size.")
    c1, c2, c3, c4 = st.columns([1, 2, 1.6, 1.2])
    seeds = c1.number_input("Seeds", 1, 10, presets.DEFAULT_SEEDS, key="report_seeds",
                            help="Runs per line, with seeds 0, 1, 2, ...: the spread between them is the noise "
                                 "that the verdict compares differences with.")
    scale = c2.selectbox("Length", list(SCALES), format_func=lambda s: f"× {s:g}: {SCALES[s]}", key="report_scale",
                         help="Scale every epoch count down for a quicker, rougher reproduction.")
    variant = c3.selectbox("Gradient", list(VARIANTS), format_func=VARIANTS.get, key="report_variant",
                           help="Which variants the buttons queue: averaged over the batch (correct network), "
                                "summed (as the report probably ran it), or both.")
    metric = c4.radio("Show", ["accuracy", "loss"], horizontal=True, key="report_metric")
    comparisons = list(presets.COMPARISONS)
    epochs_all = presets.total_epochs(presets.plan(presets.variants([c.scaled(scale) for c in comparisons], variant),
                                                   seeds))
    if st.button(f"Run all comparisons ({epochs_all} epochs)", type="primary", key="report_all",
                 icon=":material/playlist_play:"):
        _queue(comparisons, seeds, scale, variant)
    cols = st.columns(2)
    for i, c in enumerate(comparisons):
        epochs = presets.total_epochs(presets.plan(presets.variants([c.scaled(scale)], variant), seeds))
        if cols[i % 2].button(f"{c.title} ({epochs} epochs)", key=f"report_run_{c.id}", icon=":material/play_arrow:",
                              width="stretch", wrap=True, help="Queue this comparison's runs."):
            _queue([c], seeds, scale, variant)
    st.divider()
    _live(comparisons, metric)


common.run_page(render)
