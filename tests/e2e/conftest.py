"""What the end-to-end tests share: a real Streamlit server for the module (the ``browser`` fixture, one
headless Chromium per module, is in tests/conftest.py)."""
from __future__ import annotations

import pytest

from tests.live_server import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_dir, browser):
    """A real server on a free port with its own store, on the real MNIST; after the module, its log must hold
    no traceback. (A module that needs the store prepared first defines its own.)"""
    tmp = tmp_path_factory.mktemp("server")
    with running_server(tmp / "runs.sqlite", mnist_dir, tmp / "server.log") as s:
        yield s
    assert "Traceback" not in s.log(), s.log()[-3000:]
