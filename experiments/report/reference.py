"""The course report's numbers, as facts: loaded from ``report_reference.json`` next to this file.

That file is a transcription of every number the report prints (its accuracies were measured on the
60,000-image *training* set). Nothing here is computed; presets.py pairs these numbers with our runs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

REFERENCE_PATH = Path(__file__).with_name("report_reference.json")


@dataclass(frozen=True)
class ReportRun:
    """One run of the report: the settings it states (None = not stated) and what it printed (% on train)."""

    label: str
    epochs: int
    sizes: tuple[int, ...] | None = None
    optimizer: str | None = None
    lr: float | None = None
    l2: float | None = None
    batch_size: int | None = None
    loss: tuple[float, ...] = ()                  # per-epoch training loss as printed
    train_accuracy_pct: tuple[float, ...] = ()    # per-epoch training accuracy, where printed
    final_train_accuracy_pct: float | None = None
    peak_train_accuracy_pct: float | None = None
    mean_train_accuracy_pct: float | None = None  # mean over the epochs, as the report averaged
    first_epoch_train_accuracy_pct: float | None = None
    first_epoch_loss: float | None = None
    final_loss: float | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReportRun:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"report run {d.get('label')!r}: unknown field {unknown[0]!r}")
        d = dict(d)
        for key in ("sizes", "loss", "train_accuracy_pct"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        if d.get("sizes") is None:
            d.pop("sizes", None)
        return cls(**d)


@dataclass(frozen=True)
class ReportComparison:
    """One comparison of the report: its runs and the conclusion it drew."""

    id: str
    title: str
    runs: tuple[ReportRun, ...]
    conclusion: str

    def run(self, label: str) -> ReportRun:
        for r in self.runs:
            if r.label == label:
                return r
        raise KeyError(f"the report's {self.id!r} comparison has no run {label!r}")


@dataclass(frozen=True)
class Reference:
    """The whole transcription: source, caveats, the base network and the comparisons in report order."""

    source: str
    notes: tuple[str, ...]
    base_network: dict[str, Any]
    comparisons: tuple[ReportComparison, ...]

    def comparison(self, comparison_id: str) -> ReportComparison:
        for c in self.comparisons:
            if c.id == comparison_id:
                return c
        raise KeyError(f"the report has no comparison {comparison_id!r}")


def parse_reference(data: dict[str, Any]) -> Reference:
    """The Reference held by a parsed ``report_reference.json``."""
    comparisons = tuple(
        ReportComparison(c["id"], c["title"], tuple(ReportRun.from_dict(r) for r in c["runs"]), c["report_conclusion"])
        for c in data["comparisons"])
    return Reference(data["source"], tuple(data["notes"]), dict(data["base_network"]), comparisons)


@lru_cache(maxsize=4)
def load_reference(path: str | Path = REFERENCE_PATH) -> Reference:
    """The report's numbers (cached; the file is part of the product, not of ../shared)."""
    with open(path, encoding="utf-8") as f:
        return parse_reference(json.load(f))
