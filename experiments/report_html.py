"""One self-contained HTML page: every reproduced comparison of the report, ours beside its numbers.

Plotly's JavaScript is inlined once (with the first figure), so the page works offline and can be mailed
as one file. Every text that could come from outside this module is escaped with ``html.escape``.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Sequence

import plotly.io as pio

from .outcomes import Outcome
from .presets import COMMON_ASSUMPTIONS
from .reference import load_reference
from .report_figures import comparison_figure
from .stats import SMALL_N_NOTE, TEST_NAME

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { background: #f4f8ff; border-left: 4px solid #4a7bd0; padding: .5em .8em; }
.holds { color: #1b7a1b; font-weight: 600; } .against { color: #b03a2e; font-weight: 600; }
.muted { color: #666; font-size: .9em; } blockquote { margin: .5em 0; color: #444; font-style: italic; }
"""


def render_report(outcomes: Sequence[Outcome], epochs, store_path: str = "", seeds_note: str = "") -> str:
    """The page for ``outcomes`` (from ``outcomes.collect``); ``epochs`` holds every run's epochs."""
    ref = load_reference()
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>The course report, reproduced</title><style>{STYLE}</style></head><body>",
             "<h1>The course report, reproduced with a correct network</h1>",
             f"<p class='muted'>Source: {e(ref.source)}. Generated {e(_now())}"
             f"{' from ' + e(store_path) if store_path else ''}.</p>",
             "<p>Each comparison of the report is rerun with our NumPy network, several seeds per setting. The "
             "report measured its accuracies on the <b>training</b> set; we show ours on the training set (a full "
             "pass after the epoch) and on the 10,000 test images. The report's own numbers come from a network "
             "it says had a bug, so the question is whether its <i>conclusions</i> hold, not its numbers.</p>",
             f"<p class='muted'>Seed verdicts: {e(TEST_NAME)}. {e(SMALL_N_NOTE)}{' ' + e(seeds_note) if seeds_note else ''}</p>",
             _summary(outcomes)]
    first = True
    for o in outcomes:
        parts.append(_section(o, epochs, first))
        first = first and not o.complete
    parts.append("<h2>Assumptions common to every comparison</h2><ul>" +
                 "".join(f"<li>{e(a)}</li>" for a in COMMON_ASSUMPTIONS) + "</ul>")
    parts.append("<h2>The report's caveats</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in ref.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary(outcomes: Sequence[Outcome]) -> str:
    e = html.escape
    rows = []
    for o in outcomes:
        cls = "holds" if o.status == "holds" else "against" if o.status.startswith("does not") else ""
        status = o.status if o.complete else "not reproduced yet"
        rows.append(f"<tr><td><a href='#{e(o.comparison.id)}'>{e(o.comparison.id)}</a></td>"
                    f"<td>{e(o.comparison.conclusion)}</td><td class='{cls}'>{e(status)}</td></tr>")
    return ("<h2>Summary</h2><table><tr><th>comparison</th><th>the report concluded</th>"
            "<th>for a correct network</th></tr>" + "".join(rows) + "</table>")


def _section(o: Outcome, epochs, include_js: bool) -> str:
    e = html.escape
    c = o.comparison
    out = [f"<h2 id='{e(c.id)}'>{e(c.title)}</h2>",
           f"<p>The report: <blockquote>{e(c.conclusion)}</blockquote></p>"]
    if not o.complete:
        out.append(f"<p class='verdict'>Not reproduced yet: <code>python -m experiments reproduce {e(c.id)}</code></p>")
        return "\n".join(out)
    out.append(f"<p class='verdict'>{e(o.verdict_line)}</p>")
    reduced = []
    if o.train_size:
        reduced.append(f"trained on the first {o.train_size} images only")
    if c.epochs_scale != 1:
        reduced.append(f"epochs scaled by {c.epochs_scale:g}")
    if reduced:
        out.append(f"<p class='against'>Reduced reproduction ({e(', '.join(reduced))}): not comparable with the "
                   f"report's numbers.</p>")
    out.append(_table(o))
    out.append("<ul>" + "".join(f"<li>The report: {e(r.claim.text)}. Ours: {e(r.verdict.text)}.</li>"
                                 for r in o.claims) + "</ul>")
    runs = o.runs_by_label()
    frame = epochs[epochs["run_id"].isin([i for ids in runs.values() for i in ids])]
    for metric in ("accuracy", "loss"):
        fig = comparison_figure(c, frame, runs, metric)
        out.append(pio.to_html(fig, full_html=False, include_plotlyjs=include_js,
                               config={"displaylogo": False, "responsive": True}))
        include_js = False
    out.append("<details><summary>Our choices where the report is silent</summary><ul>" +
               "".join(f"<li>{e(a)}</li>" for a in c.assumptions) + "</ul></details>")
    if o.group_id:
        out.append(f"<p class='muted'>Runs: group {e(o.group_id)}, ids "
                   f"{e(', '.join(str(i) for i in sorted({i for ids in runs.values() for i in ids})))}.</p>")
    return "\n".join(out)


def _table(o: Outcome) -> str:
    e = html.escape
    rows = []
    for line in o.lines:
        m = line.member
        report = f"{m.report_pct:.2f}%" if m.report_pct is not None else "-"
        what = e(m.report_what) if m.report_pct is not None else "(ours only)"
        reading = "mean over epochs 1-" + str(m.read_epoch) if m.measure == "mean" else f"after epoch {m.read_epoch}"
        note = " (running average)" if line.train_is_running_average else ""
        final = f"<br><span class='muted'>final: {e(line.final_test.text())}</span>" if m.measure == "mean" else ""
        rows.append(f"<tr><td>{e(m.label)}</td><td class='num'>{report}</td><td>{what}</td><td>{e(reading)}</td>"
                    f"<td class='num'>{e(line.train.text())}{note}</td><td class='num'>{e(line.test.text())}{final}</td>"
                    f"<td class='num'>{line.test.n}</td></tr>")
    return ("<table><tr><th>line</th><th>report (train)</th><th>the report's number is</th><th>ours, read</th>"
            "<th>ours: train</th><th>ours: test</th><th>seeds</th></tr>" + "".join(rows) + "</table>")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
