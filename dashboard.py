"""Streamlit entry point: ``streamlit run dashboard.py``. Only navigation here; each page is a module in ui/.

Every page has its own URL (``/train``, ``/compare``, ...), so a bookmarked or typed address opens that
page directly. Streamlit serves its default page at the root only, not at the default page's own path
(``/train`` would say "Page not found" first), so the default is a hidden root page that switches to Train.
"""
import streamlit as st

from ui import common

st.set_page_config(page_title="MNIST MLP lab", page_icon=":material/neurology:", layout="wide")
common.keep_widget_state()
train = st.Page(common.PAGES["train"], title="Train", icon=":material/model_training:", url_path="train")


def _root() -> None:
    """The app's root URL: open the Train page (at its own address, with the same query, e.g. ?runs=3,4)."""
    st.switch_page(train, query_params=st.query_params.to_dict())


page = st.navigation([
    st.Page(_root, title="MNIST MLP lab", url_path="home", default=True, visibility="hidden"),
    train,
    st.Page(common.PAGES["compare"], title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page(common.PAGES["history"], title="History", icon=":material/history:", url_path="history"),
    st.Page(common.PAGES["report"], title="Report", icon=":material/description:", url_path="report"),
    st.Page(common.PAGES["inspect"], title="Inspect", icon=":material/search:", url_path="inspect"),
    st.Page(common.PAGES["sweep"], title="Sweep", icon=":material/grid_view:", url_path="sweep"),
    st.Page(common.PAGES["insights"], title="Insights", icon=":material/insights:", url_path="insights"),
])
page.run()
