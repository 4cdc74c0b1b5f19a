"""Fixtures of the runs tests: a run manager on the test's own store."""
from __future__ import annotations

import pytest

from experiments.runs.runner import RunManager
from nn import Dataset


@pytest.fixture
def run_manager(store):
    """Make a RunManager on the test's store that trains on the data given; every one made is stopped and
    drained when the test ends."""
    made: list[RunManager] = []

    def make(data: Dataset) -> RunManager:
        manager = RunManager(store, data_loader=lambda config: data)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.stop_all()
        manager.wait(timeout=30)
