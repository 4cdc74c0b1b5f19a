"""The class's settings round-trip through a real store file, and bad budgets are refused unchanged."""
import pytest

from experiments.access import LOCAL_USER, Identity, Role
from experiments.store import RunStore, StoreError
from experiments.store.classroom import ClassSettings, class_settings, save_class_settings


def test_a_new_store_reads_the_laptop_defaults(store):
    assert class_settings(store) == ClassSettings()


def test_settings_survive_reopening_the_file(store):
    chosen = ClassSettings(others_visible=False, test_revealed=True, max_parameters=200_000, max_steps=5_000)
    save_class_settings(store, chosen)
    assert class_settings(RunStore(store.path)) == chosen


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_a_budget_below_one_is_refused_and_nothing_changes(store, bad):
    save_class_settings(store, ClassSettings(max_steps=100))
    with pytest.raises(StoreError, match="max steps"):
        save_class_settings(store, ClassSettings(max_steps=bad))
    assert class_settings(store).max_steps == 100


def test_only_the_owner_the_teacher_or_a_laptop_user_may_change_a_run():
    alice, bob = Identity("alice", Role.STUDENT), Identity("bob", Role.STUDENT)
    assert alice.may_change("alice") and not bob.may_change("alice")
    assert Identity("t", Role.TEACHER).may_change("alice") and LOCAL_USER.may_change("alice")
    assert not Identity("", Role.STUDENT).may_change("")
