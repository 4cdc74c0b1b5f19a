"""Streamlit entry point: ``streamlit run dashboard.py``. Only navigation here; each page is a module in ui/."""
import streamlit as st

from ui import common

st.set_page_config(page_title="MNIST MLP lab", page_icon=":material/neurology:", layout="wide")
common.keep_widget_state()
page = st.navigation([
    st.Page(common.PAGES["train"], title="Train", icon=":material/model_training:", url_path="train", default=True),
    st.Page(common.PAGES["compare"], title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page(common.PAGES["history"], title="History", icon=":material/history:", url_path="history"),
    st.Page(common.PAGES["report"], title="Report", icon=":material/description:", url_path="report"),
    st.Page(common.PAGES["inspect"], title="Inspect", icon=":material/search:", url_path="inspect"),
    st.Page(common.PAGES["sweep"], title="Sweep", icon=":material/grid_view:", url_path="sweep"),
    st.Page(common.PAGES["insights"], title="Insights", icon=":material/insights:", url_path="insights"),
])
page.run()
