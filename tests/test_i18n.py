"""The lab's languages (experiments/i18n.py): every marked text is in the Spanish catalog, translated, not fuzzy
and with the same placeholders; plural forms and numbers per language; the language of a context, of a link
and of the environment; the exercises' own Spanish tables; and the translated modules reading in Spanish.

The catalog is checked against a fresh extraction by Babel (the same one ``pybabel extract -F babel.cfg``
does), so a new ``_()`` without its translation fails here, not in front of a class.
"""
from __future__ import annotations

import contextvars
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from experiments import i18n
from experiments.analysis import seeds, stats
from experiments.analysis.rounding import acc_percent
from experiments.config import ConfigError, RunConfig, schema
from experiments.exercises.spec import TRANSLATIONS, load_all
from tests.conftest import ROOT

SPANISH_PO, _MO = i18n.catalog_paths("es")
# English words that must not remain in a Spanish text of the translated modules (whole words).
ENGLISH_WORDS = ("the", "and", "with", "seed", "seeds", "learning", "rate", "epoch", "epochs", "batch", "loss",
                 "accuracy", "validation", "training", "within", "noise", "must", "got", "layer", "weights",
                 "lower", "raise", "try", "not", "queued", "settings")


def _extracted() -> dict[str, tuple[str, ...]]:
    """Every message Babel extracts with the project's babel.cfg: msgid -> (msgid, plural) as written."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        forms = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        found[forms[0]] = forms
    return found


def _catalog():
    with SPANISH_PO.open("rb") as source:
        return read_po(source, locale="es")


def _fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_every_marked_text_is_in_the_spanish_catalog_translated_and_not_fuzzy():
    extracted, catalog = _extracted(), _catalog()
    assert len(extracted) > 200  # the settings, sidebar, verdicts, diagnoses, report wording and exercises
    problems = []
    for msgid, forms in extracted.items():
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(strings) or len(strings) != (catalog.num_plurals if len(forms) > 1 else 1):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        wanted = set().union(*(_fields(f) for f in forms))
        problems += [f"placeholders differ: {msgid!r} -> {s!r}" for s in strings if _fields(s) != wanted]
    assert not problems, "\n".join(problems)
    assert not catalog.fuzzy  # a fuzzy header makes `pybabel compile` skip the whole catalog


def test_the_catalog_holds_no_text_the_code_no_longer_uses():
    """A text reworded in the code leaves its old entry behind unless someone removes it; an obsolete entry is
    clutter a translator would keep translating for nothing."""
    extracted = _extracted()
    obsolete = [m.id for m in _catalog() if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in extracted]
    assert not obsolete, obsolete


def test_the_catalog_holds_each_text_once():
    """Two branches that translate the same text each append an entry; Babel then reads the catalog without a word
    and keeps one of the two translations, not necessarily the one reviewed. Each entry is read on its own here."""
    header = 'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    seen: dict[object, int] = {}
    twice = []
    for block in SPANISH_PO.read_text(encoding="utf-8").split("\n\n")[1:]:
        with io.BytesIO((header + block + "\n").encode()) as one:
            ids = [m.id for m in read_po(one, locale="es") if m.id]
        for msgid in ids:
            key = msgid if isinstance(msgid, str) else msgid[0]
            seen[key] = seen.get(key, 0) + 1
            if seen[key] == 2:
                twice.append(key)
    assert len(seen) > 1000 and not twice, twice


def test_the_catalog_passes_babels_own_checks():
    """What `pybabel compile` checks before it writes a .mo: a text that Babel takes for a %-format ("95% intervals"
    reads as "% i") must keep the same %-placeholders in Spanish, or the command refuses the whole catalog."""
    problems = [f"{message.id!r}: {error}" for message, errors in _catalog().check() for error in errors]
    assert not problems, "\n".join(problems)


def test_the_compiled_catalog_is_built_from_the_po_when_missing(tmp_path, monkeypatch):
    po, _mo = i18n.catalog_paths("es")
    target = tmp_path / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / po.name).write_bytes(po.read_bytes())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._translations.cache_clear()
    try:
        with i18n.using("es"):
            assert i18n._("Learning rate") == "Tasa de aprendizaje"
        assert (target / "messages.mo").exists()
    finally:
        monkeypatch.undo()
        i18n._translations.cache_clear()


def test_a_read_only_install_compiles_the_catalog_in_memory(tmp_path, monkeypatch):
    po, _mo = i18n.catalog_paths("es")
    target = tmp_path / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / po.name).write_bytes(po.read_bytes())

    def read_only(force: bool = False) -> list[Path]:
        raise PermissionError(13, "Permission denied", str(target / "messages.mo"))

    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "compile_catalogs", read_only)  # as a read-only site-packages would refuse
    i18n._translations.cache_clear()
    try:
        with i18n.using("es"):
            assert i18n._("Learning rate") == "Tasa de aprendizaje"
        assert not (target / "messages.mo").exists()
    finally:
        monkeypatch.undo()
        i18n._translations.cache_clear()


def test_plural_forms_follow_the_language():
    with i18n.using("en"):
        assert [i18n.ngettext("{n} seed", "{n} seeds", n).format(n=n) for n in (1, 2)] == ["1 seed", "2 seeds"]
    with i18n.using("es"):
        assert [i18n.ngettext("{n} seed", "{n} seeds", n).format(n=n) for n in (1, 2, 0)] == [
            "1 semilla", "2 semillas", "0 semillas"]
        assert stats.small_n_note(1).startswith("Con 1 semilla por configuración")
        assert stats.small_n_note(3).startswith("Con 3 semillas por configuración")


def test_numbers_are_written_for_the_language():
    with i18n.using("en"):
        assert (acc_percent(0.9237), i18n.decimal(1.234, 2, sign=True), i18n.whole(60000)) == (
            "92.37%", "+1.23", "60,000")
    with i18n.using("es"):
        assert (acc_percent(0.9237), i18n.decimal(1.234, 2, sign=True), i18n.whole(60000)) == (
            "92,37\u00a0%", "+1,23", "60.000")
        assert stats.spread([0.9781, 0.9779]).text() == "97,80 ± 0,01\u00a0%"


def test_english_is_the_default_and_each_context_keeps_its_own_language():
    assert i18n.language() == "en"
    assert contextvars.copy_context().run(lambda: (i18n.set_language("es-CR"), i18n.language())[1]) == "es"
    assert i18n.language() == "en"  # the other context's choice did not leak here
    assert i18n.set_language("fr") == "en"  # not offered: English
    assert i18n._("Learning rate") == "Learning rate"


@pytest.mark.parametrize(("header", "chosen"), [
    ("es-CR,es;q=0.9,en;q=0.8", "es"), ("en-US,en;q=0.9,es;q=0.8", "en"), ("fr-FR,fr;q=0.9,es;q=0.5", "es"),
    ("de;q=0.2,es;q=0.9", "es"), ("fr-FR", None), ("", None), (None, None)])
def test_the_browsers_preferred_language(header, chosen):
    assert i18n.preferred(header) == chosen


@pytest.mark.parametrize(("environ", "chosen"), [
    ({"LANG": "es_CR.UTF-8"}, "es"), ({"LANG": "C.UTF-8"}, "en"), ({}, "en"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "es_ES.UTF-8"}, "en"), ({"LC_MESSAGES": "es", "LANG": "en_GB"}, "es")])
def test_the_command_lines_language_from_the_environment(environ, chosen):
    assert i18n.from_environment(environ) == chosen


def _english_left(text: str) -> list[str]:
    words = set(re.findall(r"[A-Za-z_]+", text.replace("**", "")))  # code names (val_loss) are one word
    return sorted(w for w in words if w.lower() in ENGLISH_WORDS)


def test_settings_and_their_refusals_read_in_spanish():
    with i18n.using("es"):
        labels = {e.name: e.setting.label for e in schema()}
        assert labels["lr"] == "Tasa de aprendizaje" and labels["batch_size"] == "Tamaño de lote"
        for entry in schema():
            assert not _english_left(entry.setting.label + " " + entry.setting.help), entry.name
        for bad in ({"lr": "abc"}, {"hidden": "128,,64"}, {"epochs": 0}, {"warmup_epochs": 20},
                    {"batch_size": 60000, "train_size": 100}, {"learning_rate": 0.1}):
            with pytest.raises(ConfigError) as refused:
                RunConfig.from_dict(bad)
            # a refusal names the setting as the command line and links do (epochs, lr): the same in any language
            named = {e.name for e in schema()} | {"learning_rate"}
            assert not [w for w in _english_left(str(refused.value)) if w not in named], str(refused.value)
    with pytest.raises(ConfigError, match="lr must be a number > 0 and <= 10"):
        RunConfig(lr="abc")  # and English outside


def test_verdicts_read_in_spanish_with_spanish_numbers():
    with i18n.using("es"):
        real = stats.verdict([0.95, 0.951, 0.952], [0.90, 0.901, 0.902], "tasa 0.1", "tasa 0.001")
        assert real.text.startswith("una diferencia real: tasa 0.1 - tasa 0.001 = +5,00 puntos (t de Welch = ")
        noise = stats.verdict([0.90, 0.95], [0.91, 0.94], "A", "B")
        assert noise.text.startswith("dentro del ruido entre semillas")
        for text in (real.text, noise.text, stats.test_name(seeds.verdict_subject()), seeds.VERDICT_RULE,
                     stats.SMALL_N_NOTE):
            assert not _english_left(text), text  # the best epoch's name (store/best.py) included
    assert stats.verdict([0.95, 0.951], [0.90, 0.901]).text.startswith("a real difference: A - B = +5.00 points")


def test_every_shipped_exercise_reads_in_every_offered_language():
    english, errors = load_all()
    assert not errors and english
    for code in TRANSLATIONS:
        with i18n.using(code):
            translated, errors = load_all()
        assert not errors
        for en, other in zip(english, translated):
            assert (other.title, other.question, other.explanation) != (en.title, en.question, en.explanation)
            assert all(a.title != b.title for a, b in zip(english, translated)), en.id
            assert not _english_left(other.question + " " + other.explanation), en.id
            for a, b in zip(en.lines, other.lines):
                assert a.identity == b.identity and a.config == b.config  # same runs, shown in the language


def test_a_winner_answer_grades_the_same_in_either_language():
    from experiments.exercises.judge import answer_text, check_answer

    [english] = [e for e in load_all()[0] if e.id == "01_learning_rate"]
    with i18n.using("es"):
        [spanish] = [e for e in load_all()[0] if e.id == "01_learning_rate"]
        stored = check_answer(spanish, "tasa 0.1")
        assert answer_text(spanish, stored["value"]) == "tasa 0.1"
        with pytest.raises(ConfigError, match="^elige una de: tasa 0.1, tasa 0.001"):
            check_answer(spanish, "lr 7")
    assert stored == check_answer(english, "lr 0.1") == {"kind": "winner", "value": "lr 0.1"}
    assert answer_text(english, stored["value"]) == "lr 0.1"


def test_catalog_update_command_is_documented():
    """The command that refreshes the catalogs is where a developer looks for it."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8") + (ROOT / "babel.cfg").read_text(encoding="utf-8")
    assert "pybabel extract -F babel.cfg" in text and "pybabel update" in text
    assert Path(ROOT / "experiments" / "locale" / "GLOSSARY.md").exists()


def test_a_bad_translation_table_is_refused_in_one_line_naming_the_file(tmp_path):
    from experiments.exercises.spec import ExerciseError, load_exercise

    shipped = (ROOT / "exercises" / "01_learning_rate.toml").read_text(encoding="utf-8")
    for bad, said in (('[es.labels]\n"lr 7" = "tasa 7"\n', "es.labels names no run 'lr 7'"),
                      ("[es]\ntitel = 'x'\n", "unknown field es.titel"), ("es = 3\n", "es must be a table")):
        path = tmp_path / "bad.toml"
        english = shipped.split("\n[es]")[0]
        path.write_text(bad + english if bad.startswith("es =") else english + "\n" + bad, encoding="utf-8")
        with pytest.raises(ExerciseError, match=f"^bad.toml: {re.escape(said)}"):
            load_exercise(path)


def test_nns_checkpoint_and_data_errors_and_a_text_files_refusal_read_in_spanish(tmp_path):
    """nn knows no languages: its checkpoint and data errors read in the language experiments.i18n installs
    (nn.translation), the one of the moment; and a named file's refusal too. English outside, as before."""
    from experiments.text_files import TextFileError, read_text_file
    from nn.checkpoint import CheckpointError, load_checkpoint
    from nn.data import DataError, _read_bounded

    broken = tmp_path / "latest.npz"
    broken.write_bytes(b"not a zip")
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000, encoding="utf-8")
    refusals = ((CheckpointError, lambda: load_checkpoint(tmp_path / "none.npz")),
                (CheckpointError, lambda: load_checkpoint(broken)),
                (DataError, lambda: _read_bounded(tmp_path)),
                (TextFileError, lambda: read_text_file(big, 1000)),
                (TextFileError, lambda: read_text_file(tmp_path, 1000)))
    spanish = []
    with i18n.using("es"):
        for error, refuse in refusals:
            with pytest.raises(error) as refused:
                refuse()
            spanish.append(str(refused.value).replace(str(tmp_path), "/carpeta"))
    assert spanish[0] == "no hay ningún punto de control en /carpeta/none.npz"
    assert spanish[1].startswith("latest.npz no es un punto de control legible (cortado o dañado: ")
    assert spanish[3] == "demasiado grande (2.000 bytes; como máximo 1.000): no se leyó"  # Spanish grouping
    for text in spanish:
        assert not _english_left(text.replace("/carpeta", "").replace(".npz", "")), text
    with pytest.raises(CheckpointError, match="^no checkpoint at "):
        load_checkpoint(tmp_path / "none.npz")
    with pytest.raises(TextFileError, match=r"^too large \(2,000 bytes; at most 1,000\): not read$"):
        read_text_file(big, 1000)
