"""The verdict table, the insights text and a fix trial's verdict in Spanish (the words and the numbers)."""
from __future__ import annotations

from experiments import i18n
from experiments.analysis import stats
from experiments.analysis.fix_trial import FixVerdict
from experiments.analysis.verdict_table import table_from_samples


def _table():
    return table_from_samples(["lr 0.1", "lr 0.01", "lr 1"], [[0.97, 0.971, 0.972], [0.95, 0.951, 0.952], [0.6]],
                              metric_label="exactitud de validación")


def test_the_verdict_table_reads_in_spanish():
    with i18n.using("es"):
        table = _table()
        rows = {r.label: r for r in table.rows}
        assert rows["lr 0.1"].verdict == "mejor" and rows["lr 0.1"].diff_text == "mejor"
        assert rows["lr 0.01"].diff_text == "-2,00" and rows["lr 0.01"].verdict.startswith("realmente peor (")
        assert rows["lr 1"].verdict == "una semilla: corre más semillas para tener un veredicto"
        assert table.note.startswith("1 comparación con la mejor mediante la prueba t de Welch sobre la exactitud "
                                     "de validación, valores p ajustados por Benjamini-Hochberg (tasa de falsos "
                                     "descubrimientos 5\u00a0%)")
    english = {r.label: r for r in _table().rows}
    assert english["lr 0.1"].verdict == "best" and english["lr 0.01"].diff_text == "-2.00"


def test_a_fix_verdict_reads_in_spanish():
    with i18n.using("es"):
        verdict = stats.verdict([0.95, 0.951, 0.952], [0.90, 0.901, 0.902], "arreglo", "original")
        text = FixVerdict([0.90, 0.901, 0.902], [0.95, 0.951, 0.952], verdict, pending=1, failed=0).text
    assert text.startswith("El arreglo ayudó: ") and "con los ajustes originales" in text
    assert text.endswith(" (falta 1 ejecución).") and "95,10\u00a0%" in text
