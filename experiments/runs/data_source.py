"""The dataset as the dashboard sees it: loaded once per process, with download progress to show.

No Streamlit here: worker threads call ``load`` (through the RunManager's ``data_loader``) and the page
reads ``status()`` snapshots. Loads are serialized, so a first-start download happens once, not once
per queued run. A failure is kept as its ``DataError``, worded when a page reads ``error``: the loading thread
has no session, and every session shows it in its own language.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from experiments.config import ConfigError, RunConfig
from experiments.i18n import N_
from experiments.runs.training import load_data
from nn import DataError, Dataset


@dataclass(frozen=True)
class DataStatus:
    """``state`` is idle, loading, downloading, ready or failed; ``failure`` why it failed (``error`` in words)."""

    state: str = "idle"
    file: str = ""
    done: int = 0
    total: int = 0
    failure: DataError | None = None

    @property
    def error(self) -> str:
        """Why the load failed, one line in the current language (the reader's, not the loading thread's)."""
        return str(self.failure) if self.failure is not None else ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


class DataSource:
    """Loads MNIST for the runs of this process and records what the loading is doing."""

    def __init__(self, loader=load_data):
        self._loader = loader
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._status = DataStatus()
        self._thread: threading.Thread | None = None

    def status(self) -> DataStatus:
        with self._lock:
            return self._status

    def _set(self, **changes) -> None:
        with self._lock:
            self._status = DataStatus(**{**self._status.__dict__, **changes})

    def _progress(self, file: str, done: int, total: int) -> None:
        self._set(state="downloading", file=file, done=done, total=total)

    def load(self, config: RunConfig) -> Dataset:
        """The dataset ``config`` trains on; raises DataError on failure.

        Only the default dataset (no ``data_dir``) is reflected in ``status()``; a run with its own folder
        reports its own problems on the run.
        """
        track = not config.data_dir
        with self._load_lock:
            if track and self.status().state != "ready":
                self._set(state="loading", failure=None)
            try:
                data = self._loader(config, self._progress if track else None)
            except (DataError, OSError) as exc:
                failure = exc if isinstance(exc, DataError) else DataError(
                    N_("cannot read the dataset: {reason}"), reason=exc)
                if track:
                    self._set(state="failed", failure=failure)
                raise failure from None
            except ConfigError:  # the data is fine, the config does not fit it (e.g. val_size too large)
                if track:
                    self._set(state="ready", failure=None)
                raise
            if track:
                self._set(state="ready", failure=None)
            return data

    def prepare(self) -> None:
        """Start loading the default dataset in the background (downloading it on first start), once: a load
        that failed is tried again only by ``retry`` (the page's "Try again"). Restarting it on every page run
        flipped the page between loading and failed while a student clicked, and lost the click."""
        with self._lock:
            if self._status.state in ("ready", "failed"):
                return
            self._start()

    def retry(self) -> None:
        """Try a failed load again (the files may be there now, or the network back)."""
        with self._lock:
            if self._status.state != "ready":
                self._start()

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._prepare, name="data-prepare", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        # a DataError's message is in status(), which the page shows; a ConfigError is a run's to report
        with contextlib.suppress(DataError, ConfigError):
            self.load(RunConfig())
