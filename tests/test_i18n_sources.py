"""No text is marked for translation where Babel cannot see it: a ``_("...")`` inside an f-string's braces is
one string token to Python 3.11's tokenizer, so Babel never extracts it and the text stays English in every
language (the catalog test cannot notice what was never extracted)."""
from __future__ import annotations

import io
import re
import tokenize

from tests.conftest import ROOT

# a literal text marked inside the braces (``_(TABLE[key])``, the lookup of a text marked N_ elsewhere, is fine)
HIDDEN_MARK = re.compile(r"\{[^{}]*\b(_|ngettext)\(\s*['\"]")


def hidden_marks(source: str) -> list[str]:
    """The f-strings of ``source`` that call ``_()`` or ``ngettext()`` inside their braces."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        prefix = re.match(r"[A-Za-z]*", token.string).group(0).lower() if token.type == tokenize.STRING else ""
        if "f" in prefix and HIDDEN_MARK.search(token.string):
            found.append(token.string)
    return found


def test_the_check_finds_a_hidden_mark():
    assert hidden_marks("x = f\"<h2>{e(_('Summary'))}</h2>\"\n") == ["f\"<h2>{e(_('Summary'))}</h2>\""]
    assert hidden_marks("x = _('Summary') + f'{y}'\n") == []
    assert hidden_marks("x = f'{_(NAMES[k])}'\n") == []


def test_no_marked_text_hides_inside_an_f_string():
    files = [*(ROOT / "experiments").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "dashboard.py"]
    hidden = {str(p.relative_to(ROOT)): marks for p in files if (marks := hidden_marks(p.read_text(encoding="utf-8")))}
    assert not hidden, hidden
