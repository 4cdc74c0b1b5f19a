"""The "Try this fix" button under a diagnosis: queue the run's settings and the fixed ones, 3 seeds each,
as one group, then open Compare on that group (where the verdict appears as the runs finish)."""
from __future__ import annotations

import streamlit as st

from experiments.analysis.diagnosis import Finding
from experiments.analysis.diagnosis_text import fix_text
from experiments.analysis.fix_trial import NoFixError, plan_fix, queue_fix
from experiments.store import RunRecord
from ui import common

GROUP_PARAM = "group"  # Compare's URL parameter naming the group to show


def try_fix_button(run: RunRecord, finding: Finding, key: str) -> None:
    """A button that tests ``finding``'s fix on ``run`` (nothing when the finding has no fix)."""
    if not finding.fix or run.config is None:
        return
    if not st.button("Try this fix", key=key, icon=":material/science:",
                     help=f"Queue the run's settings and the fixed ones ({fix_text(finding).replace('**', '')}), "
                          f"3 seeds each, and compare them with a t-test."):
        return
    try:
        plan = plan_fix(common.store(), run.id, finding.kind)
    except (NoFixError, *common.USER_ERRORS) as exc:
        st.error(common.message_text(exc), icon=":material/error:")
        return
    if not common.first_click("try_fix", (run.id, finding.kind, plan.fixed)):
        return
    try:
        group_id = queue_fix(common.manager(), plan)
    except common.USER_ERRORS as exc:
        st.error(common.message_text(exc), icon=":material/error:")
        return
    st.switch_page(common.PAGES["compare"], query_params={GROUP_PARAM: group_id})
