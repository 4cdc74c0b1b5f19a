"""A value a user sets on a page is still there after a visit to another page (issue 23, "settings that do not
stay put"): Streamlit drops the value of a widget a run does not draw, so each page's inputs that a user fills
in or chooses keep theirs for the session (``persist_state="session"``). The sidebar's own round trips, which
only a real browser shows, are in tests/e2e/test_settings_stay.py."""
from __future__ import annotations

import pytest

from experiments.analysis.ranking import SummaryBy
from tests.ui.conftest import populate
from ui import student

# (page, widget kind, key, a value other than the default)
CHANGES = [
    ("ui/sweep_page.py", "text_input", "sw_lr", "0.5, 0.05"),
    ("ui/sweep_page.py", "text_input", "sw_epochs", "2"),
    ("ui/sweep_page.py", "text_input", "tp_hidden", "32; 16"),
    ("ui/sweep_page.py", "number_input", "tp_trials", 7),
    ("ui/history_page.py", "text_input", "hist_text", "sgd"),
    ("ui/history_page.py", "selectbox", "hist_order", "newest"),
    ("ui/history_page.py", "radio", "hist_by", SummaryBy.LAST),
    ("ui/compare_page.py", "radio", "cmp_by", SummaryBy.LAST),
    ("ui/insights_page.py", "radio", "in_kind", "A tag"),
    ("ui/insights_page.py", "selectbox", "in_metric", "final_val_acc"),  # keyed by the metric's code
    ("ui/report_page.py", "number_input", "report_seeds", 5),
    ("ui/report_page.py", "radio", "report_metric", "loss"),
    ("ui/exercises_page.py", "selectbox", "exercise_choice", "02_optimizer"),  # keyed by the exercise id
]


@pytest.mark.parametrize(("page", "kind", "key", "value"), CHANGES, ids=[c[2] for c in CHANGES])
def test_a_changed_input_survives_a_visit_to_another_page(db, app, page, kind, key, value):
    populate(db)
    at = app(timeout=60)
    if page == "ui/exercises_page.py":
        at.session_state[student.KEY] = "ada"  # Exercises asks a laptop's user for a name first
    at.run()
    at.switch_page(page).run()
    element = getattr(at, kind)(key=key)
    if value is None:  # the second option, whatever the options are
        value = element.options[1]
    element.set_value(value).run()
    assert getattr(at, kind)(key=key).value == value
    at.switch_page("ui/train_page.py").run()
    at.switch_page(page).run()
    assert not at.exception
    assert getattr(at, kind)(key=key).value == value


def test_filtering_history_does_not_untick_the_runs_it_hides(db, app):
    """The runs ticked for Compare stay ticked when a History filter hides them (it emptied the selection)."""
    ids = populate(db)
    at = app(timeout=60).run()
    at.session_state["compare_ids"] = ids[:2]
    at.switch_page("ui/history_page.py").run()
    at.text_input(key="hist_text").set_value("lr=0.01").run()  # lists only the third run
    at.switch_page("ui/compare_page.py").run()
    assert not at.exception
    assert sorted(at.session_state["compare_ids"]) == ids[:2]
