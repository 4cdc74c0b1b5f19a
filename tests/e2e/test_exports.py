"""The export downloads in a real browser: History's TensorBoard zip and Inspect's ONNX file are built when the
button is clicked (Streamlit's deferred download data, which AppTest never calls); what Chromium saves reads
back equal to the store (TensorBoard's event reader) and runs in onnxruntime as the NumPy network does."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from experiments.store import RunStore
from nn.mlp import MLP
from tests.live_server import goto_page, open_train_page, running_server
from tests.ui.conftest import populate

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]
for _package in ("tensorboardX", "tensorboard", "onnx", "onnxruntime"):
    pytest.importorskip(_package, reason="pip install -r requirements-export.txt")


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_dir, browser):
    tmp = tmp_path_factory.mktemp("exports")
    ids = populate(tmp / "runs.sqlite")
    with running_server(tmp / "runs.sqlite", mnist_dir, tmp / "server.log") as s:
        s.ids = ids
        yield s
    assert "Traceback" not in s.log(), s.log()[-3000:]


def test_history_downloads_the_tensorboard_zip(server, browser, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    page = open_train_page(browser, server.url)
    try:
        goto_page(page, "History")
        page.get_by_text("Export to TensorBoard or MLflow").click()
        with page.expect_download() as download:
            page.get_by_role("button", name=f"TensorBoard files of {len(server.ids)} run(s) (zip)").click()
        saved = tmp_path / "runs.zip"
        download.value.save_as(saved)
    finally:
        page.close()
    with zipfile.ZipFile(saved) as archive:
        archive.extractall(tmp_path / "tb")
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == [f"run-{i}" for i in server.ids]
    events = EventAccumulator(str(tmp_path / "tb" / f"run-{server.ids[0]}"), size_guidance={"scalars": 0})
    events.Reload()
    stored = {e["epoch"]: e["train_loss"] for e in RunStore(server.db).get_epochs(server.ids[0])}
    read = {e.step: e.value for e in events.Scalars("epoch/train_loss")}
    assert read.keys() == stored.keys() and all(np.float32(stored[k]) == np.float32(read[k]) for k in stored)


def test_inspect_downloads_the_network_as_onnx(server, browser, tmp_path):
    import onnxruntime

    page = open_train_page(browser, server.url)
    try:
        goto_page(page, "Inspect")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the network (ONNX)").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
    finally:
        page.close()
    run_id = int(saved.stem.removeprefix("run-"))
    model = MLP.load(RunStore(server.db).weights_path(run_id))
    images = np.random.default_rng(0).random((200, 784), dtype=np.float32)
    probabilities = onnxruntime.InferenceSession(str(saved)).run(["probabilities"], {"images": images})[0]
    np.testing.assert_array_equal(probabilities.argmax(axis=1), model.predict(images))
