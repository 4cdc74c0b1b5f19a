"""TensorBoard export: the event files, read back with TensorBoard's own reader, hold what the store holds."""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

from experiments.exports import ExportError
from experiments.exports.tensorboard_events import (
    STEPS_PER_EPOCH,
    export_tensorboard,
    run_folder_name,
    tensorboard_zip,
)
from experiments.store import EPOCH_METRICS
from experiments.store.dynamics import get_batch_points
from tests.exports.conftest import float32_equal

pytest.importorskip("tensorboardX", reason="pip install -r requirements-export.txt")
pytest.importorskip("tensorboard", reason="pip install -r requirements-export.txt")


def _read(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def _scalars(accumulator, tag: str) -> dict[int, float]:
    events = accumulator.Scalars(tag)
    steps = [e.step for e in events]
    assert len(steps) == len(set(steps)), f"{tag}: a step written twice {steps}"
    return {e.step: e.value for e in events}


def _hparams(accumulator) -> dict[str, object]:
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = accumulator.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}


def test_every_epoch_point_and_setting_reads_back_equal_to_the_store(store, train_run, tmp_path):
    run_id = train_run(hidden=(16, 8), activation="tanh", lr=0.01)
    other = train_run(seed=1)
    result = export_tensorboard(store, [run_id, other], tmp_path / "tb")
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == [run_folder_name(run_id), run_folder_name(other)]
    events = _read(result.run_folders[run_id])

    epochs = store.get_epochs(run_id)
    assert len(epochs) == 2
    for metric in EPOCH_METRICS:
        stored = {e["epoch"]: e[metric] for e in epochs if e[metric] is not None}
        if not stored:
            assert f"epoch/{metric}" not in events.Tags()["scalars"]
            continue
        read = _scalars(events, f"epoch/{metric}")
        assert read.keys() == stored.keys(), metric
        assert all(float32_equal(stored[k], read[k]) for k in stored), (metric, stored, read)

    points = get_batch_points(store, run_id)
    assert len(points) > 4  # a few per epoch
    for field in ("loss", "acc", "l2_penalty"):
        read = _scalars(events, f"within_epoch/{field}")
        assert sorted(read) == [round(p.x * STEPS_PER_EPOCH) for p in points]
        assert all(float32_equal(getattr(p, field), read[round(p.x * STEPS_PER_EPOCH)]) for p in points)
    assert max(_scalars(events, "within_epoch/loss")) == 2 * STEPS_PER_EPOCH  # the end of epoch 2

    run = store.get_run(run_id)
    assert _scalars(events, "best/val_acc") == pytest.approx({run.best_epoch: run.best_val_acc})
    hparams = _hparams(events)
    config = run.config.to_dict()
    assert hparams.keys() == config.keys()
    assert hparams["hidden"] == "16,8" and hparams["activation"] == "tanh"
    assert all(hparams[k] == pytest.approx(v) for k, v in config.items() if k != "hidden"), hparams


def test_a_missing_value_is_left_out(store, train_run, tmp_path):
    run_id = train_run(epochs=1)
    store.log_epoch(run_id, {"epoch": 2, "train_loss": None, "train_acc": 0.1, "test_acc": 0.1, "elapsed": 9.0})
    events = _read(export_tensorboard(store, [run_id], tmp_path).run_folders[run_id])
    assert list(_scalars(events, "epoch/train_loss")) == [1]
    assert list(_scalars(events, "epoch/train_acc")) == [1, 2]


def test_exporting_again_replaces_the_run_folder(store, train_run, tmp_path):
    run_id = train_run(epochs=1)
    export_tensorboard(store, [run_id], tmp_path / "tb")
    store.log_epoch(run_id, {"epoch": 2, "train_loss": 0.25, "test_acc": 0.5, "elapsed": 9.0})
    result = export_tensorboard(store, [run_id], tmp_path / "tb")
    folder = result.run_folders[run_id]
    assert len(list(folder.iterdir())) == 1
    assert _scalars(_read(folder), "epoch/train_loss")[2] == 0.25
    assert [p.name for p in (tmp_path / "tb").iterdir()] == [folder.name]  # no staging folder left


def test_bad_input_is_one_line_and_writes_nothing(store, train_run, tmp_path):
    run_id = train_run(epochs=1)
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine")
    with pytest.raises(ExportError, match="is a file"):
        export_tensorboard(store, [run_id], a_file)
    with pytest.raises(ExportError, match=f"there is no run {run_id + 7}"):
        export_tensorboard(store, [run_id, run_id + 7], tmp_path / "new")
    mine = tmp_path / "taken" / run_folder_name(run_id)
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="other files than TensorBoard"):
        export_tensorboard(store, [run_id], tmp_path / "taken")
    assert a_file.read_text() == "mine" and not (tmp_path / "new").exists()
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_without_tensorboardx_the_message_says_how_to_install(store, train_run, tmp_path, monkeypatch):
    run_id = train_run(epochs=1)
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails as if it were not installed
    with pytest.raises(ExportError, match="pip install -r requirements-export.txt"):
        export_tensorboard(store, [run_id], tmp_path / "tb")
    assert not (tmp_path / "tb").exists()


def test_the_zip_holds_one_folder_per_run(store, train_run):
    ids = [train_run(epochs=1), train_run(epochs=1, seed=2)]
    with zipfile.ZipFile(io.BytesIO(tensorboard_zip(store, ids))) as archive:
        names = archive.namelist()
    assert sorted({name.split("/")[0] for name in names}) == sorted(run_folder_name(i) for i in ids)
    assert all("tfevents" in name.split("/")[1] for name in names)
