"""The dashboard's data source: one load at a time, progress while downloading, the reason when it fails."""
from __future__ import annotations

import threading
import time

import pytest

from experiments.config import RunConfig
from experiments.runs.data_source import DataSource
from nn import DataError
from tests.conftest import make_blobs, wait_until


def test_progress_then_ready():
    seen = []

    def loader(config, progress):
        progress("train-images-idx3-ubyte", 50, 100)
        seen.append(source.status())
        return make_blobs()

    source = DataSource(loader)
    assert source.load(RunConfig()).source == "blobs"
    assert seen[0].state == "downloading" and seen[0].fraction == 0.5
    assert source.status().state == "ready"


def test_failure_keeps_the_message_and_prepare_runs_in_background():
    def loader(config, progress):
        raise DataError("could not download (offline?): set MNIST_DIR")

    source = DataSource(loader)
    source.prepare()
    wait_until(lambda: source.status().state == "failed", 5, "the background load to fail", every=0.01)
    assert source.status().error.startswith("could not download")
    with pytest.raises(DataError):
        source.load(RunConfig())


def test_a_failed_load_is_tried_again_only_when_asked():
    """Page runs call prepare() every time: a failed load must stay failed until "Try again" (retry), or the page
    flips between loading and failed under a student's click."""
    calls = []

    def loader(config, progress):
        calls.append(1)
        raise DataError("offline")

    source = DataSource(loader)
    source.prepare()
    wait_until(lambda: source.status().state == "failed", 5, "the background load to fail", every=0.01)
    for _ in range(5):
        source.prepare()
    assert len(calls) == 1 and source.status().state == "failed"
    source.retry()
    wait_until(lambda: len(calls) == 2, 5, "the retried load", every=0.01)


def test_loads_are_serialized_and_own_folders_do_not_touch_the_status():
    active, overlaps = [0], []
    lock = threading.Lock()

    def loader(config, progress):
        with lock:
            active[0] += 1
            overlaps.append(active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        if config.data_dir:
            raise OSError("no such folder")
        return make_blobs()

    source = DataSource(loader)
    threads = [threading.Thread(target=source.load, args=(RunConfig(),)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(overlaps) == 1
    with pytest.raises(DataError):
        source.load(RunConfig(data_dir="/nowhere"))
    assert source.status().state == "ready"
