"""The Insights page through Streamlit's AppTest: a sweep-like history, a refused selection, replicates offered."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from experiments.store import RunStore
from tests.insight_history import make_history, only_lr
from tests.ui.conftest import texts

PAGE = "ui/insights_page.py"


def _open(app, kind: str, value: str) -> AppTest:
    at = app(timeout=60).run()
    at.switch_page(PAGE).run()
    at.radio(key="in_kind").set_value(kind).run()
    box = "in_tag" if kind == "A tag" else "in_search"
    at.text_input(key=box).set_value(value).run()
    return at


def test_the_page_shows_importance_slices_contour_and_verdicts(db, app):
    make_history(RunStore(db), only_lr, seeds=2)
    at = _open(app, "A tag", "hist")
    assert not at.exception and not at.error, texts(at)
    text = texts(at)
    assert "24 runs" in text and "Above it: lr" in text and "Benjamini-Hochberg" in text
    table = at.dataframe[0].value
    assert len(table) == 12 and table["configuration"].iloc[0].startswith("★ ")
    assert len(at.get("plotly_chart")) == 4  # importance, slices, contour, parallel coordinates


def test_the_verdict_table_shows_no_none_no_interval_past_100_and_the_verdict_second(db, app):
    """Issue 23: "None" in the difference column, a 95% interval past 100%, the verdict cut at 1280 px."""
    make_history(RunStore(db), only_lr, seeds=2)
    table = _open(app, "A tag", "hist").dataframe[0].value
    assert list(table.columns[:2]) == ["configuration", "verdict"]
    assert not table.astype(str).apply(lambda column: column.str.contains("None")).any().any()
    bounds = [float(x) for ci in table["95% CI"] if ci != "-" for x in ci.strip("[]").split(", ")]
    assert bounds and all(0.0 <= x <= 100.0 for x in bounds)


def test_a_selection_too_small_gets_one_line_and_replicates_are_offered_when_missing(db, tmp_path, monkeypatch, app):
    empty = tmp_path / "no-mnist"
    empty.mkdir(exist_ok=True)  # the db fixture made it when MNIST_DIR is unset
    monkeypatch.setenv("MNIST_DIR", str(empty))  # the queued replicates fail fast instead of downloading
    make_history(RunStore(db), only_lr, seeds=1)
    at = _open(app, "A search (as in History)", "lr=0.1 batch=32")
    assert not at.exception and [e.value for e in at.error] and "at least 4 are needed" in at.error[0].value
    at = _open(app, "A tag", "hist")
    assert "no seed replicates" in texts(at)
    button = at.button(key="in_replicates")
    assert "Queue 12 seed replicates" in button.label
    button.click().run()
    queued = RunStore(db).search_runs(tag="replicate")
    assert len(queued) == 12 and all("hist" in r.tags and r.config.seed == 1 for r in queued)
