"""Report: rerun the course report's comparisons and set our curves beside its numbers (coming next)."""
from __future__ import annotations

import streamlit as st

from ui import common


def render() -> None:
    st.title("Report")
    st.info("The course report's comparisons (one button each, and one for all) will be here soon. Meanwhile, "
            "train the settings on the **Train** page and overlay them on **Compare**.", icon=":material/construction:")


common.run_page(render)
