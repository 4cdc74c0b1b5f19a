"""Helpers shared by the pages: the one store and run manager, safe text, error handling, the data banner."""
from __future__ import annotations

import hashlib
import os
import re
import time
import traceback
from collections.abc import Callable
from typing import Final

import pandas as pd
import streamlit as st

from experiments import visibility
from experiments.access import LOCAL_USER, Identity, Role, is_local
from experiments.config import ConfigError, RunConfig, labels_for, schema
from experiments.i18n import _, decimal
from experiments.runs.data_source import DataSource
from experiments.runs.ray_executor import class_execution
from experiments.runs.runner import RunManager
from experiments.store import DEFAULT_DB, RunRecord, RunStore, StoreError
from experiments.store.classroom import class_settings
from nn import DataError


def config_key(name: str) -> str:
    """The Session State key of the sidebar widget for RunConfig setting (or run attribute) ``name``."""
    return f"cfg_{name}"


NAME_KEY = config_key("name")  # the run name box (a run attribute, not a setting)
# Sidebar widget keys (Train page), derived from RunConfig's schema; their widgets keep their values across
# pages (persist_state="session", ui/sidebar.py).
CONFIG_KEYS = (*(config_key(e.name) for e in schema() if e.setting.in_sidebar), NAME_KEY)
# Streamlit drops the value of a widget that a run does not draw: the inputs a user fills in or chooses (the
# sidebar's settings, each page's forms and controls) keep theirs for the session instead, through any number
# of visits to other pages. (Not for choices among options that change, e.g. a run or sweep picker.)
KEEP: Final = "session"
PAGES = {"train": "ui/train_page.py", "compare": "ui/compare_page.py", "history": "ui/history_page.py",
         "report": "ui/report_page.py", "inspect": "ui/inspect_page.py",
         "sweep": "ui/sweep_page.py", "insights": "ui/insights_page.py", "exercises": "ui/exercises_page.py",
         "teacher": "ui/teacher_page.py"}
# "Load into sidebar": the settings on their way to the sidebar (applied by ui/links.apply_pending on the next
# run, before the widgets are drawn), and the flag that has the sidebar say they were loaded.
PENDING_CONFIG, CONFIG_LOADED = "pending_config", "config_loaded"
USER_ERRORS = (ConfigError, StoreError, DataError)
STUDENT_KEY = "_student"  # this session's student name (ui/student.py asks for it)


def store_path() -> str:
    """The run store file: ``RESULTS_DB`` or results/runs.sqlite."""
    return os.environ.get("RESULTS_DB") or str(DEFAULT_DB)


@st.cache_resource(show_spinner=False)
def _resources(path: str) -> tuple[RunStore, RunManager, DataSource]:
    store = RunStore(path)
    data = DataSource()
    execution = class_execution()  # here, or on the Ray cluster at MNIST_LAB_RAY_ADDRESS
    manager = RunManager(store, max_concurrent=execution.runs_at_once, data_loader=data.load,
                         executor=execution.executor)
    # what the last server left: the runs it was training resume from their checkpoints, then the runs it had
    # queued are queued again, in order
    manager.resume_interrupted()
    manager.requeue_orphans()
    return store, manager, data


IDENTITY_KEY = "_identity"  # the session's signed-in Identity, written by the sign-in (ui/gate.py)


def class_server() -> bool:
    """Whether this server listens on anything but localhost (``experiments.access.is_local``)."""
    return not is_local(st.get_option("server.address"))


def signed_in() -> Identity | None:
    """Who signed in to this session: ``LOCAL_USER`` on a laptop; on a class server whoever signed in (through
    ``ui/gate.py``), None before."""
    if not class_server():
        return LOCAL_USER
    found = st.session_state.get(IDENTITY_KEY)
    return found if isinstance(found, Identity) else None


def identity() -> Identity:
    """Who this session is, for what it may see and change: on a class server whoever signed in (``ui/gate.py``;
    before a sign-in a nameless student, who may change nothing), on a laptop ``LOCAL_USER``. Never taken from
    the address bar."""
    who = signed_in()
    return who if who is not None else Identity("", Role.STUDENT)


def sees_test() -> bool:
    """Whether this session may see test-set numbers (``experiments.visibility``: not a student on a class
    server until the teacher reveals them)."""
    who = identity()
    return who.role is not Role.STUDENT or visibility.sees_test(who, class_settings(_resources(store_path())[0]))


def visible(names: list[str]) -> list[str]:
    """Metric or column names this session may see: all of them, or those not on the test set
    (``experiments.visibility``)."""
    return names if sees_test() else visibility.without_test_metrics(names)


def visible_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A table without its test-set columns for a session that may not see them (their cells are empty
    already: this leaves no empty "test" column behind)."""
    return frame[visible([str(c) for c in frame.columns])]


def start_runs() -> None:
    """Make the store and the run manager now, so that the runs the last server left go on without a visitor:
    ``serve.py`` calls this when the server starts (``streamlit run dashboard.py`` makes them on the first
    page view)."""
    _resources(store_path())


def store() -> RunStore:
    """The process-wide run store (one per store file), as this session may read it: without test numbers
    for a student until the teacher reveals them (``experiments.visibility.StudentView``)."""
    shared = _resources(store_path())[0]
    return shared if sees_test() else visibility.StudentView(shared)


def manager() -> RunManager:
    """The process-wide run manager: every browser session queues into it."""
    return _resources(store_path())[1]


def data_source() -> DataSource:
    return _resources(store_path())[2]


def run_page(render: Callable[[], None]) -> None:
    """Run a page body; show user-facing errors as messages and never a traceback."""
    try:
        render()
    except USER_ERRORS as exc:
        st.error(message_text(exc), icon=":material/error:")
    except Exception as exc:  # a bug: say so plainly; the details go to the server log only
        traceback.print_exc()
        st.error(_("Something went wrong on this page ({error}). The details are in the server log; reload the "
                   "page to try again.").format(error=type(exc).__name__), icon=":material/error:")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")


def md_escape(text: object) -> str:
    """User text made literal for Markdown (no links, images, colours, LaTeX or HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))


_MESSAGE_SPECIAL = re.compile(r"([\\`*\[\]()<>!$~|#])")


def message_text(text: object) -> str:
    """An error message that may quote user text, made literal for Markdown (no links, images, HTML, code
    or LaTeX) while staying readable: unlike ``md_escape`` it leaves ``_``, ``.`` and ``:`` alone, so paths
    and names such as RESULTS_DB read as they are."""
    return _MESSAGE_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))


def run_labels(runs: list[RunRecord]) -> dict[int, str]:
    """Short legend labels for runs, from the settings that differ between them (plus the seed if needed)."""
    if not runs:
        return {}
    readable = [(r, r.config) for r in runs if r.config is not None]
    labels = labels_for([c for _, c in readable])
    if len(set(labels)) < len(labels):
        labels = [f"{lab}, seed={c.seed}" for lab, (_, c) in zip(labels, readable)]
    if len(set(labels)) < len(labels):
        labels = [f"#{r.id} {lab}" for lab, (r, _) in zip(labels, readable)]
    found = {r.id: lab for (r, _), lab in zip(readable, labels)}
    return {r.id: found.get(r.id, _("run {id} ({note})").format(id=r.id, note=r.settings_note)) for r in runs}


def load_into_sidebar(config: RunConfig) -> None:
    """Put a run's settings into the Train page's sidebar and go there."""
    st.session_state[PENDING_CONFIG] = config.to_dict()
    st.switch_page(PAGES["train"])


def data_banner() -> None:
    """Dataset state: a progress bar while MNIST downloads, the reason (and the fix) if it cannot load."""
    status = data_source().status()
    if status.state == "downloading":
        done = decimal(status.done / 1e6, 1)
        text = (_("Downloading MNIST: {file}, {done} of {total} MB").format(
                    file=md_escape(status.file), done=done, total=decimal(status.total / 1e6, 1)) if status.total
                else _("Downloading MNIST: {file}, {done} MB").format(file=md_escape(status.file), done=done))
        st.progress(status.fraction, text=text)
    elif status.state == "loading":
        st.caption(_("Loading MNIST..."))
    elif status.state == "failed":
        st.error(_("The MNIST images are not available: {reason}").format(reason=message_text(status.error)),
                 icon=":material/cloud_off:")
        st.markdown(_("To use local files, put the four MNIST files (`train-images-idx3-ubyte.gz`, "
                      "`train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`) "
                      "in a folder and start the app with `MNIST_DIR=/path/to/folder streamlit run dashboard.py`."))
        if st.button(_("Try again"), key="data_retry"):
            data_source().retry()
            st.rerun()


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return _("ETA after the first epoch")
    if seconds < 90:
        return _("ETA {seconds} s").format(seconds=f"{seconds:.0f}")
    return _("ETA {minutes} min").format(minutes=f"{seconds / 60:.0f}")


CLICK_WINDOW_S = 3.0


def first_click(action: str, payload: object, window_s: float = CLICK_WINDOW_S) -> bool:
    """True the first time this session asks for ``action`` with this ``payload`` within ``window_s`` seconds.

    Every button that queues work calls this before queuing, so a double click (two reruns that both see
    the button pressed: the second click interrupts the first rerun) queues the work once. The claim is
    written to Session State *before* the work is queued, so an interrupted first rerun still counts.
    ``payload`` is anything whose ``repr`` identifies the work (e.g. the configs to queue).
    """
    digest = hashlib.sha256(f"{action}\0{payload!r}".encode()).hexdigest()
    claims: dict[str, float] = st.session_state.setdefault("_click_claims", {})
    now = time.monotonic()
    for key in [k for k, t in claims.items() if now - t > window_s]:
        del claims[key]
    if digest in claims:
        return False
    claims[digest] = now
    return True
