"""Seed groups: which runs differ only by seed, their mean and band, and the verdict between groups.

The statistics belong to experiments.analysis.stats (spread per epoch, Welch's t-test verdict); this module
groups runs and hands their numbers over. A statistic over seeds must count each seed once: a run queued
twice (a double click, a rerun of the same command) repeats its (config, seed) and would pass for an extra,
perfectly agreeing seed. ``one_per_seed`` collapses such repeats; every grouping here goes through it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from experiments.analysis import stats
from experiments.config import short_label
from experiments.i18n import _, ngettext
from experiments.store.best import SummaryBy, best_epoch_name
from nn.status import RunStatus

# The epoch a verdict reads each seed at: the last, fixed before training (the config's epochs). Never the
# best epoch: that epoch is picked on the validation numbers the verdict would then test, and a test on the
# numbers it selected on favours the noisier configuration (its lucky epochs are picked). The best/last
# switch of the tables does not move it.
VERDICT_BY = SummaryBy.LAST


def __getattr__(name: str) -> str:
    """``VERDICT_EPOCH`` and ``VERDICT_RULE``: constants in words, read in the current language each time."""
    if name == "VERDICT_EPOCH":
        return _("each seed's last epoch")
    if name == "VERDICT_RULE":
        return _("The verdict reads every seed at its last epoch, fixed before training, whatever the table shows: "
                 "the {best_epoch} is picked on these same validation numbers, and a test of the numbers it "
                 "selected on would favour the noisier configuration.").format(best_epoch=best_epoch_name())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def verdict_subject(metric: str = "val_acc") -> str:
    """What a verdict tests, in words: "val. accuracy at each seed's last epoch" (or test accuracy)."""
    if metric == "val_acc":
        return _("val. accuracy at each seed's last epoch")
    if metric == "test_acc":
        return _("test accuracy at each seed's last epoch")
    return _("{metric} at each seed's last epoch").format(metric=metric)


@dataclass(frozen=True)
class Band:
    """Mean of a seed group per epoch, with mean ± one standard deviation as the band."""

    x: list[float]
    mean: list[float]
    low: list[float]
    high: list[float]


@dataclass(frozen=True)
class OnePerSeed:
    """Runs with each (config, seed) once (``kept``, input order) and the repeats left out (``dropped``)."""

    kept: list[Any]
    dropped: list[Any] = field(default_factory=list)

    def note(self) -> str:
        """One sentence saying which runs were not counted, or "" when none was."""
        if not self.dropped:
            return ""
        ids = ", ".join(f"#{r.id}" for r in sorted(self.dropped, key=lambda r: r.id))
        return ngettext("run {ids} repeats the settings and seed of another run and is counted once",
                        "runs {ids} repeat the settings and seed of another run and are counted once",
                        len(self.dropped)).format(ids=ids)


def _preference(run: Any) -> tuple[int, int, int]:
    """Which of two runs with the same config and seed to keep: most epochs, then finished, then newest."""
    return int(run.epochs_done or 0), int(run.status == RunStatus.FINISHED), int(run.id)


def one_per_seed(runs: Sequence[Any], key: Callable[[Any], Hashable] | None = None) -> OnePerSeed:
    """Collapse runs that repeat a (config, seed): keep the one with most epochs (then finished, then newest).

    ``key`` names a run's settings without its seed (default: its whole config with the seed zeroed); the
    seed is added to it here.
    """
    key = key or (lambda r: r.config.replace(seed=0).to_json())
    best: dict[tuple[Hashable, Any], Any] = {}
    for run in runs:
        k = (key(run), run.config.seed)
        if k not in best or _preference(run) > _preference(best[k]):
            best[k] = run
    chosen = {id(r) for r in best.values()}
    return OnePerSeed([r for r in runs if id(r) in chosen], [r for r in runs if id(r) not in chosen])


class SeedGroup(list[Any]):
    """The runs of one config, one per seed (a list, as the pages use it), plus the repeats left out."""

    def __init__(self, runs: Sequence[Any] = (), duplicates: Sequence[Any] = ()) -> None:
        super().__init__(runs)
        self.duplicates: list[Any] = list(duplicates)


def group_by_config(runs: Sequence[Any]) -> list[SeedGroup]:
    """Runs grouped by every setting except the seed, in first-seen order, each seed counted once."""
    groups: dict[str, list[Any]] = {}
    for run in runs:
        groups.setdefault(run.config.replace(seed=0).to_json(), []).append(run)
    out = []
    for members in groups.values():
        once = one_per_seed(members)
        out.append(SeedGroup(once.kept, once.dropped))
    return out


def band(epoch_lists: Sequence[Sequence[Mapping[str, Any]]], metric: str, x_axis: str = "epoch") -> Band:
    """Per-epoch spread of ``metric`` over the group's runs (``x_axis`` "elapsed" uses the mean seconds)."""
    frame = pd.DataFrame([{**e, "run_id": i} for i, epochs in enumerate(epoch_lists) for e in epochs],
                         columns=["run_id", "epoch", metric, "elapsed"])
    ids = list(range(len(epoch_lists)))
    rows = stats.seed_bands(frame, {"group": ids}, metric)
    x = rows["epoch"].tolist()
    if x_axis == "elapsed":
        seconds = stats.seed_bands(frame, {"group": ids}, "elapsed").set_index("epoch")["mean"]
        x = [float(seconds.get(e, float("nan"))) for e in x]
    mean, std = rows["mean"].tolist(), rows["std"].tolist()
    floor, ceiling = value_bounds(metric)
    return Band(x, mean, [max(m - s, floor) for m, s in zip(mean, std)],
                [min(m + s, ceiling) for m, s in zip(mean, std)])


def value_bounds(metric: str) -> tuple[float, float]:
    """What ``metric`` can be: an accuracy lies in [0, 1], a loss is never negative. A band of mean ± one
    standard deviation is cut to it: a seed that diverged (10%) beside one at 97% gave a band past 100%."""
    return (0.0, 1.0) if metric.endswith("acc") else (0.0, math.inf)


def score(run: Any, metric: str = "val_acc", by: SummaryBy = SummaryBy.BEST) -> float | None:
    """``metric`` of a run at its best (or last) epoch; a plain record without ``summary`` gives its attribute."""
    summary = run.summary(by) if hasattr(run, "summary") else run
    value: float | None = getattr(summary, metric, None)
    return value


def verdicts(groups: Sequence[Sequence[Any]], names: Sequence[str], metric: str = "val_acc") -> list[str]:
    """One line per seed group against the best one: "a real difference" or "within seed noise" (Welch).

    Only groups with at least two distinct seeds are judged, on ``metric`` (validation accuracy unless told
    otherwise) at each run's last epoch (``VERDICT_BY``: an epoch not chosen on the numbers tested); a run
    repeating a group's (config, seed) is counted once, and the line says so. Groups should all have a
    validation set or none (see ``ranking.split_by_validation``).
    """
    once = [one_per_seed([*g, *getattr(g, "duplicates", ())]) for g in groups]
    finals = [[v for r in o.kept if (v := score(r, metric, VERDICT_BY)) is not None] for o in once]
    judged = [i for i, values in enumerate(finals) if len(values) >= 2]
    if len(judged) < 2:
        return []
    best = max(judged, key=lambda i: stats.spread(finals[i]).mean)
    name = {i: short_label(once[i].kept[0].config, names) for i in judged}
    lines = []
    for i in judged:
        if i != best:
            text = stats.verdict(finals[best], finals[i], name[best], name[i]).text
            lines.append("; ".join([text, *(n for n in (once[best].note(), once[i].note()) if n)]))
    return lines
