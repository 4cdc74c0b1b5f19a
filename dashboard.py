"""Streamlit entry point: ``streamlit run dashboard.py``. The class server's doors, then navigation; each page
is a module in ui/.

Order matters: ``st.navigation`` first (hidden before a sign-in), so that the page the address names is
the page shown once signed in; then, on a class server (listening on anything but localhost),
``gate.guard_server`` stops before any page renders until the session has signed in (a personal code or
link, the school's sign-in, the teacher password), and refuses every page with one line when nobody could
sign in; then the link in the address bar is applied once, settings loaded from History are applied, and
the settings are mirrored back into it (``ui/links.py``).

Every page has its own URL (``/train``, ``/compare``, ...), so a bookmarked or typed address opens that
page directly. Streamlit serves its default page at the root only, not at the default page's own path
(``/train`` would say "Page not found" first), so the default is a hidden root page that switches to Train.
"""
import streamlit as st

from experiments.i18n import _
from ui import common, gate, language, links, student

ROOT = "home"

language.apply()  # first: everything below writes in the session's language
st.set_page_config(page_title=_("MNIST MLP lab"), page_icon=":material/neurology:", layout="wide")
links.init_settings()
gate.restore_sign_in()  # a remembered sign-in (reload, new tab): no prompt, the page at once
train = st.Page(common.PAGES["train"], title=_("Train"), icon=":material/model_training:", url_path="train")


def _root() -> None:
    """The app's root URL: open the Train page (at its own address, with the same query, e.g. ?runs=3,4)."""
    st.switch_page(train, query_params=st.query_params.to_dict())


page = st.navigation([
    st.Page(_root, title=_("MNIST MLP lab"), url_path=ROOT, default=True, visibility="hidden"),
    train,
    st.Page(common.PAGES["compare"], title=_("Compare"), icon=":material/compare_arrows:", url_path="compare"),
    st.Page(common.PAGES["history"], title=_("History"), icon=":material/history:", url_path="history"),
    st.Page(common.PAGES["exercises"], title=_("Exercises"), icon=":material/quiz:", url_path="exercises"),
    st.Page(common.PAGES["report"], title=_("Report"), icon=":material/description:", url_path="report"),
    st.Page(common.PAGES["inspect"], title=_("Inspect"), icon=":material/search:", url_path="inspect"),
    st.Page(common.PAGES["sweep"], title=_("Sweep"), icon=":material/grid_view:", url_path="sweep"),
    st.Page(common.PAGES["insights"], title=_("Insights"), icon=":material/insights:", url_path="insights"),
    st.Page(common.PAGES["teacher"], title=_("Teacher"), icon=":material/school:", url_path="teacher"),
], position="sidebar" if common.signed_in() is not None else "hidden")
gate.guard_server()  # after st.navigation: a deep link (/history?runs=3) is the page shown after signing in
if page.url_path not in ("", ROOT):  # the root (the default page: url_path "") only forwards to Train
    gate.remember_pending()  # here, not on the root, whose switch to Train would drop the cookie's script
    links.apply_once(page.url_path)
    links.apply_pending()
    links.mirror(page.url_path)
    links.notices(page.url_path)
    language.switch()
    student.sidebar_badge()
    links.copy_link(page.url_path)
page.run()
