"""The course report in Spanish: its comparisons' titles, conclusions, caveats and line names (worded from the
English identities by ``Comparison.shown_title`` / ``shown_conclusion`` and ``presets.line_name``), the HTML page
(its own words, the report's, table headers, legends, hovers and axes) and its charts, with Spanish numbers; the
same texts stay English by default."""
from __future__ import annotations

import re

import pytest

from experiments import i18n
from experiments.report import outcomes, presets, reference_messages
from experiments.report.figures import comparison_figure
from experiments.report.html import render_report
from experiments.report.reference import load_reference
from experiments.store.export import epochs_frame
from tests.report.test_report import fake_reproduction

# English words that must not remain in Spanish: the page's own, and those of the report's titles, conclusions,
# caveats and line names.
ENGLISH_WORDS = ("summary", "comparison", "assumptions", "common", "every", "the", "report", "concluded", "between",
                 "seeds", "seed", "line", "train", "test", "ours", "read", "after", "epoch", "epochs", "source",
                 "generated", "caveats", "accuracy", "loss", "mean", "over", "verdicts", "running", "average",
                 "with", "without", "vs", "plain", "gradient", "descent", "learning", "rate", "optimizer",
                 "oscillates", "ends", "converges", "smoothly", "gives", "lower", "steadier", "higher", "were",
                 "printed", "fluctuates", "around", "peak", "batch", "second", "hidden", "layer", "much", "faster",
                 "convergence", "neurons", "neuron", "beat", "slightly", "network", "trained", "for",
                 "and", "best", "configuration", "reached", "about", "training", "only", "measured", "set", "not",
                 "per", "probably", "bug", "image", "got", "same", "prediction", "expected", "numbers", "state",
                 "must", "choose", "value", "itself", "admits")


def _page_words(page: str) -> str:
    """The page's text without its scripts (plotly.js), styles, tags, commands (<code>) and the comparisons' ids
    (code names, the same in every language)."""
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<code>.*?</code>", " ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub("|".join(re.escape(i) for i in presets.COMPARISON_IDS), " ", page)


def _report_texts(factor: float) -> list[str]:
    """Every text of the report a person reads, at one length: titles, conclusions, caveats, each line's name
    (ours at that length, the report's own and its runs'), each worded in the current language."""
    texts = [reference_messages.shown(note) for note in load_reference().notes]
    for comparison in presets.COMPARISONS:
        scaled = comparison.scaled(factor)
        texts += [scaled.shown_title, scaled.shown_conclusion]
        for m in scaled.members:
            texts += [presets.line_name(m.label), presets.line_name(m.reported_label)]
            texts += [presets.line_name(m.report.label)] if m.report else []
    return texts


@pytest.mark.parametrize("factor", [1, 0.1])
def test_the_reports_titles_conclusions_caveats_and_line_names_read_in_spanish(factor):
    with i18n.using("es"):
        texts = _report_texts(factor)
    left = {text: found for text in texts if (found := _english_left(text))}
    assert not left, left
    assert "época 4 (en el informe: época 39)" not in texts  # the long run's two lines stay apart without it...
    if factor == 0.1:  # ...but two lengths scaled to one epoch are told apart by the report's, worded too
        assert "784-128-64-10, época 1 (en el informe: 784-128-64-10, época 10)" in texts
        assert "784-128-10 (solo nuestra), época 1 (en el informe: 784-128-10 (solo nuestra), época 10)" in texts
        assert {"época 4", "1 época", "5 épocas"} <= set(texts)


@pytest.mark.parametrize("factor", [1, 0.1])
def test_the_check_finds_the_english_words_in_english(factor):
    """English is the default and reads as the labels and the reference file word them; the check catches it."""
    texts = _report_texts(factor)
    assert _english_left(" ".join(texts))
    for comparison in presets.COMPARISONS:
        scaled = comparison.scaled(factor)
        assert (scaled.shown_title, scaled.shown_conclusion) == (comparison.title, comparison.conclusion)
        assert all(presets.line_name(m.label) == m.label for m in scaled.members)


def test_the_conclusions_numbers_read_the_spanish_way():
    with i18n.using("es"):
        said = {c.id: c.shown_conclusion for c in presets.COMPARISONS}
        notes = [reference_messages.shown(note) for note in load_reference().notes]
    assert "68,38\u00a0%" in said["learning-rate"] and "97,25\u00a0%" in said["learning-rate"]
    assert "de 1,3542 a 0,0625" in said["second-hidden-layer"] and "68,385\u00a0%" in notes[0]
    for text in [*said.values(), *notes]:  # results with the comma and a space before %; settings stay 0.1
        assert not re.search(r"\d\.\d+ ?%|\d%", text), text


def test_a_lines_name_words_each_piece():
    with i18n.using("es"):
        assert [presets.line_name(label) for label in (
            "no optimizer", "1 epoch", "40 epochs", "epoch 39", "1 neuron", "96 neurons", "lr=0.1", "Adam + L2",
            "784-128-10 (ours only), epoch 10", "epoch 4 (the report's epoch 39)")] == [
            "sin optimizador", "1 época", "40 épocas", "época 39", "1 neurona", "96 neuronas", "lr=0.1",
            "Adam + L2", "784-128-10 (solo nuestra), época 10", "época 4 (en el informe: época 39)"]


def _english_left(text: str) -> list[str]:
    # settings (lr=0.1), reduction names ('mean'), the report file's own title and the group's id
    text = re.sub(r"\b\w*[=_]\w*\b|\(mean\)|\(sum\)|&#x27;\w+&#x27;|Fuente: .*?Generado|grupo \S+", " ", text)
    return sorted({w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH_WORDS})


def test_the_html_report_reads_in_spanish(store):
    lr = presets.get_comparison("learning-rate")
    ids = fake_reproduction(store, presets.variants([lr]), seeds=2)
    # a reduced reproduction of the second layer: its lines' names hold "(ours only)" and "(the report's ...)"
    second = presets.get_comparison("second-hidden-layer").scaled(0.1)
    ids += fake_reproduction(store, [second], seeds=2, group="report-20980101T000000Z", tags=["epochs-scale:0.1"])
    with i18n.using("es"):
        page = render_report(outcomes.collect_variants(store, presets.COMPARISONS), epochs_frame(store, ids),
                             "el almacén de ejecuciones por defecto")
    assert "<h2 id='learning-rate'>Tasa de aprendizaje 0.1 frente a 0.001" in page
    assert "<td>784-128-10 (solo nuestra), época 1 (en el informe: 784-128-10 (solo nuestra), época 10)</td>" in page
    assert "termina en 68,38\u00a0%" in page  # the report's conclusion, quoted in Spanish
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
