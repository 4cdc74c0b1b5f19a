"""The class server's entry: ``streamlit run serve.py`` serves the dashboard (``dashboard.py``, unchanged) and
takes up the runs as soon as the server starts, before anyone opens a page.

``streamlit run dashboard.py`` makes the run store and the run manager on the first page view that passes the
sign-in, so after a crash the runs the dead server left waited for a visitor. Here Streamlit's ASGI
app (``st.App``, served by uvicorn) makes them in its lifespan hook, when the server starts: the run that was
training resumes from its checkpoint (bit-identical to an unbroken run) and the runs that were queued are
queued again, in order (``ui.common.start_runs``). Everything else (the sign-in, the pages, the
options such as ``--server.address``) is the same.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

from ui import common


@asynccontextmanager
async def _take_up_runs(app: st.App) -> AsyncIterator[None]:
    common.start_runs()
    yield


app = st.App("dashboard.py", lifespan=_take_up_runs)
