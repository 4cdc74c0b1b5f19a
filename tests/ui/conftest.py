"""What the page tests share: the dashboard's pages by title, a store file for the app, a populated store,
and every text a page shows. The ``app`` fixture (a fresh AppTest of the dashboard) is in tests/conftest.py,
since test_bad_input.py drives the dashboard too."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig
from experiments.store import RunStore
from nn import MLP

PAGES = {"Compare": "ui/compare_page.py", "History": "ui/history_page.py", "Report": "ui/report_page.py",
         "Inspect": "ui/inspect_page.py"}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store file for the app; MNIST_DIR points at an empty folder unless the real data is there."""
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(path))
    real = os.environ.get("MNIST_DIR")
    if not real or not Path(real).is_dir():
        empty = tmp_path / "no-mnist"
        empty.mkdir()
        monkeypatch.setenv("MNIST_DIR", str(empty))
    return path


def texts(at: AppTest) -> str:
    """Every title, message, caption, Markdown and text on the page (and the sidebar's errors), one per line."""
    parts = [e.value for kind in ("title", "info", "error", "warning", "caption", "markdown", "text")
             for e in getattr(at, kind)]
    parts += [e.value for e in at.sidebar.error]
    return "\n".join(str(p) for p in parts)


def populate(path: Path) -> list[int]:
    """Three finished runs (two seeds of one config and another lr) with epochs and saved weights."""
    store = RunStore(path)
    ids = []
    for lr, seed in ((0.001, 0), (0.001, 1), (0.01, 0)):
        config = RunConfig(hidden=(8,), lr=lr, seed=seed, epochs=2, train_size=1000)
        run_id = store.create_run(config, name=f"lr {lr} seed {seed}", source="cli")
        for epoch in (1, 2):
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 1.0 / epoch, "test_loss": 1.1 / epoch,
                                     "train_acc": 0.8 + 0.05 * epoch + seed / 100, "test_acc": 0.8 + 0.04 * epoch,
                                     "val_loss": 1.05 / epoch, "val_acc": 0.79 + 0.04 * epoch + seed / 200,
                                     "seconds": 0.5, "elapsed": 0.5 * epoch, "lr": lr,
                                     "majority_fraction": 0.12, "dead_fraction": 0.0})
        store.set_status(run_id, "finished")
        store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        MLP(config.sizes(), seed=seed).save(str(store.weights_path(run_id)))
        ids.append(run_id)
    store.close()
    return ids


@pytest.fixture
def offline_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store file for the app and MNIST_DIR an empty folder: for pages that need no data."""
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(path))
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    monkeypatch.setenv("MNIST_DIR", str(empty))
    return path


@pytest.fixture
def mnist_db(db: Path, monkeypatch: pytest.MonkeyPatch, mnist_dir: str) -> Path:
    """The app's store file, on the real MNIST (skipped without it)."""
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    return db
