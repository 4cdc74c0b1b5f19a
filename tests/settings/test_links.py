"""Shareable links: the query string from RunConfig's schema, read back exactly; bad parameters noticed.
(The dashboard opened with a link: tests/ui/test_links.py.)"""
from __future__ import annotations

import pytest

from experiments.config import RunConfig
from experiments.settings.links import config_link, linked_settings, read_link

PAGES = ("train", "compare")


def test_a_link_restores_every_setting_exactly():
    config = RunConfig(hidden=(256, 64), activation="sigmoid", optimizer="rmsprop", lr=0.00012345678, l2=3e-5,
                       epochs=7, batch_size=33, seed=4_000_000_000, dtype="float64", reduction="sum",
                       train_size=1234, dropout=0.3, schedule="cosine", early_stopping="val_loss", patience=3,
                       restore_best=False, init="small", val_size=5000, momentum=0.8123456789)
    params = config_link(config, "compare", locked=["lr"], hidden=["l2"])
    assert set(linked_settings()) <= set(params)
    state = read_link(params, PAGES)
    assert not state.notices
    assert RunConfig.from_dict(state.values) == config
    assert state.page == "compare" and state.locked == {"lr"} and state.hidden == {"l2"}


@pytest.mark.parametrize("raw", ["abc", "1e9", "nan", "-1", "０.1"])
def test_a_bad_learning_rate_is_one_notice_and_the_rest_applies(raw):
    state = read_link({"lr": raw, "epochs": "3", "optimizer": "sgd"}, PAGES)
    assert state.values == {"epochs": 3, "optimizer": "sgd"}
    assert len(state.notices) == 1 and "lr" in state.notices[0] and "\n" not in state.notices[0]


def test_unknown_parameters_flags_and_pages_are_noticed_and_ignored():
    state = read_link({"foo": "1", "lock": "lr,nope", "hide": "l2", "page": "admin", "epochs": "2"}, PAGES)
    assert state.values == {"epochs": 2}
    assert state.locked == {"lr"} and state.hidden == {"l2"} and state.page is None
    assert len(state.notices) == 3
    assert any("'foo'" in n for n in state.notices) and any("'nope'" in n for n in state.notices)


def test_settings_that_do_not_fit_together_are_not_applied():
    state = read_link({"batch_size": "500", "train_size": "100"}, PAGES)
    assert state.values == {} and len(state.notices) == 1


def test_a_long_pasted_value_is_quoted_short():
    state = read_link({"lr": "9" * 10_000}, PAGES)
    assert len(state.notices[0]) < 200


def test_an_exercise_link_carries_its_id_and_refuses_a_bad_one():
    assert read_link({"exercise": "01_learning_rate"}, PAGES).exercise == "01_learning_rate"
    bad = read_link({"exercise": "<script>", "epochs": "2"}, PAGES)
    assert bad.exercise == "" and bad.values == {"epochs": 2} and len(bad.notices) == 1
    assert config_link(RunConfig(), "train", exercise="01_x")["exercise"] == "01_x"


def test_a_link_names_only_an_exercise_that_exists():
    """Issue 24: any well-formed exercise= id tagged runs for a leaderboard that had no such exercise."""
    known = {"01_learning_rate"}
    assert read_link({"exercise": "01_learning_rate"}, PAGES, exercises=known).exercise == "01_learning_rate"
    made_up = read_link({"exercise": "99_made_up", "epochs": "2"}, PAGES, exercises=known)
    assert made_up.exercise == "" and made_up.values == {"epochs": 2}
    assert made_up.notices == (
        "The link's exercise '99_made_up' is not one of this class's exercises and was ignored.",)
