"""The course report's own words for the catalog: a Babel extractor for ``report_reference.json``.

The reference holds the report's comparisons as data: their titles, the conclusions it drew and its caveats,
in English (they are the comparisons' identities in the code, as line labels are). Shown to a person they are
read through ``_()`` (``Comparison.shown_title``, ``shown_conclusion``, ``html``'s caveats), so their Spanish
must be in the catalog like any other text; ``babel.cfg`` names this function in its ``[extractors]``
section, so ``pybabel extract`` and ``tests/test_i18n.py`` (``extract_from_dir``) find them in the JSON.

In the catalog each text is written with its "%" doubled (``catalog_id``), as gettext writes a %-format string:
Babel takes any text with a "%" followed by a letter for one ("64-77% over" reads as "% o"), and `pybabel compile`
then refuses the whole catalog unless the translation has the same placeholders. ``shown`` looks a text up that way.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from experiments.i18n import _

# What a comment beside each extracted text says (the translator's ``#.`` line).
FIELDS = {"title": "the title of a comparison of the course report",
          "report_conclusion": "the course report's conclusion, numbers as it printed them: write them the "
                               "language's way (68,38 %)"}
NOTE = "a caveat about the course report's numbers"


def catalog_id(text: str) -> str:
    """The reference text as the catalog holds it: every "%" doubled, so that it is a %-format with no fields."""
    return text.replace("%", "%%")


def shown(text: str) -> str:
    """A reference text (title, conclusion, caveat) as a person reads it, in the current language."""
    return _(catalog_id(text)).replace("%%", "%")


def reference_texts(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(text, what it is) for every text of a parsed reference a person reads: titles, conclusions, caveats."""
    for comparison in data.get("comparisons", ()):
        for key, what in FIELDS.items():
            if comparison.get(key):
                yield comparison[key], what
    for note in data.get("notes", ()):
        yield note, NOTE


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
            options: Mapping[str, Any]) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface: (line number, function name, message, comments) for each text."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for text, what in reference_texts(json.loads(source)):
        at = source.find(json.dumps(text, ensure_ascii=False))
        yield (source.count("\n", 0, at) + 1 if at >= 0 else 1), None, catalog_id(text), [what]
