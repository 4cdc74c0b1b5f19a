"""The Spanish guide (README.es.md) against the English README and the dashboard it describes: the same install,
start and test commands, each page linked to the other, and every button or page it names in bold is a text the
Spanish dashboard really shows (a msgstr of the catalog), so a renamed button cannot leave the guide pointing at
nothing."""
from __future__ import annotations

import re

from babel.messages.pofile import read_po

from experiments import i18n
from tests.conftest import ROOT

ENGLISH, SPANISH = (ROOT / "README.md").read_text(encoding="utf-8"), (ROOT / "README.es.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _first_bash_block(text: str) -> str:
    return text.split("```bash\n", 1)[1].split("```", 1)[0]


def test_the_guide_gives_the_readmes_commands():
    assert _first_bash_block(_section(SPANISH, "Empezar")) == _first_bash_block(_section(ENGLISH, "Start"))
    assert _first_bash_block(_section(SPANISH, "Pruebas")) == _first_bash_block(_section(ENGLISH, "Tests"))


def test_each_readme_links_to_the_other():
    assert "(README.es.md)" in ENGLISH and "(README.md)" in SPANISH


def test_every_bold_name_is_a_text_of_the_spanish_dashboard():
    po, _mo = i18n.catalog_paths("es")
    with po.open("rb") as source:
        catalog = read_po(source, locale="es")
    shown = {s for m in catalog if m.id for s in (m.string if isinstance(m.string, tuple) else (m.string,))}
    shown.add("Idioma · Language")  # the language switch's label, the same in both languages (ui/language.py)
    named = {" ".join(m.split()) for m in re.findall(r"\*\*([^*]+)\*\*", SPANISH)}  # a name may wrap
    assert len(named) >= 10
    assert not named - shown, sorted(named - shown)
