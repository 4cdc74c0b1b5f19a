"""The exports on History and Inspect: runs as a zip of TensorBoard event files or into an MLflow tracking
store, a run's network as an ONNX file. Each is offered where its packages are installed; elsewhere the page
says how to install them. The work is ``experiments.exports``' (run ids in, nothing from Streamlit)."""
from __future__ import annotations

import streamlit as st

from experiments.exports import INSTALL_HINT, ExportError, missing_packages
from experiments.exports.common import Tool
from experiments.i18n import _
from experiments.store import RunStore
from ui import common

MLFLOW_PLACEHOLDER = "sqlite:////home/me/mlflow.db"


def _install_note(tool: Tool) -> bool:
    """Say how to install ``tool``'s packages when they are missing; True when they are."""
    missing = missing_packages(tool)
    if missing:
        st.caption(_("{tool} export: install {packages} first (`{command}`).").format(
            tool=tool.label, packages=", ".join(missing), command=INSTALL_HINT))
    return bool(missing)


def tensorboard_download(store: RunStore, run_ids: list[int], key: str) -> None:
    """A download button for the runs' TensorBoard event files, zipped (written when it is clicked)."""
    if _install_note(Tool.TENSORBOARD):
        return
    from experiments.exports.tensorboard_events import tensorboard_zip

    ids = list(run_ids)
    st.download_button(_("TensorBoard files of {count} run(s) (zip)").format(count=len(ids)),
                       lambda: tensorboard_zip(store, ids),
                       file_name="tensorboard-runs.zip", mime="application/zip", on_click="ignore", key=key,
                       icon=":material/download:", disabled=not ids,
                       help=_("One folder per run: every epoch's metrics, the within-epoch points and the settings "
                              "as HParams. Unzip and run `tensorboard --logdir FOLDER`."))


def mlflow_form(store: RunStore, run_ids: list[int], key: str) -> None:
    """A tracking URI and a button that logs the runs into that MLflow store (not on a class server, where
    the URI would name a file on the server)."""
    if _install_note(Tool.MLFLOW):
        return
    if common.class_server():
        st.caption(_("MLflow export: from the command line on a class server (a tracking URI names a file on the "
                     "server): `python -m experiments export --format mlflow --tracking-uri sqlite:///mlflow.db`."))
        return
    with st.form(key=key, border=False):
        uri = st.text_input(_("MLflow tracking URI"), placeholder=MLFLOW_PLACEHOLDER, key=f"{key}_uri",
                            help=_("Where MLflow keeps runs, e.g. an SQLite file: sqlite:///ABSOLUTE/PATH/mlflow.db "
                                   "(four slashes before an absolute path). Runs exported before are replaced."))
        clicked = st.form_submit_button(_("Log {count} run(s) into MLflow").format(count=len(run_ids)),
                                        icon=":material/upload:", disabled=not run_ids)
    if clicked:
        from experiments.exports.mlflow_runs import export_mlflow

        try:
            with st.spinner(_("Logging into MLflow...")):
                result = export_mlflow(store, run_ids, uri.strip())
        except ExportError as exc:
            st.error(_("Not exported: {reason}").format(reason=common.message_text(exc)), icon=":material/block:")
        else:
            again = (_(" ({count} exported before: replaced)").format(count=len(result.replaced))
                     if result.replaced else "")
            st.success(_("Logged {count} run(s){again}. View them with `mlflow ui --backend-store-uri {uri}`.").format(
                count=len(result.mlflow_ids), again=again, uri=uri.strip().replace("`", "")),
                icon=":material/check:")


def runs_exports(store: RunStore, run_ids: list[int], key: str = "hist_exports") -> None:
    """History's exports of the ticked (or listed) runs: TensorBoard and MLflow, in a collapsed expander."""
    with st.expander(_("Export to TensorBoard or MLflow"), icon=":material/ios_share:", key=f"{key}_expander"):
        tensorboard_download(store, run_ids, key=f"{key}_tensorboard")
        mlflow_form(store, run_ids, key=f"{key}_mlflow")


def model_download(store: RunStore, run_id: int, key: str = "inspect_onnx") -> None:
    """Inspect's download of the run's network as an ONNX model (built when it is clicked)."""
    if _install_note(Tool.ONNX):
        return
    from experiments.exports.onnx_model import onnx_bytes

    st.download_button(_("Download the network (ONNX)"), lambda: onnx_bytes(store, run_id),
                       file_name=f"run-{run_id}.onnx",
                       mime="application/octet-stream", on_click="ignore", key=key, icon=":material/download:",
                       help=_("Input: float32 images of shape (n, 784), pixels scaled to [0, 1]; output: the ten "
                              "digit probabilities. Run it with onnxruntime (see the README's Exports section)."))
