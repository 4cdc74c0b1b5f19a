"""The dashboard's charts in Spanish: titles, axes, legends, hovers and the number marks; English by default."""
from __future__ import annotations

import re

from experiments import i18n
from experiments.analysis.digit_figures import probabilities_figure
from experiments.analysis.dynamics_figures import penalty_figure
from experiments.analysis.figures import Curve, LiveRun, compare_figure, live_figure
from experiments.analysis.insight_figures import interval_text
from experiments.analysis.lr_find_figure import lr_find_figure

# English words a Spanish chart must not show (whole words).
ENGLISH_WORDS = ("epoch", "loss", "accuracy", "train", "test", "validation", "seeds", "mean", "learning", "rate",
                 "chance", "digit", "probability", "smoothed", "per", "batch", "example", "penalty", "the", "of")
EPOCHS = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.1 / e, "val_loss": 1.2 / e, "train_acc": 0.8 + e / 100,
           "test_acc": 0.79 + e / 100, "val_acc": 0.78 + e / 100, "l2_penalty": 0.01} for e in (1, 2, 3)]


def _words(fig) -> str:
    """Every text a person reads on a figure: title, axis titles, legend, trace names, hovers, annotations."""
    layout = fig.layout
    parts = [layout.title.text, layout.xaxis.title.text, layout.yaxis.title.text, layout.legend.title.text]
    parts += [t.name for t in fig.data] + [getattr(t, "hovertemplate", None) for t in fig.data]
    parts += [a.text for a in layout.annotations or ()]
    text = " ".join(p for p in parts if p)
    return re.sub(r"%\{[^}]*\}|<[^>]+>", " ", text)  # Plotly's placeholders and line breaks


def _english_left(fig) -> list[str]:
    return sorted({w for w in re.findall(r"[A-Za-z]+", _words(fig)) if w.lower() in ENGLISH_WORDS})


def _figures():
    runs = [LiveRun("red A", EPOCHS, 3), LiveRun("red B", EPOCHS, 3)]
    curve = Curve("lr=0.1", [1, 2, 3], [0.9, 0.91, 0.92], low=[0.89] * 3, high=[0.93] * 3, members=3)
    return {"live loss": live_figure(runs, "loss"), "live acc": live_figure(runs[:1], "acc"),
            "compare": compare_figure([curve], "val_acc"), "penalty": penalty_figure(EPOCHS),
            "lr find": lr_find_figure([1e-4, 1e-3, 1e-2, 1e-1], [2.3, 2.0, 1.5, 3.0], [2.3, 2.1, 1.7, 2.2],
                                      1e-3, 1e-2),
            "probabilities": probabilities_figure([0.05] * 9 + [0.55], "dígito dibujado")}


def test_the_charts_read_in_spanish():
    with i18n.using("es"):
        figures = _figures()
    for name, fig in figures.items():
        assert not _english_left(fig), (name, _english_left(fig))
    assert figures["compare"].layout.xaxis.title.text == "época"
    assert figures["compare"].layout.yaxis.title.text == "exactitud de validación"
    assert figures["compare"].data[-1].name == "lr=0.1 (media de 3 semillas)"
    assert figures["live loss"].layout.yaxis.title.text == "pérdida (entropía cruzada)"
    assert figures["live loss"].layout.separators == ",."  # the ticks' decimal comma
    assert figures["probabilities"].data[0].text[-1] == "55,0\u00a0%"
    with i18n.using("es"):
        assert interval_text(0.9781, 0.976, 0.9802) == ("97,81\u00a0%", "[97,60; 98,02]")


def test_the_same_charts_stay_english_by_default():
    figures = _figures()
    assert figures["compare"].layout.xaxis.title.text == "epoch" and figures["live loss"].layout.separators is None
    assert _english_left(figures["live loss"])  # the check can fail: English words are found
    assert interval_text(0.9781, 0.976, 0.9802) == ("97.81%", "[97.60, 98.02]")
