"""The command line read in Spanish (``--lang es``), as a real process: every sub-command's help, ``list``,
``show`` and a refusal contain none of a list of English words; the numbers use the Spanish decimal mark.

argparse's own words ("usage:", "positional arguments", "options", "show this help message and exit", its
refusals) read in Spanish too. Flags (--batch-size), metavars (BATCH_SIZE) and code names (val_loss,
best_val_acc) are taken out before the check: they are the same in every language.
"""
from __future__ import annotations

import re

import pytest

from experiments.config import RunConfig
from experiments.report.presets import COMPARISON_IDS
from experiments.store import RunStore

ENGLISH_ENV = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
# English words that must not remain in the Spanish output (whole words, any case).
ENGLISH_WORDS = ("the", "and", "with", "of", "run", "runs", "stored", "epoch", "epochs", "seed", "seeds", "store",
                 "file", "print", "each", "only", "this", "write", "train", "training", "loss", "accuracy",
                 "choose", "newest", "folder", "per", "settings", "name", "status", "best", "last",
                 "test", "notes", "source", "group", "tags", "default", "at", "by", "there",
                 # argparse's own words
                 "usage", "options", "positional", "arguments", "argument", "show", "help", "message", "exit",
                 "invalid", "choice", "required", "following", "unrecognized", "expected")
COMMANDS = ("run", "list", "show", "export", "export-model", "reproduce", "report", "sweep", "insights", "lr-find",
            "fix", "resume", "continue")


def english_left(text: str) -> list[str]:
    if text.startswith("uso:"):  # argparse's usage line, once its first word is Spanish: program, command, flags
        text = text.partition("\n\n")[2]
    text = re.sub(r"(?m)^    [\w-]+ ", " ", text)  # the sub-commands' names in the top-level help
    text = re.sub(r"-\s+", "-", " ".join(text.split()))  # argparse wraps lines, also after a hyphen
    # values typed as they are in any language: quoted examples, the comparison ids, the --sort columns
    text = re.sub(r"'[^']*'|\bnone\b|created, ", " ", text)
    for name in COMPARISON_IDS:
        text = text.replace(name, " ")
    # flags, metavars, choices, paths
    text = re.sub(r"--?[\w-]+|\b[A-Z][A-Z0-9_]+\b|\{[^}]*\}|\[[^]]*\]|\S+/\S+", " ", text)
    return sorted({w for w in re.findall(r"[A-Za-z_]+", text) if w.lower() in ENGLISH_WORDS})


def test_english_left_finds_english_words():
    """The check itself can fail: an English line is caught, its flags and metavars are not."""
    assert english_left("train one network --batch-size BATCH_SIZE, store it") == ["store", "train"]
    assert english_left("entrenar una red --epochs EPOCHS") == []


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_reads_in_spanish(run_cli, command):
    done = run_cli("--lang", "es", *([command] if command else []), "--help", env=ENGLISH_ENV)
    assert done.returncode == 0 and done.stdout.startswith("uso: python -m experiments")
    assert "opciones:" in done.stdout and "muestra esta ayuda y termina" in done.stdout
    assert not english_left(done.stdout), (command, english_left(done.stdout))


@pytest.mark.parametrize(("line", "spanish", "english"), [
    (("bogus",), "argumento command: opción no válida: 'bogus' (elige entre 'run'",
     "argument command: invalid choice: 'bogus' (choose from 'run'"),
    (("run", "--bogus"), "error: argumentos no reconocidos: --bogus", "error: unrecognized arguments: --bogus"),
    (("show",), "show: error: faltan estos argumentos obligatorios: id",
     "show: error: the following arguments are required: id"),
    (("run", "--lr"), "argumento --lr: se esperaba un argumento", "argument --lr: expected one argument"),
])
def test_argparse_refusals_read_in_spanish(run_cli, line, spanish, english):
    """argparse words its own refusals; with --lang es they come from the lab's catalog, and stay English without."""
    done = run_cli("--lang", "es", *line, env=ENGLISH_ENV)
    assert done.returncode == 2 and spanish in done.stderr, done.stderr
    assert done.stderr.startswith("uso: ")
    default = run_cli(*line, env=ENGLISH_ENV)
    assert default.returncode == 2 and english in default.stderr and default.stderr.startswith("usage: ")


def _stored_run(db) -> int:
    store = RunStore(db)
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=2, val_size=100), name="mi red", source="cli")
    for epoch, val_loss in ((1, 0.3), (2, 0.4)):  # the best epoch (lowest val. loss) is the first
        store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.5, "val_loss": val_loss, "val_acc": 0.9123,
                                 "test_loss": 0.6, "train_acc": 0.8, "test_acc": 0.7654, "elapsed": 1.5})
    store.set_status(run_id, "finished")
    return run_id


def test_list_and_show_read_in_spanish_with_spanish_numbers(run_cli, tmp_path):
    db = tmp_path / "runs.sqlite"
    run_id = _stored_run(db)
    listed = run_cli("--lang", "es", "--db", str(db), "list", env=ENGLISH_ENV)
    assert listed.returncode == 0
    header, row = listed.stdout.splitlines()[:2]
    assert "en época" in header and "exact. prueba" in header and " mejor 1 " in row and "76,54\u00a0%" in row
    # the status and the settings are the words --status and the flags take, the same in every language
    assert not english_left(listed.stdout.replace("finished", "").replace("mi red", "")), listed.stdout
    shown = run_cli("--lang", "es", "--db", str(db), "show", str(run_id), env=ENGLISH_ENV)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == f"ejecución {run_id}: mi red  (finished)"
    assert any(line.startswith("época   1/2  pérdida 0,5000") and "exact. prueba 76,54\u00a0%" in line
               for line in lines), shown.stdout
    assert lines[-1].startswith("mejor época 1 según val_loss: exactitud de validación 91,23\u00a0%")
    settings = next(line for line in lines if line.startswith("ajustes: "))
    text = "\n".join(line for line in lines if line is not settings).replace("finished", "").replace("mi red", "")
    assert not english_left(text), shown.stdout


def test_the_same_commands_stay_english_by_default(run_cli, tmp_path):
    db = tmp_path / "runs.sqlite"
    run_id = _stored_run(db)
    header = run_cli("--db", str(db), "list", env=ENGLISH_ENV).stdout.splitlines()[0]
    assert "at epoch" in header and "test acc" in header
    shown = run_cli("--db", str(db), "show", str(run_id), env=ENGLISH_ENV).stdout.splitlines()
    assert shown[0] == f"run {run_id}: mi red  (finished)" and "76.54%" in "\n".join(shown)


def test_a_store_error_reads_in_spanish(run_cli, tmp_path):
    done = run_cli("--lang", "es", "export", "99", env=ENGLISH_ENV)
    assert done.returncode == 2 and done.stderr.strip() == "error: no existe la ejecución 99: no se escribió nada"
    folder = run_cli("--lang", "es", "export", "--output", str(tmp_path), env=ENGLISH_ENV)
    assert folder.returncode == 2 and "es una carpeta: indica un nombre de archivo" in folder.stderr


def test_a_data_error_from_nn_reads_in_spanish(run_cli, tmp_path):
    """nn imports nothing from experiments: its data errors are worded through the translator experiments.i18n
    installs, so the command line's refusal of a missing MNIST folder reads in the chosen language."""
    missing = tmp_path / "no-mnist"
    env = {**ENGLISH_ENV, "MNIST_DIR": str(missing)}
    spanish = run_cli("--lang", "es", "run", "--epochs", "1", env=env)
    assert spanish.returncode == 2
    assert spanish.stderr.strip() == (f"error: la carpeta de MNIST {missing} no existe: pon en MNIST_DIR la carpeta "
                                      "que contiene los cuatro archivos de MNIST (p. ej. train-images-idx3-ubyte.gz)")
    english = run_cli("run", "--epochs", "1", env=env)
    assert english.stderr.strip().startswith(f"error: MNIST directory {missing} does not exist: set MNIST_DIR")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_reports_verdicts_and_line_names_print_in_spanish(run_cli, tmp_path, lang):
    """``report``'s printout names each line in the language ("64 neuronas"); English prints the labels as they
    are, and the same check finds its English words."""
    from experiments.report import presets
    from tests.report.test_report import fake_reproduction

    db, out = tmp_path / "runs.sqlite", tmp_path / "report.html"
    fake_reproduction(RunStore(db), presets.variants([presets.get_comparison("second-layer-width")]), seeds=2)
    done = run_cli("--lang", lang, "--db", str(db), "report", "second-layer-width", "-o", str(out), env=ENGLISH_ENV)
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    if lang == "en":
        assert any(line.startswith("64 neurons ") for line in lines) and english_left(done.stdout)
        return
    assert any(line.startswith("64 neuronas ") for line in lines), done.stdout
    assert "Segunda capa oculta con 64 frente a 96 neuronas" in out.read_text(encoding="utf-8")
    assert not english_left(done.stdout), (english_left(done.stdout), done.stdout)
