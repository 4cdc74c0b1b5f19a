"""The course report's HTML page and its charts in Spanish: the page's own words, table headers, legends, hovers
and axes, with Spanish numbers; the same page stays English by default."""
from __future__ import annotations

import re

from experiments import i18n
from experiments.report import outcomes, presets
from experiments.report.figures import comparison_figure
from experiments.report.html import render_report
from experiments.store.export import epochs_frame
from tests.report.test_report import fake_reproduction

# The page's own English words that must not remain in Spanish (the report's quoted conclusions, titles and
# caveats are the course report's data, kept as its reference file words them, and are taken out first).
ENGLISH_WORDS = ("summary", "comparison", "assumptions", "common", "every", "the", "report", "concluded", "between",
                 "seeds", "seed", "line", "train", "test", "ours", "read", "after", "epoch", "epochs", "source",
                 "generated", "caveats", "accuracy", "loss", "mean", "over", "verdicts", "running", "average")


def _page_words(page: str) -> str:
    """The page's text without its scripts (plotly.js), styles, tags, and the report's own data."""
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<blockquote>.*?</blockquote>|<code>.*?</code>", " ", page)
    page = re.sub(r"(?s)<h2 id=[^>]*>.*?</h2>", " ", page)  # a comparison's title: the report's data
    page = re.sub(r"(?s)<h2>Las advertencias del informe</h2><ul>.*?</ul>", " ", page)  # the report's own notes
    return re.sub(r"<[^>]+>", " ", page)


def _english_left(text: str) -> list[str]:
    # settings (lr=0.1), reduction names ('mean'), the report file's own title and the group's id
    text = re.sub(r"\b\w*[=_]\w*\b|\(mean\)|\(sum\)|&#x27;\w+&#x27;|Fuente: .*?Generado|grupo \S+", " ", text)
    return sorted({w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH_WORDS})


def test_the_html_report_reads_in_spanish(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, presets.variants([lr]), seeds=2)
    with i18n.using("es"):
        page = render_report(outcomes.collect_variants(store, [lr]), epochs_frame(store, ids),
                             "el almacén de ejecuciones por defecto")
    assert "<html lang='es'>" in page and "<title>El informe del curso, reproducido</title>" in page
    assert "<h2>Resumen</h2>" in page and "Supuestos comunes a todas las comparaciones" in page
    assert "68,39\u00a0%" in page and "97,25\u00a0%" in page  # the report's numbers with the Spanish mark
    assert "Exactitud (%)" in page and "Pérdida (entropía cruzada)" in page  # the charts' axes
    left = _english_left(_page_words(page))
    assert not left, left


def test_the_html_report_stays_english_by_default(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    page = render_report(outcomes.collect(store, [lr]), epochs_frame(store, ids))
    assert "<html lang='en'>" in page and "<h2>Summary</h2>" in page and "68.39%" in page
    assert _english_left(_page_words(page))  # the check above can fail: the English page is caught


def test_a_report_chart_has_spanish_title_axes_legend_and_hover(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, [lr], seeds=2)
    [outcome] = outcomes.collect(store, [lr])
    with i18n.using("es"):
        fig = comparison_figure(lr, epochs_frame(store, ids), outcome.runs_by_label(), "accuracy")
    assert fig.layout.xaxis.title.text == "Época" and fig.layout.yaxis.title.text == "Exactitud (%)"
    names = [t.name for t in fig.data if t.name]
    assert "nuestra: lr=0.1 (prueba, 2 semillas)" in names
    assert any(n.startswith("informe: lr=0.1: 68,39\u00a0% (") for n in names)
    ours = next(t for t in fig.data if t.name == "nuestra: lr=0.1 (prueba, 2 semillas)")
    assert ours.hovertemplate.startswith("época %{x}: %{customdata}") and "," in ours.customdata[0]
    left = _english_left(" ".join(names))
    assert not left, left
