"""The command line's language (``python -m experiments`` as a real process): ``--lang es`` anywhere on the
line, else LC_ALL / LC_MESSAGES / LANG; a refusal of bad input and the help read in Spanish; English stays the
default."""
from __future__ import annotations

ENGLISH_ENV = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}


def test_lang_es_refuses_bad_input_in_spanish(run_cli):
    done = run_cli("--lang", "es", "run", "--lr", "abc", "--epochs", "1", env=ENGLISH_ENV)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --lr debe ser un número > 0 y <= 10 (se recibió 'abc')"


def test_lang_may_follow_the_command(run_cli):
    done = run_cli("run", "--hidden", "128,,64", "--lang", "es", env=ENGLISH_ENV)
    assert done.returncode == 2 and "las capas ocultas deben ser anchos separados por comas" in done.stderr


def test_lang_from_the_environment_and_english_by_default(run_cli):
    spanish = run_cli("run", "--epochs", "0", env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "es_CR.UTF-8"})
    assert spanish.stderr.strip() == "error: --epochs debe ser un número entero de 1 a 1000 (se recibió '0')"
    english = run_cli("run", "--epochs", "0", env=ENGLISH_ENV)
    assert english.stderr.strip() == "error: --epochs must be a whole number from 1 to 1000 (got '0')"


def test_help_is_written_in_the_chosen_language(run_cli):
    done = run_cli("--lang", "es", "run", "--help", env=ENGLISH_ENV)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps the help's lines
    assert "Tamaño del paso de cada actualización" in text and "un número entero de 1 a 1000" in text


def test_top_level_help_names_the_language_flag(run_cli):
    text = " ".join(run_cli("--lang", "es", "--help", env=ENGLISH_ENV).stdout.split())
    assert "Entrena el MLP de NumPy con MNIST" in text and "--lang {en,es}" in text


def test_an_unoffered_language_is_refused_in_one_line(run_cli):
    done = run_cli("--lang", "fr", "list", env=ENGLISH_ENV)
    assert done.returncode == 2 and "invalid choice: 'fr'" in done.stderr
