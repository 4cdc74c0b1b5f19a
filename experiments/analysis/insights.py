"""The Insights of one selection: importance beside its noise floor, and the verdict table, as data and text.

``compute`` runs the analysis once; the dashboard lays the result out, and ``python -m experiments insights``
prints ``text_lines`` or ``to_dict`` (JSON), so the page and the terminal show the same numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from experiments.analysis.importance import SHUFFLES, ImportanceResult, importance
from experiments.analysis.insight_figures import interval_text
from experiments.analysis.selection import Metric, Selection, Source, SourceKind, for_verdict, select
from experiments.analysis.verdict_table import VerdictTable, verdict_table
from experiments.config import RunConfig
from experiments.i18n import _, decimal, ngettext
from experiments.store import RunStore
from experiments.sweeps.spec import TAG_PREFIX

MAX_REPLICATES = 24  # runs one click queues


@dataclass(frozen=True)
class Insights:
    source: Source
    selection: Selection
    importance: ImportanceResult
    table: VerdictTable

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` (NaN written as null)."""
        imp = self.importance
        return {
            "selection": self.source.describe(), "runs": [r.id for r in self.selection.runs],
            "metric": self.selection.metric.value, "notes": self.selection.notes, "settings": self.selection.settings,
            "importance": {"method": imp.method, "shuffles": imp.shuffles, "unit": "accuracy points squared",
                           "floors": imp.floors,
                           "replicated_configs": imp.replicated_configs, "note": imp.note,
                           "ranking": [{"setting": r.setting, "importance": r.importance,
                                        "above_floor": r.above_floor} for r in imp.ranking]},
            "verdicts": {"note": self.table.note, "rows": [
                {"config": r.label, "runs": r.run_ids, "n": r.n, "mean": _num(r.mean),
                 "ci95": [_num(r.low), _num(r.high)], "best": r.best, "diff": r.diff, "p": r.p,
                 "p_bh": r.p_adjusted, "verdict": r.verdict}
                for r in self.table.rows]},
        }

    def text_lines(self) -> list[str]:
        """The same numbers for a terminal."""
        sel, imp = self.selection, self.importance
        lines = [ngettext("{selection}: {n} run, metric: {metric}", "{selection}: {n} runs, metric: {metric}",
                          len(sel.runs)).format(selection=self.source.describe(), n=len(sel.runs),
                                                metric=sel.metric.label),
                 *(_("note: {note}").format(note=n) for n in sel.notes), "",
                 _("importance ({method}):").format(method=imp.method)]
        for r in imp.ranking:
            floor = (_("  noise floor {floor}").format(floor=decimal(imp.floors[r.setting], 3))
                     if imp.floors is not None else "")
            mark = "" if r.above_floor is None else (_("  above the floor") if r.above_floor else _("  within noise"))
            lines.append(f"  {r.setting:<12} {decimal(r.importance, 3):>8}{floor}{mark}")
        lines.append(_("  (noise floors from the seed spread of {configs} replicated configurations, {shuffles} null "
                       "histories)").format(configs=imp.replicated_configs, shuffles=imp.shuffles)
                     if imp.floors is not None else f"  {imp.note}")
        words = (_("config"), "n", _("mean"), _("95% CI"), _("diff"), _("verdict"))
        lines += ["", _("verdicts ({metric}, one row per configuration, seeds pooled):").format(
                      metric=self.table.metric_label),
                  "  {:<36} {:>2} {:>8} {:>17} {:>7}  {}".format(*words)]
        for row in self.table.rows:
            mean, ci = interval_text(row.mean, row.low, row.high)
            lines.append(f"  {row.label[:36]:<36} {row.n:>2} {mean:>8} {ci:>17} {row.diff_text:>7}  {row.verdict}")
        lines.append("  " + self.table.note)
        return lines


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def compute(store: RunStore, source: Source, metric: Metric | None = None, include_pruned: bool = False,
            shuffles: int = SHUFFLES) -> Insights:
    """Select the runs (InsightError for a selection that cannot be judged) and analyse them."""
    selection = select(store, source, metric, include_pruned)
    return Insights(source, selection, importance(selection, shuffles=shuffles),
                    verdict_table(for_verdict(store, selection)))


@dataclass(frozen=True)
class ReplicatePlan:
    """Seed replicates to queue so that a selection gets a noise floor: one new seed per configuration."""

    configs: list[RunConfig]
    tags: list[str]     # so the replicates fall into the same selection (its sweep tag or tag)
    left_out: int       # configurations beyond ``limit``


def replicate_plan(selection: Selection, source: Source, limit: int = MAX_REPLICATES) -> ReplicatePlan:
    """One more seed (the next unused one) for each configuration with a single seed, best first."""
    from experiments.analysis.seeds import group_by_config

    value_of = {r.id: v for r, v in zip(selection.runs, selection.values)}
    groups = [g for g in group_by_config(selection.runs) if len(g) == 1 and g[0].config is not None]
    groups.sort(key=lambda g: -value_of[g[0].id])
    configs = [g[0].config.replace(seed=g[0].config.seed + 1) for g in groups[:limit]]
    tags = {SourceKind.SWEEP: [TAG_PREFIX + source.value.removeprefix(TAG_PREFIX)],
            SourceKind.TAG: [source.value]}.get(source.kind, [])
    return ReplicatePlan(configs, ["replicate", *tags], max(0, len(groups) - limit))
