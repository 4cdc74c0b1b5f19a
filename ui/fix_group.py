"""Compare's view of a "Try this fix" group: the original and the fixed settings side by side, and the
verdict (did the fix help, by how much, or is it within seed noise), refreshed while the runs train."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from experiments.analysis.fix_trial import fix_verdict, run_under_trial
from experiments.store import RunRecord, StoreError
from nn.status import RunStatus
from ui import common
from ui.fix_button import GROUP_PARAM

REFRESH_S = 2.0


def fix_group_view(compare_runs: Callable[[list[RunRecord]], None]) -> bool:
    """Show the fix group named in the URL (``?group=fix-...``); False when there is none."""
    group_id = st.query_params.get(GROUP_PARAM, "")
    run_id = run_under_trial(group_id) if group_id else None
    if run_id is None:
        return False
    if st.button("Back to all runs", key="fix_back", icon=":material/arrow_back:"):
        del st.query_params[GROUP_PARAM]
        st.rerun()
    runs = common.store().search_runs(group_id=group_id, order_by="id", descending=False)
    active = any(RunStatus(r.status).is_active for r in runs)
    st.fragment(_trial, run_every=REFRESH_S if active else None)(group_id, run_id, compare_runs)
    return True


def _trial(group_id: str, run_id: int, compare_runs: Callable[[list[RunRecord]], None]) -> None:
    store = common.store()
    runs = [r for r in store.search_runs(group_id=group_id, order_by="id", descending=False) if r.config is not None]
    st.subheader(f"Trying a fix for run {run_id}")
    if not runs:
        st.info("This fix trial has no runs (deleted?).", icon=":material/info:")
        return
    try:
        verdict = fix_verdict(store, group_id)
    except (StoreError, ValueError) as exc:
        st.error(common.message_text(exc), icon=":material/error:")
        return
    done = len(runs) - verdict.pending
    st.progress(done / len(runs), text=f"{done} of {len(runs)} runs ended")
    show = st.success if verdict.verdict.real and verdict.verdict.diff > 0 else st.info
    show(f"**Verdict**: {common.md_escape(verdict.text)}", icon=":material/balance:")
    compare_runs(runs)
