"""The Teacher page's budgets per student run: two numbers saved into the store's class settings (0: no cap)."""
from __future__ import annotations

import pytest

from experiments.store import RunStore
from experiments.store.classroom import class_settings


@pytest.fixture
def env(offline_db, monkeypatch):
    """The app's store (no MNIST) on a laptop without a teacher password: the Teacher page is open."""
    monkeypatch.delenv("MNIST_LAB_TEACHER_PASSWORD", raising=False)
    return offline_db


def test_the_teacher_sets_and_clears_the_budgets(env, app):
    at = app().run()
    at.switch_page("ui/teacher_page.py")
    at.run()
    assert not at.exception
    at.number_input(key="teacher_max_parameters").set_value(50_000)
    at.number_input(key="teacher_max_steps").set_value(2_000)
    next(b for b in at.button if b.label == "Save budgets").click()
    at.run()
    assert not at.exception
    saved = class_settings(RunStore(env))
    assert (saved.max_parameters, saved.max_steps) == (50_000, 2_000)
    at.number_input(key="teacher_max_steps").set_value(0)
    next(b for b in at.button if b.label == "Save budgets").click()
    at.run()
    assert class_settings(RunStore(env)).max_steps is None and class_settings(RunStore(env)).max_parameters == 50_000
