"""A comparison of stored runs: their curves (a seed group as its mean and band) and the seed verdicts.

Compare (``ui/compare_page.py``) and the notebook API's ``Lab.compare`` (``experiments/lab.py``) draw and
judge runs through here, so a comparison reads the same in both. The verdicts are on validation accuracy at
each seed's last epoch (``seeds.VERDICT_BY``), seed groups without a validation set judged apart, on test.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from experiments.analysis import ranking, seeds, stats
from experiments.analysis.figures import BestMark, Curve, best_mark, colors_for_values, run_curve
from experiments.config import RunConfig, short_label
from experiments.i18n import _
from experiments.store import RunRecord


@dataclass(frozen=True)
class VerdictLine:
    """One seed group against the best one: what was tested (``subject``) and the verdict's sentence."""

    subject: str
    text: str


@dataclass(frozen=True)
class Verdicts:
    """The verdict lines of a comparison and the caption that says how they were reached (or why there is
    none: "" when there is nothing to say, e.g. single runs of one configuration)."""

    lines: list[VerdictLine]
    caption: str = ""


def config_of(run: RunRecord) -> RunConfig:
    """A compared run's settings (callers leave out the runs whose settings are unreadable)."""
    if run.config is None:
        raise ValueError(f"run {run.id} has unreadable settings")
    return run.config


def settings_text(config: RunConfig | None, names: Sequence[str]) -> str:
    """The settings that tell runs apart, as a short label (the usual four when none differ)."""
    if config is None:
        return ""
    return short_label(config, list(names) or ["hidden", "activation", "optimizer", "lr"])


def seed_curves(groups: Sequence[Sequence[RunRecord]], epochs: Mapping[int, list], differ: Sequence[str],
                metric: str, x_axis: str = "epoch", color_by: str = "run") -> list[Curve]:
    """One curve per run, or per seed group (its mean with a band), labelled by the settings in ``differ``;
    ``color_by`` a setting colours them on a scale over its values (default: distinct colours per curve)."""
    names = list(differ)
    color_values = [getattr(g[0].config, color_by) if color_by != "run" else i for i, g in enumerate(groups)]
    colors: list[str | None] = (list(colors_for_values([_hashable(v) for v in color_values])) if color_by != "run"
                                else [None] * len(groups))
    curves = []
    for group, color in zip(groups, colors):
        head = group[0]
        label = short_label(config_of(head), names) if names else _("run {id}").format(id=head.id)
        if len(group) == 1:
            if len(groups) > 1 and sum(short_label(config_of(g[0]), names) == label for g in groups) > 1:
                label = _("{label} (run {id}, seed {seed})").format(label=label, id=head.id,
                                                                     seed=config_of(head).seed)
            hover = _("run {id}: {name}").format(id=head.id, name=head.name) + f"\n{settings_text(head.config, differ)}"
            curves.append(run_curve(label, epochs[head.id], metric, x_axis, hover, color))
        else:
            band = seeds.band([epochs[r.id] for r in group], metric, x_axis)
            hover = (_("runs {ids}").format(ids=", ".join(str(r.id) for r in group))
                     + f"\n{settings_text(head.config, differ)}")
            curves.append(Curve(label, band.x, band.mean, hover, color, band.low, band.high, members=len(group)))
    return curves


def best_marks(groups: Sequence[Sequence[RunRecord]], curves: Sequence[Curve], epochs: Mapping[int, list],
               metric: str, x_axis: str = "epoch") -> list[BestMark | None]:
    """The best-epoch star of every single run's curve (a seed group's mean has no one best epoch)."""
    return [best_mark(c.label, epochs[g[0].id], g[0].best_epoch, metric, x_axis, config_of(g[0]).monitor)
            for g, c in zip(groups, curves) if len(g) == 1]


def seed_verdicts(groups: Sequence[Sequence[RunRecord]], names: Sequence[str]) -> Verdicts:
    """Seed verdicts on validation accuracy at each seed's last epoch (never the best epoch, which is chosen on
    those numbers; the best/last switch does not move it); groups without a validation set apart, on test."""
    split = ranking.split_by_validation(groups)
    validated = seeds.verdict_subject(ranking.RANK_METRIC)
    unvalidated = seeds.verdict_subject(ranking.FALLBACK_METRIC)
    lines = [VerdictLine(validated, line) for line in seeds.verdicts(split.validated, list(names))]
    lines += [VerdictLine(_("{subject}, runs without a validation set").format(subject=unvalidated), line)
              for line in seeds.verdicts(split.unvalidated, list(names), metric=ranking.FALLBACK_METRIC)]
    if not lines and any(len(g) > 1 for g in groups) and len(groups) > 1:
        return Verdicts([], _("A verdict needs at least two configurations with two or more seeds each, all with a "
                              "validation set or all without.") if split.note() else
                        _("A verdict needs at least two configurations with two or more seeds each."))
    if not lines:
        return Verdicts([])
    tested = validated if split.validated else unvalidated
    caption = " ".join(n for n in (stats.test_name(tested) + ".", seeds.VERDICT_RULE, stats.SMALL_N_NOTE,
                                   split.note("groups"), ranking.WHY_NOT_TEST) if n)
    return Verdicts(lines, caption)


def _hashable(value: Any) -> Any:
    return "-".join(map(str, value)) if isinstance(value, tuple) else value
