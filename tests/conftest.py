"""Shared fixtures: small synthetic data for unit tests, the real MNIST for integration tests.

Every test runs with ``RESULTS_DB`` pointing at a store file in its own temporary folder (inherited by the
subprocesses it starts), so ``python -m pytest`` never writes into the user's ``results/``; a guard fails
the session if anything under ``results/`` was created, changed or removed all the same.
"""
from __future__ import annotations

import gzip
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig
from experiments.runs.runner import RunManager
from nn import Dataset

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
APP = str(ROOT / "dashboard.py")
_SESSION: dict[str, object] = {}


def results_snapshot(folder: Path = RESULTS) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: relative path -> (size, mtime in ns)."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def snapshot_changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """What differs between two ``results_snapshot``s, one line per file."""
    changes = [f"created {name}" for name in after if name not in before]
    changes += [f"removed {name}" for name in before if name not in after]
    changes += [f"changed {name}" for name in before if name in after and before[name] != after[name]]
    return sorted(changes)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Snapshot results/ and point RESULTS_DB at a scratch store for anything that runs outside a test
    (session- and module-scoped fixtures); each test then gets its own store from ``temporary_store``."""
    _SESSION["before"] = results_snapshot()
    scratch = tempfile.mkdtemp(prefix="mlp-lab-tests-")
    _SESSION["scratch"], _SESSION["previous_db"] = scratch, os.environ.get("RESULTS_DB")
    os.environ["RESULTS_DB"] = str(Path(scratch) / "runs.sqlite")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if the suite created, changed or removed anything under results/."""
    previous = _SESSION.get("previous_db")
    if isinstance(previous, str):
        os.environ["RESULTS_DB"] = previous
    else:
        os.environ.pop("RESULTS_DB", None)
    scratch = _SESSION.get("scratch")
    if isinstance(scratch, str):
        shutil.rmtree(scratch, ignore_errors=True)
    before = _SESSION.get("before")
    if not isinstance(before, dict):
        return
    changes = snapshot_changes(before, results_snapshot())
    if changes:
        print(f"\nFAILED: the tests touched the user's store under {RESULTS}/ (every test must use a "
              f"temporary store): " + "; ".join(changes[:10]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def temporary_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RESULTS_DB set to a fresh store file for every test (and the subprocesses it starts)."""
    path = tmp_path / "store" / "runs.sqlite"  # a subfolder: the test's own files in tmp_path stay apart
    monkeypatch.setenv("RESULTS_DB", str(path))
    return path


def make_blobs(n_train: int = 600, n_test: int = 200, features: int = 20, classes: int = 10, seed: int = 0) -> Dataset:
    """A learnable synthetic classification problem: Gaussian blobs, one per class, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, size=(classes, features))

    def split(n):
        y = rng.integers(0, classes, n)
        x = np.clip(centers[y] + rng.normal(0, 0.08, (n, features)), 0, 1).astype(np.float32)
        return x, y

    x_train, y_train = split(n_train)
    x_test, y_test = split(n_test)
    return Dataset(x_train, y_train, x_test, y_test, source="blobs")


def run_in_threads(target, count: int) -> list[Exception]:
    """Run ``target()`` in ``count`` threads started together; return the exceptions they raised."""
    import threading

    barrier, errors = threading.Barrier(count), []

    def wrapped():
        barrier.wait()
        try:
            target()
        except Exception as exc:  # collected for the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=wrapped) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, message: str, every: float = 0.05) -> T:
    """Poll ``predicate`` every ``every`` seconds until it returns something truthy, and return that; fail the
    test with ``message`` (what was awaited, as "the run to start") if ``timeout`` seconds pass first. Every
    poll in the tests goes through here, so none can hang the suite where the awaited thing never happens."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")
        time.sleep(every)


@pytest.fixture
def blobs() -> Dataset:
    return make_blobs()


@pytest.fixture
def store(tmp_path: Path):
    """A RunStore on a fresh file in the test's tmp_path (apart from RESULTS_DB's), its connections closed after."""
    from experiments.store import RunStore

    fresh = RunStore(tmp_path / "runs.sqlite")
    yield fresh
    fresh.close_all()


def on_every_store_connection(monkeypatch: pytest.MonkeyPatch, pragma: Callable) -> None:
    """Every connection a RunStore opens from now on (in this test) gets ``pragma(conn)`` applied first: how
    the tests degrade a store (read-only, full) without touching the code under test."""
    from experiments.store import RunStore

    original = RunStore._conn

    def conn(self):
        c = original(self)
        pragma(c)
        return c
    monkeypatch.setattr(RunStore, "_conn", conn)


class FullDisk:
    """A full disk as SQLite itself simulates one: ``PRAGMA max_page_count`` set to the file's current size, so
    the next write that needs a new page fails with SQLITE_FULL, exactly as on a full disk. (A real full disk
    cannot be made here; this changes nothing in the code under test.)"""

    NO_LIMIT = 1073741823  # SQLite's default max_page_count

    def fill(self, conn) -> None:
        """The file behind this connection is full from now on."""
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    def free(self, conn) -> None:
        """Room again on the file behind this connection."""
        conn.execute(f"PRAGMA max_page_count = {self.NO_LIMIT}")


@pytest.fixture
def full_disk() -> FullDisk:
    """The full-disk simulation: ``full_disk.fill(conn)`` on one connection, or on every store connection with
    ``on_every_store_connection(monkeypatch, full_disk.fill)``."""
    return FullDisk()


@pytest.fixture
def app() -> Callable[..., AppTest]:
    """A maker of dashboard sessions: ``app()`` is a fresh AppTest of dashboard.py, not run yet (set its query
    parameters or secrets, then ``.run()``), each run waiting up to ``timeout`` seconds (30 unless given).
    Call it again for a second session (a reload, another browser tab)."""
    def fresh(timeout: float = 30) -> AppTest:
        return AppTest.from_file(APP, default_timeout=timeout)
    return fresh


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool = True) -> Path:
    """One MNIST-layout IDX file (gzipped unless ``compress`` is False) holding ``array`` as uint8."""
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def make_dataset(folder: Path, n_train: int = 30, n_test: int = 10, compress: bool = True, seed: int = 0) -> Path:
    """A valid MNIST-layout folder of random images and labels: loads in milliseconds."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 2051, compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n), 2049, compress)
    return folder


def corrupt(folder: Path, name: str, how: str) -> None:
    """Spoil one gzipped file of a ``make_dataset`` folder: truncated, wrong_magic, header_only or not_gzip."""
    path = folder / (name + ".gz")
    raw = gzip.decompress(path.read_bytes())
    if how == "truncated":
        raw = raw[: len(raw) // 2]
    elif how == "wrong_magic":
        raw = struct.pack(">I", 1234) + raw[4:]
    elif how == "header_only":
        raw = raw[:6]
    elif how == "not_gzip":
        path.write_bytes(b"this is not gzip at all")
        return
    path.write_bytes(gzip.compress(raw))


@pytest.fixture
def tiny_mnist(tmp_path: Path) -> Path:
    """A valid MNIST-layout folder of 30 + 10 random images: loads in milliseconds."""
    return make_dataset(tmp_path / "tiny-mnist")


def store_finished_run(store, val: list[float] | None, test: list[float], **settings) -> int:
    """A finished run with the given per-epoch validation (None: no validation set) and test accuracies."""
    config = RunConfig(hidden=(8,), epochs=len(test), val_size=0 if val is None else 10_000, **settings)
    run_id = store.create_run(config, name=f"run {settings}")
    for i, acc in enumerate(test):
        logs = {"epoch": i + 1, "train_loss": 0.5, "train_acc": 0.99, "test_loss": 1 - acc, "test_acc": acc,
                "elapsed": float(i + 1)}
        if val is not None:
            logs.update(val_acc=val[i], val_loss=1 - val[i])
        store.log_epoch(run_id, logs)
    store.set_status(run_id, "finished")
    return run_id


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    path = os.environ.get("MNIST_DIR")
    if not path or not Path(path).is_dir():
        pytest.skip("set MNIST_DIR to the real MNIST folder to run the integration tests")
    return path


class CompetingLoad:
    """One busy process per core (a plain Python loop), as a student's laptop or a class server has while a
    run trains. Each loop also ends by itself after 10 minutes, should a test die without stopping it."""

    LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"

    def __init__(self) -> None:
        self.processes: list = []

    def start(self) -> int:
        import subprocess
        import sys

        from experiments.runs.threads import cores

        self.processes = [subprocess.Popen([sys.executable, "-c", self.LOOP]) for _ in range(cores())]
        return len(self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait(timeout=10)
        self.processes = []


@pytest.fixture
def competing_load():
    """A ``CompetingLoad`` for the test to start and stop; stopped when the test ends, whatever happens."""
    load = CompetingLoad()
    try:
        yield load
    finally:
        load.stop()


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from nn import load_mnist
    return load_mnist(mnist_dir)


def undo_migrations_from(conn, step: int) -> None:
    """Take a fresh store file back to schema version ``step`` by undoing the additive migrations from ``step``
    on (ADD COLUMN, CREATE TABLE, CREATE INDEX), newest first. Tests of one migration use it so that they do not
    depend on the migrations other changes add after it (the version numbers are renumbered at merges)."""
    import re

    from experiments.store.schema import MIGRATIONS

    undo = [(r"\s*ALTER TABLE (\w+) ADD COLUMN (\w+)", "ALTER TABLE {0} DROP COLUMN {1}"),
            (r"\s*CREATE TABLE (\w+)", "DROP TABLE {0}"), (r"\s*CREATE INDEX (\w+)", "DROP INDEX {0}")]
    for version in sorted((v for v in MIGRATIONS if v >= step), reverse=True):
        for statement in reversed([s for s in MIGRATIONS[version].split(";") if s.strip()]):
            for pattern, reverse_sql in undo:
                if match := re.match(pattern, statement):
                    conn.execute(reverse_sql.format(*match.groups()))
                    break
            else:
                raise AssertionError(f"migration {version} is not additive: {statement.strip()[:60]}")
    conn.execute(f"PRAGMA user_version = {int(step)}")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (Debian's, driven by Playwright); skipped where either is missing."""
    pytest.importorskip("playwright.sync_api")
    from tests.live_server import CHROMIUM, chromium
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def ray_head():
    """A real ``ray start --head`` with Ray's default (token) authentication, on loopback, a free port and a
    temporary folder (tests/ray_head.py); stopped at the end of the session, also when a test failed. Tests
    join it with ``ray_token`` set."""
    pytest.importorskip("ray", reason="Ray is not installed: pip install -r requirements-ray.txt")
    from tests.ray_head import start_head, stop_head

    head = start_head()
    try:
        yield head
    finally:
        stop_head(head)


@pytest.fixture
def ray_token(ray_head, monkeypatch: pytest.MonkeyPatch):
    """This test presents the head's token as a user would (``RAY_AUTH_TOKEN_PATH``), and the token mode that
    joining turns on (``RAY_AUTH_MODE``) is undone after it."""
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(ray_head.token_file))
    return ray_head.token_file


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
