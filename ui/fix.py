"""Try this fix, in the dashboard: the button under a diagnosis (on Train) that queues the run's settings and the
fixed ones, 3 seeds each, as one group, then opens Compare on that group; and Compare's view of the group:
the original and the fixed settings side by side and the verdict (did the fix help, by how much, or is it
within seed noise), refreshed while the runs train."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from experiments.analysis.diagnosis import Finding
from experiments.analysis.diagnosis_text import fix_text
from experiments.analysis.fix_trial import NoFixError, fix_verdict, plan_fix, queue_fix, run_under_trial
from experiments.i18n import _, ngettext
from experiments.store import RunRecord, StoreError
from nn.status import RunStatus
from ui import common

GROUP_PARAM = "group"  # Compare's URL parameter naming the group to show
REFRESH_S = 2.0


def try_fix_button(run: RunRecord, finding: Finding, key: str) -> None:
    """A button that tests ``finding``'s fix on ``run`` (nothing when the finding has no fix)."""
    if not finding.fix or run.config is None:
        return
    if not st.button(_("Try this fix"), key=key, icon=":material/science:",
                     help=_("Queue the run's settings and the fixed ones ({fix}), 3 seeds each, and compare them "
                            "with a t-test.").format(fix=fix_text(finding).replace("**", ""))):
        return
    try:
        plan = plan_fix(common.store(), run.id, finding.kind)
    except (NoFixError, *common.USER_ERRORS) as exc:
        st.error(common.message_text(exc), icon=":material/error:")
        return
    if not common.first_click("try_fix", (run.id, finding.kind, plan.fixed)):
        return
    try:
        group_id = queue_fix(common.manager(), plan, identity=common.identity())
    except common.USER_ERRORS as exc:
        st.error(common.message_text(exc), icon=":material/error:")
        return
    st.switch_page(common.PAGES["compare"], query_params={GROUP_PARAM: group_id})


def fix_group_view(compare_runs: Callable[[list[RunRecord]], None]) -> bool:
    """Show the fix group named in the URL (``?group=fix-...``); False when there is none."""
    group_id = st.query_params.get(GROUP_PARAM, "")
    run_id = run_under_trial(group_id) if group_id else None
    if run_id is None:
        return False
    if st.button(_("Back to all runs"), key="fix_back", icon=":material/arrow_back:"):
        del st.query_params[GROUP_PARAM]
        st.rerun()
    runs = common.store().search_runs(group_id=group_id, order_by="id", descending=False)
    active = any(RunStatus(r.status).is_active for r in runs)
    st.fragment(_trial, run_every=REFRESH_S if active else None)(group_id, run_id, compare_runs)
    return True


def _trial(group_id: str, run_id: int, compare_runs: Callable[[list[RunRecord]], None]) -> None:
    store = common.store()
    runs = [r for r in store.search_runs(group_id=group_id, order_by="id", descending=False) if r.config is not None]
    st.subheader(_("Trying a fix for run {id}").format(id=run_id))
    if not runs:
        st.info(_("This fix trial has no runs (deleted?)."), icon=":material/info:")
        return
    try:
        verdict = fix_verdict(store, group_id)
    except (StoreError, ValueError) as exc:
        st.error(common.message_text(exc), icon=":material/error:")
        return
    done = len(runs) - verdict.pending
    st.progress(done / len(runs), text=ngettext("{done} of {n} run ended", "{done} of {n} runs ended",
                                                len(runs)).format(done=done, n=len(runs)))
    show = st.success if verdict.verdict.real and verdict.verdict.diff > 0 else st.info
    show(_("**Verdict**: {verdict}").format(verdict=common.md_escape(verdict.text)), icon=":material/balance:")
    compare_runs(runs)
