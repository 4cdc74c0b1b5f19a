"""One self-contained HTML page: every reproduced comparison of the report, ours beside its numbers.

Each comparison is shown in two variants, overlaid: the correct network (batch gradient averaged) and
"as the report probably ran it" (summed), with one sentence where the report's conclusion flips between
them. Plotly's JavaScript is inlined once (with the first figure), so the page works offline and can be mailed
as one file. Every text that could come from outside this module is escaped with ``html.escape``.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import plotly.io as pio

from experiments.analysis.stats import small_n_note
from experiments.i18n import _, language, whole
from experiments.report import reference_messages, wording
from experiments.report.figures import comparison_figure
from experiments.report.outcomes import ClaimOutcome, LineResult, Outcome, VariantOutcomes
from experiments.report.presets import VARIANT_NAMES, common_assumptions, line_name
from experiments.report.reference import load_reference

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { background: #f4f8ff; border-left: 4px solid #4a7bd0; padding: .5em .8em; }
.holds { color: #1b7a1b; font-weight: 600; } .against { color: #b03a2e; font-weight: 600; }
.flip { background: #fff6e0; border-left: 4px solid #d99a00; padding: .5em .8em; font-weight: 600; }
.muted { color: #666; font-size: .9em; } blockquote { margin: .5em 0; color: #444; font-style: italic; }
"""


_CELL_CLASS = {ClaimOutcome.HOLDS: "holds", ClaimOutcome.REVERSED: "against"}


def render_report(outcomes: Sequence[VariantOutcomes | Outcome], epochs: Any, store_note: str = "",
                  seeds_note: str = "") -> str:
    """The page for ``outcomes`` (``outcomes.collect_variants``, or plain ``collect`` for one variant);
    ``epochs`` holds every run's epochs. ``store_note`` says in words which run store the runs came from
    (e.g. "the default run store"), never its path."""
    pairs = [_as_variants(o) for o in outcomes]
    seeds = [n for v in pairs for o in v.outcomes if o.complete for n in o.seeds]
    ref = load_reference()
    e = html.escape
    generated = (_("Source: {source}. Generated {when} from {store}.") if store_note
                 else _("Source: {source}. Generated {when}.")).format(source=ref.source, when=_now(), store=store_note)
    parts = [f"<!doctype html><html lang='{language()}'><head><meta charset='utf-8'>"
             "<title>" + e(_("The course report, reproduced")) + f"</title><style>{STYLE}</style></head><body>",
             "<h1>" + e(_("The course report, reproduced with a correct network, and as it probably ran")) + "</h1>",
             f"<p class='muted'>{e(generated)}</p>",
             # the page's own words, with their markup (no user text in them: nothing to escape)
             "<p>" + _("Each comparison of the report is rerun with our NumPy network, several seeds per setting. "
                       "The report measured its accuracies on the <b>training</b> set; we show ours on the training "
                       "set (a full pass after the epoch) and on the {test_images} test images. The report's own "
                       "numbers come from a network it says had a bug, so the question is whether its "
                       "<i>conclusions</i> hold, not its numbers.").format(test_images=whole(10000)) + "</p>",
             "<p>" + _("Every comparison runs in two variants: the <b>correct network</b> averages the gradient over "
                       "the batch; <b>as the report probably ran it</b> sums it (the same as multiplying the learning "
                       "rate by the batch size, 64). Charts overlay both: correct network solid, summed gradient "
                       "dash-dot (open diamonds for its training accuracy), the report dashed or stars.") + "</p>",
             "<p class='muted'>" + e(_("Seed verdicts: {test}.").format(test=wording.VERDICT_TEST)) + " "
             f"{e(small_n_note(seeds))}{' ' + e(seeds_note) if seeds_note else ''}</p>",
             _summary(pairs)]
    first = True
    for v in pairs:
        parts.append(_section(v, epochs, first))
        first = first and not any(o.complete for o in v.outcomes)
    parts.append("<h2>" + e(_("Assumptions common to every comparison")) + "</h2><ul>" +
                 "".join(f"<li>{e(a)}</li>" for a in common_assumptions()) + "</ul>")
    caveats = _("The report's caveats")
    notes = "".join(f"<li>{e(reference_messages.shown(n))}</li>" for n in ref.notes)
    parts.append(f"<h2>{e(caveats)}</h2><ul>{notes}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _as_variants(o: VariantOutcomes | Outcome) -> VariantOutcomes:
    if isinstance(o, VariantOutcomes):
        return o
    return VariantOutcomes(o, None) if o.comparison.variant == "mean" else VariantOutcomes(None, o)


def _status_cell(o: Outcome | None) -> str:
    if o is None:
        return "<td class='muted'>" + html.escape(_("not asked for")) + "</td>"
    cls = _CELL_CLASS.get(o.status, "") if o.complete else ""
    return f"<td class='{cls}'>{html.escape(wording.status_label(o))}</td>"


def _summary(outcomes: Sequence[VariantOutcomes]) -> str:
    e = html.escape
    rows = []
    for v in outcomes:
        c = v.comparison
        rows.append(f"<tr><td><a href='#{e(c.id)}'>{e(c.id)}</a></td><td>{e(c.shown_conclusion)}</td>"
                    f"{_status_cell(v.mean)}{_status_cell(v.sum)}<td>{e(wording.flip_note(v.mean, v.sum))}</td></tr>")
    return ("<h2>" + e(_("Summary")) + "</h2><table><tr><th>" + e(_("comparison")) + "</th>"
            "<th>" + e(_("the report concluded")) + f"</th><th>{e(_(VARIANT_NAMES['mean']))}</th>"
            f"<th>{e(_(VARIANT_NAMES['sum']))}</th><th>" + e(_("between the two")) + "</th></tr>"
            + "".join(rows) + "</table>")


def _section(v: VariantOutcomes, epochs: Any, include_js: bool) -> str:
    """One comparison: the report's conclusion, our verdicts, the numbers table, both charts, our choices."""
    e = html.escape
    c = v.comparison
    out = [f"<h2 id='{e(c.id)}'>{e(c.shown_title)}</h2>",
           "<p>" + e(_("The report:")) + f" <blockquote>{e(c.shown_conclusion)}</blockquote></p>"]
    done = [o for o in v.outcomes if o.complete]
    if not done:
        out.append("<p class='verdict'>" + e(_("Not reproduced yet:")) + " "
                   f"<code>python -m experiments reproduce {e(c.id)}</code></p>")
        return "\n".join(out)
    out += _verdicts(v, done)
    out.append(_table(v))
    out += _figures(v, done, epochs, include_js)
    out.append("<details><summary>" + e(_("Our choices where the report is silent")) + "</summary><ul>" +
               "".join(f"<li>{e(a)}</li>" for a in c.assumptions) + "</ul></details>")
    return "\n".join(out)


def _verdicts(v: VariantOutcomes, done: Sequence[Outcome]) -> list[str]:
    """Each variant's verdict sentence, the flip note, the reduced-reproduction warning and each claim's test."""
    e = html.escape
    out = [f"<p class='verdict'>{e(_(VARIANT_NAMES[o.comparison.variant]).capitalize())}: "
           f"{e(wording.verdict_line(o))}</p>" for o in v.outcomes]
    flip = wording.flip_note(v.mean, v.sum)
    if flip:
        out.append(f"<p class='flip'>{e(flip)}</p>")
    first = done[0]
    if first.train_size or first.comparison.epochs_scale != 1:
        out.append(f"<p class='against'>{e(wording.protocol_note(first.train_size, first.comparison.epochs_scale))}"
                   "</p>")
    for o in done:
        name = _(VARIANT_NAMES[o.comparison.variant])
        said = (_("The report: {claim}. Ours ({variant}): {verdict}.").format(
            claim=_(r.claim.text), variant=name, verdict=r.verdict.text) for r in o.claims)
        out.append("<ul>" + "".join(f"<li>{e(text)}</li>" for text in said) + "</ul>")
    return out


def _figures(v: VariantOutcomes, done: Sequence[Outcome], epochs: Any, include_js: bool) -> list[str]:
    """The accuracy and loss charts of both variants overlaid, and which runs they show."""
    mean_runs = v.mean.runs_by_label() if v.mean and v.mean.complete else {}
    sum_runs = v.sum.runs_by_label() if v.sum and v.sum.complete else {}
    all_ids = sorted({i for runs in (mean_runs, sum_runs) for ids in runs.values() for i in ids})
    frame = epochs[epochs["run_id"].isin(all_ids)]
    out = []
    for metric in ("accuracy", "loss"):
        fig = comparison_figure(done[0].comparison, frame, mean_runs, metric, sum_runs)
        out.append(pio.to_html(fig, full_html=False, include_plotlyjs=include_js,
                               config={"displaylogo": False, "responsive": True}))
        include_js = False
    groups = sorted({o.group_id for o in done if o.group_id})
    if groups:
        out.append("<p class='muted'>{}</p>".format(html.escape(_("Runs: group {groups}, ids {ids}.").format(
            groups=", ".join(groups), ids=", ".join(map(str, all_ids))))))
    return out


def _cells(line: LineResult | None) -> str:
    if line is None:
        return "<td class='num'>-</td><td class='num'>-</td>"
    m = line.member
    note = html.escape(_(" (running average)")) if line.train_is_running_average else ""
    final = ""
    if m.measure == "mean":
        final = ("<br><span class='muted'>"
                 + html.escape(_("final: {acc}").format(acc=line.final_test.text())) + "</span>")
    return (f"<td class='num'>{html.escape(line.text('train'))}{note}</td>"
            f"<td class='num'>{html.escape(line.text('test'))}{final}</td>")


def _table(v: VariantOutcomes) -> str:
    e = html.escape
    lines = {o.comparison.variant: {line.member.label: line for line in o.lines} for o in v.outcomes if o.complete}
    def seeds(label: str) -> str:
        return "/".join(str(lines[k][label].test.n) for k in ("mean", "sum") if k in lines)

    rows = []
    for m in v.comparison.members:
        report = m.report_text
        what = e(_(m.report_what) if m.report_what else "") if m.report_pct is not None else e(_("(ours only)"))
        reading = (_("mean over epochs 1-{epoch}") if m.measure == "mean" else _("after epoch {epoch}")).format(
            epoch=m.read_epoch)
        rows.append(f"<tr><td>{e(line_name(m.label))}</td><td class='num'>{report}</td><td>{what}</td>"
                    f"<td>{e(reading)}</td>"
                    f"{_cells(lines.get('mean', {}).get(m.label))}{_cells(lines.get('sum', {}).get(m.label))}"
                    f"<td class='num'>{seeds(m.label)}</td></tr>")
    train, test, number_is = e(_("train")), e(_("test")), e(_("the report's number is"))
    return ("<table><tr><th rowspan=2>" + e(_("line")) + "</th><th rowspan=2>" + e(_("report (train)")) + "</th>"
            f"<th rowspan=2>{number_is}</th>"
            "<th rowspan=2>" + e(_("ours, read")) + "</th>"
            f"<th colspan=2>{e(_(VARIANT_NAMES['mean']))} (mean)</th>"
            f"<th colspan=2>{e(_(VARIANT_NAMES['sum']))} (sum)</th>"
            "<th rowspan=2>" + e(_("seeds")) + f"</th></tr><tr><th>{train}</th><th>{test}</th><th>{train}</th>"
            f"<th>{test}</th></tr>" + "".join(rows) + "</table>")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
