"""History: every stored run (command-line runs too); filter, sort, edit, delete, export, reuse."""
from __future__ import annotations

import streamlit as st

from experiments import run_actions
from experiments.access import NotAllowed
from experiments.analysis import ranking
from experiments.analysis.ranking import SummaryBy
from experiments.i18n import _, ngettext
from experiments.runs.completion import shown_message, status_word
from experiments.store import STATUSES, RunRecord, StoreError
from ui import common, export_buttons, resume_controls, student
from ui.tables import pick_runs, summary_by_control

ORDERS = ("validation", "newest")


def order_name(order: str) -> str:
    """An order of the runs in words, in the current language."""
    if order == "validation":
        return _("{rank_name}, highest first").format(rank_name=ranking.RANK_NAME)
    return _("newest first")


def _forget_delete() -> None:
    st.session_state.pop("pending_delete", None)


def _confirm_delete(run_ids: list[int]) -> None:
    """The dialog that asks before deleting (its title in the current language: the decorator runs per call)."""
    st.dialog(_("Delete runs?"), on_dismiss=_forget_delete)(_delete_dialog)(run_ids)


def _delete_dialog(run_ids: list[int]) -> None:
    st.write(ngettext("This deletes {count} run ({ids}) with its epochs, saved weights and checkpoints. It cannot "
                      "be undone.",
                      "This deletes {count} runs ({ids}) with their epochs, saved weights and checkpoints. It "
                      "cannot be undone.", len(run_ids)).format(count=len(run_ids), ids=", ".join(map(str, run_ids))))
    yes, no = st.columns(2)
    if yes.button(_("Delete"), type="primary", key="confirm_delete", icon=":material/delete:"):
        try:
            run_actions.delete(common.manager(), common.identity(), run_ids)
        except (NotAllowed, StoreError) as exc:
            _forget_delete()
            st.error(_("Nothing deleted: {reason}").format(reason=common.message_text(exc)), icon=":material/block:")
            return
        st.session_state["compare_ids"] = [i for i in st.session_state.get("compare_ids", []) if i not in run_ids]
        _forget_delete()
        st.rerun()
    if no.button(_("Cancel"), key="cancel_delete"):
        _forget_delete()
        st.rerun()


def _edit(run) -> None:
    """Rename, notes and tags of one run (the session's own; read-only for another's); its settings into the
    sidebar; open it in Inspect."""
    st.subheader(_("Run {id}").format(id=run.id))
    c = run.config
    settings = _("{architecture}, {activation}, {optimizer}, lr {lr}, L2 {l2}, batch {batch}, seed {seed}").format(
        architecture=c.architecture, activation=c.activation, optimizer=c.optimizer, lr=f"{c.lr:g}", l2=f"{c.l2:g}",
        batch=c.batch_size, seed=c.seed) if c else run.settings_note
    st.text(f"{settings} · {status_word(run.status)}" + (f": {shown_message(run.message)}" if run.message else ""))
    mine = common.identity().may_change(run.student)
    if not mine:
        st.caption(_("The teacher's run: you can look at it and load its settings, not change it.") if not run.student
                   else _("{student}'s run: you can look at it and load its settings, not change it.").format(
                       student=common.md_escape(run.student)))
    with st.form(key=f"edit_{run.id}", border=False):
        name = st.text_input(_("Name"), value=run.name, max_chars=200, disabled=not mine, key=f"edit_name_{run.id}")
        tags = st.text_input(_("Tags"), value=", ".join(run.tags), disabled=not mine, key=f"edit_tags_{run.id}",
                             help=_("Separated by commas, e.g. 'baseline, lr sweep'. Exercise tags are set by the "
                                    "exercise itself."))
        notes = st.text_area(_("Notes"), value=run.notes, height=100, disabled=not mine, key=f"edit_notes_{run.id}")
        if st.form_submit_button(_("Save"), icon=":material/save:", disabled=not mine):
            try:  # all three checked before any is written: a refused value changes nothing
                run_actions.edit(common.store(), common.identity(), run.id, name, tags, notes)
            except (StoreError, NotAllowed) as exc:
                st.error(_("Not saved: {reason}").format(reason=common.message_text(exc)), icon=":material/block:")
            else:
                st.toast(_("Run {id} saved").format(id=run.id), icon=":material/check:")
                st.rerun()
    a, b, more = st.columns(3)
    if a.button(_("Load into sidebar"), key=f"load_{run.id}", icon=":material/input:", disabled=c is None,
                help=_("Open the Train page with this run's settings, to run it again or vary it.")) and c:
        common.load_into_sidebar(c)
    if b.button(_("Inspect"), key=f"inspect_{run.id}", icon=":material/search:",
                disabled=not common.store().weights_path(run.id).is_file(),
                help=_("Confusion matrix, mistakes and first-layer weights of this run's network.")):
        st.session_state["inspect_id"] = run.id
        st.switch_page(common.PAGES["inspect"])
    resume_controls.resume_button(run, more, "hist")
    resume_controls.continue_control(run, more, "hist")


def export_label(selected: int, listed: int) -> tuple[str, str]:
    """The export button's label and file name, which say what it exports: the ticked runs or all listed."""
    if selected:
        return _("Export {count} selected (CSV)").format(count=selected), "runs-selected.csv"
    return _("Export all {count} listed (CSV)").format(count=listed), "runs.csv"


def _ordered(runs: list[RunRecord]) -> tuple[list[RunRecord], SummaryBy]:
    """The order and "best or last epoch" controls, and the runs in that order (best on validation first by
    default; the store's order, newest first, otherwise)."""
    o1, o2 = st.columns([2, 3])
    order = o1.selectbox(_("Order"), list(ORDERS), format_func=order_name, key="hist_order",
                         persist_state=common.KEEP,
                         help=_("Validation accuracy at the epoch chosen below (the best epoch is the one with the "
                                "lowest validation loss): runs without a validation set follow, by test accuracy, "
                                "then runs with no finished epoch.")) or "validation"
    with o2:
        by = summary_by_control("hist_by")
    return (ranking.rank(runs, by) if order == "validation" else runs), by


def _actions(runs: list[RunRecord], picked: list[int]) -> list[int]:
    """Export, Compare and Delete. Export and delete act on the session's own runs among those picked (or
    listed, with none picked); every run for the teacher or a laptop; checked again in
    experiments/run_actions.py. Returns the runs this session may export."""
    who, by_id = common.identity(), {r.id: r for r in runs}
    yours = [r.id for r in run_actions.changeable(who, [by_id[i] for i in picked if i in by_id] or runs)]
    own_picked = [i for i in picked if i in yours]
    c1, c2, c3, c4 = st.columns(4)
    with_epochs = c2.toggle(_("One row per epoch"), key="hist_csv_epochs", persist_state=common.KEEP)
    label, file_name = export_label(len(picked), len(runs))
    if len(yours) < len(picked or runs):
        label = _("Export your {count} (CSV)").format(count=len(yours))
    c1.download_button(label, run_actions.export_csv(common.store(), who, yours, epochs=with_epochs),
                       file_name=file_name, mime="text/csv", icon=":material/download:", key="hist_export",
                       disabled=not yours, help=_("The ticked runs; with none ticked, every run listed (after the "
                                                  "filters above); only your own runs."))
    if c3.button(_("Compare selected"), disabled=len(picked) < 1, icon=":material/compare_arrows:", key="hist_compare"):
        st.switch_page(common.PAGES["compare"])
    if c4.button(_("Delete selected ({count})").format(count=len(own_picked)), disabled=not own_picked,
                 icon=":material/delete:", key="hist_delete"):
        st.session_state["pending_delete"] = own_picked
    return yours


def render() -> None:
    st.title(_("History"))
    store = common.store()
    f1, f2 = st.columns([2, 3])
    statuses = f1.multiselect(_("Status"), STATUSES, key="hist_status", format_func=status_word,
                              persist_state=common.KEEP, placeholder=_("any status"))
    text = f2.text_input(_("Search"), key="hist_text",
                         persist_state=common.KEEP, placeholder=_("name, notes, tags or settings, e.g. sgd"),
                         help=_("Matches part of a run's name, notes, tags, message or settings; "
                                "lr=0.1, batch=64 or optimizer=adam match those settings."))
    runs, by = _ordered(store.search_runs(status=statuses or None, text=text.strip() or None,
                                              student=student.scope_filter("hist_scope")))
    who, others = common.identity(), student.others_visible()
    runs = [r for r in runs if run_actions.visible(who, others, r)]
    total = store.count_runs()
    if not total:
        st.info(_("No runs stored yet. Runs from the **Train** page and from `python -m experiments run` "
                  "appear here."), icon=":material/info:")
        return
    # A click on a column header re-sorts the table in the browser, unseen by the server.
    count = ngettext("{shown} of {total} run.", "{shown} of {total} runs.", total).format(shown=len(runs), total=total)
    st.caption(" ".join((count, ranking.summary_text(by), ranking.WHY_NOT_TEST,
                         _("Click a column header to sort; tick rows to select them (they are preselected on the "
                           "Compare page)."))))
    if unreadable := [str(r.id) for r in runs if r.config is None]:
        st.caption(_("Settings unreadable by this version (left blank): run {ids}.").format(ids=", ".join(unreadable)))
    picked = pick_runs(runs, key="history_table", by=by) if runs else []
    yours = _actions(runs, picked)
    if st.session_state.get("pending_delete"):
        _confirm_delete(st.session_state["pending_delete"])
    if picked:
        try:
            _edit(store.get_run(picked[-1]))
        except StoreError as exc:
            st.warning(common.message_text(exc))
    export_buttons.runs_exports(store, yours)  # the session's own runs, as the CSV


common.run_page(render)
