"""No text is marked for translation where Babel cannot see it: a ``_("...")`` inside an f-string's braces is
one string token to Python 3.11's tokenizer, so Babel never extracts it and the text stays English in every
language (the catalog test cannot notice what was never extracted)."""
from __future__ import annotations

import ast
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


# ---------------------------------------------------------------------- every refusal a person reads is marked
# The lab's own errors carry a one-line message a person reads (the CLI prints it, a page shows it): each of these
# classes, and every class the scanned code derives from one of them, must word its message through _() or
# ngettext(), never as a bare literal or f-string (which reads in English in every language). Python's own
# ValueError and nn's argument checks are left out: they guard against a programmer's mistake, not a person's input.
USER_FACING_ERRORS = frozenset({
    "ConfigError", "StoreError", "ExportError", "TextFileError", "NotAllowed", "OutputError", "NoFixError",
    "DigitError", "DataError", "CheckpointError"})
SCANNED = ("experiments", "nn/data.py", "nn/checkpoint.py")
# Messages that carry no words of their own: a prefix (a file's name, a setting's) before a message already
# translated where it was raised. Keyed by file and message source, not line, so that edits elsewhere do not
# break it; an entry that no longer matches an unmarked message fails below.
WORDLESS = {
    ("experiments/exercises/spec.py", "f'{path.name}: {exc}'"),
    ("experiments/sweeps/tpe.py", "f'{key}={quote(value)}: {exc}'"),
}
MARKERS = frozenset({"_", "ngettext"})


def _called(node: ast.AST) -> str:
    func = node.func if isinstance(node, ast.Call) else None
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _is_marked(message: ast.expr) -> bool:
    """Whether a message is worded through the catalog: ``_("...")``, ``ngettext(...)``, ``X.format(...)`` of
    such a text, or a value built elsewhere (a name, a call: checked where it is built). A literal, an f-string or
    a literal's ``.format`` / ``%`` is not."""
    if isinstance(message, (ast.Constant, ast.JoinedStr)):
        return False
    if isinstance(message, ast.BinOp):
        return _is_marked(message.left) and _is_marked(message.right)
    if isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute) and message.func.attr == "format":
        return _is_marked(message.func.value)
    return True


def user_facing_classes(trees: list[ast.Module]) -> set[str]:
    """USER_FACING_ERRORS and every class of ``trees`` derived from one of them (to any depth)."""
    found, grew = set(USER_FACING_ERRORS), True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                bases = {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                         for base in getattr(node, "bases", ())}
                if isinstance(node, ast.ClassDef) and node.name not in found and bases & found:
                    found.add(node.name)
                    grew = True
    return found


def unmarked_messages(tree: ast.Module, classes: set[str]) -> list[tuple[int, str]]:
    """(line, message source) of every construction of one of ``classes`` whose message is not marked."""
    return [(node.lineno, ast.unparse(node.args[0])) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _called(node) in classes and node.args
            and not _is_marked(node.args[0])]


def test_the_check_finds_an_unmarked_message():
    source = '''
class LateError(StoreError):
    pass
def refuse(run_id, path, exc):
    raise ExportError(f"there is no run {run_id}")
    raise StoreError("cannot read the store")
    raise LateError("the run {id} changed".format(id=run_id))
    raise ConfigError(_("batch_size must be at least 1"))
    raise ConfigError(_("run {id} is {status}").format(id=run_id, status="finished"))
    raise StoreError(ngettext("{n} run", "{n} runs", 2).format(n=2))
    raise StoreError(reason)
    raise ValueError(f"a programmer's mistake {run_id}")
'''
    tree = ast.parse(source)
    classes = user_facing_classes([tree])
    assert "LateError" in classes and "ValueError" not in classes
    assert unmarked_messages(tree, classes) == [
        (5, "f'there is no run {run_id}'"), (6, "'cannot read the store'"),
        (7, "'the run {id} changed'.format(id=run_id)")]


def test_every_user_facing_error_words_its_message_for_the_catalog():
    files = [p for entry in SCANNED for p in ((ROOT / entry).rglob("*.py") if (ROOT / entry).is_dir()
                                              else [ROOT / entry])]
    trees = {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in files}
    classes = user_facing_classes(list(trees.values()))
    assert {"ResumeError", "BudgetError", "RayConnectionError", "InsightError", "ExerciseError", "QueueFullError",
            "RunNotFoundError"} <= classes  # derived ones are found
    found = {(path, message): line for path, tree in trees.items()
             for line, message in unmarked_messages(tree, classes)}
    unmarked = {f"{path}:{line}: {message}" for (path, message), line in found.items()
                if (path, message) not in WORDLESS}
    assert not unmarked, "mark these messages with _() and add them to the catalog:\n" + "\n".join(sorted(unmarked))
    stale = WORDLESS - found.keys()
    assert not stale, f"WORDLESS entries that match no unmarked message any more (drop them): {stale}"
