"""The notebook API (experiments/lab.py) on the real MNIST and a real store file: a run trained from Python is
the CLI's run (same path, same numbers), reads back as stored, predicts as its network does, stops on Ctrl-C
with its finished epochs and resumes; comparisons, the finder and sweeps go through the pages' own code."""
from __future__ import annotations

import _thread
import io
import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from experiments import Lab, Run
from experiments.access import Identity, Role
from experiments.analysis import stats
from experiments.config import RunConfig
from experiments.lab import sweep_spec
from experiments.store import RunNotFoundError, RunStore
from nn import load_mnist
from nn.pixels import as_inputs
from nn.status import RunStatus
from tests.conftest import ROOT, wait_until

pytestmark = pytest.mark.mnist

SMALL = dict(hidden=(32,), train_size=2000, val_size=1000, batch_size=64)


@pytest.fixture
def lab(temporary_store, mnist_dir):
    """A Lab on the test's own store (RESULTS_DB, set by conftest), closed afterwards."""
    opened = Lab()
    yield opened
    opened.close()


def test_lab_opens_the_store_named_by_results_db_like_the_cli(temporary_store, tmp_path):
    assert Lab().path == temporary_store
    assert Lab(tmp_path / "other.sqlite").path == tmp_path / "other.sqlite"


def test_a_trained_run_is_stored_as_the_cli_stores_it_with_the_same_numbers(lab, mnist_dir, tmp_path):
    run = lab.train(**SMALL, epochs=2, seed=3, name="from python", tags=["nb"], progress="none")
    record = RunStore(lab.path).get_run(run.id)
    assert (record.status, record.epochs_done, record.source, record.tags) == (RunStatus.FINISHED, 2, "notebook",
                                                                                ["nb"])
    assert run.config == RunConfig(**SMALL, epochs=2, seed=3)
    cli_db = tmp_path / "cli.sqlite"
    proc = subprocess.run([sys.executable, "-m", "experiments", "--db", str(cli_db), "run", "--hidden", "32",
                           "--train-size", "2000", "--val-size", "1000", "--epochs", "2", "--seed", "3", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    cli_epochs = [json.loads(line) for line in proc.stdout.splitlines()]
    history = run.history
    assert list(history["epoch"]) == [1, 2]
    for metric in ("train_loss", "val_loss", "val_acc", "test_acc"):
        assert list(history[metric]) == [e[metric] for e in cli_epochs], metric


def test_history_and_best_epoch_are_the_stores(lab):
    run = lab.train(**SMALL, epochs=3, progress="none")
    stored = RunStore(lab.path).get_epochs(run.id)
    assert run.history.to_dict("records") == [{k: v for k, v in e.items() if k != "run_id"} for e in stored]
    lowest_val_loss = int(run.history.loc[run.history["val_loss"].idxmin(), "epoch"])
    assert run.best_epoch == lowest_val_loss == RunStore(lab.path).get_run(run.id).best_epoch
    assert f"Run {run.id}" in repr(run) and "finished after 3/3 epochs" in repr(run)
    figure = run.plot()
    assert [list(t.x) for t in figure.data if t.name == "train"] == [[1, 2, 3], [1, 2, 3]]  # loss and accuracy


def test_predict_is_the_saved_networks_prediction_for_pixels_and_scaled_floats(lab):
    run = lab.train(**SMALL, epochs=2, progress="none")
    mnist = load_mnist()
    pixels, labels = mnist.x_test, mnist.y_test
    predicted = run.predict(pixels)
    logits = run.model.forward(as_inputs(pixels))
    assert np.array_equal(predicted, logits.argmax(axis=1))
    assert np.array_equal(run.predict(pixels.astype(np.float64) / 255), predicted)
    assert np.array_equal(run.predict(pixels[:5].reshape(5, 28, 28)), predicted[:5])
    assert run.predict(pixels[0]).tolist() == [predicted[0]]
    assert float(np.mean(predicted == labels)) == pytest.approx(run.record.test_acc)  # the last epoch's weights


@pytest.mark.parametrize(("images", "message"), [
    (np.full((2, 784), 255.0), "scaled to [0, 1]"),
    (np.zeros((2, 100), np.float32), "784 pixels each"),
    (np.array([["a"] * 784]), "uint8 pixels (0-255) or floats"),
])
def test_predict_refuses_images_it_cannot_read_in_one_line(lab, images, message):
    run = lab.train(**SMALL, epochs=1, progress="none")
    with pytest.raises(ValueError) as caught:
        run.predict(images)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("settings", "message"), [
    ({"lrr": 0.1}, "unknown setting 'lrr'; did you mean lr?"),
    ({"lr": -1}, "lr must be a number > 0"),
    ({"hidden": "128,,x"}, "hidden"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"epochs": 0, "batch_size": "many"}, "epochs must be a whole number"),
    ({"progress": "fancy"}, "progress must be one of auto, chart, text, none"),
])
def test_bad_settings_are_one_line_value_errors_and_store_nothing(lab, settings, message):
    with pytest.raises(ValueError) as caught:
        lab.train(**settings)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert RunStore(lab.path).count_runs() == 0


def _raise_nothing(signum, frame):  # what a Ray driver's handler does after ray.init
    return None


@pytest.mark.parametrize("handler", [signal.default_int_handler, _raise_nothing], ids=["python", "ray"])
def test_ctrl_c_stops_after_the_current_batch_keeps_the_finished_epochs_and_resume_finishes(lab, capsys,
                                                                                            monkeypatch, handler):
    log_epoch = RunStore.log_epoch

    def press_ctrl_c_at_the_first_epoch(self, run_id, logs):
        log_epoch(self, run_id, logs)
        if logs["epoch"] == 1:  # from the training thread, the moment epoch 1 is stored: no race with a poller
            _thread.interrupt_main()  # KeyboardInterrupt in the calling thread, as Ctrl-C or a kernel interrupt

    monkeypatch.setattr(RunStore, "log_epoch", press_ctrl_c_at_the_first_epoch)
    # whatever handler is in place: Python's own (a terminal, a kernel) or one that raises nothing (a notebook that
    # called ray.init, where Ctrl-C used to leave the run training): the lab's handler stops the run either way
    earlier = signal.signal(signal.SIGINT, handler)
    try:
        run = lab.train(**SMALL, epochs=40, progress="text")
    finally:
        signal.signal(signal.SIGINT, earlier)
    monkeypatch.setattr(RunStore, "log_epoch", log_epoch)
    record = run.record
    assert record.status == RunStatus.STOPPED
    assert 1 <= record.epochs_done < 40
    assert len(run.history) == record.epochs_done
    assert f"stopped by Ctrl-C: run {run.id} kept with its {record.epochs_done}" in capsys.readouterr().err
    resumed = lab.resume(run.id, progress="none")
    assert (resumed.status, resumed.record.epochs_done) == (RunStatus.FINISHED, 40)
    unbroken = lab.train(**SMALL, epochs=40, progress="none")
    columns = ["epoch", "train_loss", "val_loss", "val_acc", "test_acc"]
    assert resumed.history[columns].equals(unbroken.history[columns])  # as if Ctrl-C had never been pressed


def test_a_runs_settings_train_again_with_a_change(lab):
    first = lab.train(**SMALL, epochs=1, seed=1, progress="none")
    again = lab.train(first.config, seed=2, progress="none")
    assert again.config == first.config.replace(seed=2)
    with pytest.raises(ValueError, match="must be a RunConfig"):
        lab.train({"lr": 0.1})


def test_resume_refuses_a_finished_run_in_one_line(lab):
    run = lab.train(**SMALL, epochs=1, progress="none")
    with pytest.raises(Exception, match="has finished all its 1 epochs") as caught:
        lab.resume(run.id)
    assert "\n" not in str(caught.value)


def test_text_progress_rewrites_one_line_and_ends_with_the_runs_outcome(lab, capsys):
    run = lab.train(**SMALL, epochs=2, progress="text")
    out = capsys.readouterr().out
    assert out.startswith("\r") and out.endswith("\n") and out.count("\n") == 1
    assert out.rstrip().rsplit("\r", 1)[-1].startswith(f"run {run.id} finished after 2/2 epochs")


def test_runs_filters_as_history_does_and_ranks_on_validation(lab):
    a = lab.train(**SMALL, epochs=1, lr=1e-3, tags=["keep"], name="first", progress="none")
    b = lab.train(**SMALL, epochs=1, lr=1e-2, name="second", progress="none")
    table = lab.runs()
    assert sorted(table["id"]) == [a.id, b.id]
    assert list(table["val_acc"]) == sorted(table["val_acc"], reverse=True)
    assert list(lab.runs(tag="keep")["id"]) == [a.id]
    assert list(lab.runs(text="lr=0.01")["id"]) == [b.id]
    assert list(lab.runs(text="second", sort="created")["id"]) == [b.id]
    assert lab.runs(status="stopped").empty
    assert list(lab.runs(by="last")["summarised_by"]) == ["last", "last"]
    assert lab.run(a.id).name == "first"
    with pytest.raises(RunNotFoundError, match="there is no run 99"):
        lab.run(99)


def test_compare_draws_seed_groups_and_judges_them_at_each_seeds_last_epoch(lab):
    ids = {opt: [lab.train(**SMALL, epochs=2, optimizer=opt, lr=lr, seed=seed, progress="none").id
                 for seed in (1, 2)] for opt, lr in (("adam", 1e-3), ("sgd", 0.01))}
    result = lab.compare([*ids["adam"], *ids["sgd"]])
    bands = [t for t in result.figure.data if t.fill == "toself"]
    assert len(bands) == 2  # one band per seed group
    last = {opt: [Run(RunStore(lab.path), i).history["val_acc"].iloc[-1] for i in run_ids]
            for opt, run_ids in ids.items()}
    label = {"adam": "opt=adam, lr=0.001", "sgd": "opt=sgd, lr=0.01"}
    best, other = sorted(last, key=lambda o: -np.mean(last[o]))
    expected = stats.verdict(last[best], last[other], label[best], label[other]).text
    assert result.verdict.startswith(f"Verdict (val. accuracy at each seed's last epoch, best against the others): "
                                     f"{expected}\n")
    assert "last epoch" in repr(result)
    with pytest.raises(RunNotFoundError, match="there is no run 404"):
        lab.compare([ids["adam"][0], 404])


def test_compare_of_single_runs_says_why_there_is_no_verdict(lab):
    a = lab.train(**SMALL, epochs=1, lr=1e-3, progress="none")
    b = lab.train(**SMALL, epochs=1, lr=1e-2, progress="none")
    result = lab.compare([a.id, b.id])
    assert result.verdicts.lines == []
    assert result.verdict.startswith("A verdict needs at least two configurations with two or more seeds each")


def test_lr_find_suggests_a_rate_and_stores_nothing(lab):
    found = lab.lr_find(**SMALL, optimizer="sgd", steps=40)
    assert found.suggestion is not None and 0 < found.suggestion <= 10
    assert len(found.report.lrs) == 40 and "suggested lr" in repr(found)
    assert found.plot().data
    assert RunStore(lab.path).count_runs() == 0
    with pytest.raises(ValueError, match="steps must be at least 2"):
        lab.lr_find(steps=1)


def test_a_sweep_from_toml_text_trains_its_trials_and_returns_them_ranked(lab, capsys):
    spec = """name = "tiny"
[base]
hidden = "16"
epochs = 1
train_size = 1000
val_size = 500
[grid]
lr = [0.001, 0.01]
"""
    table = lab.sweep(spec, workers=1)
    assert len(table) == 2 and set(table["status"]) == {"finished"}
    assert sorted(table["lr"]) == [0.001, 0.01]
    assert list(table["val_acc"]) == sorted(table["val_acc"], reverse=True)
    assert "2 finished" in capsys.readouterr().out


def test_a_sweep_spec_is_a_file_toml_text_or_a_dict(tmp_path):
    text = 'name = "s"\n[grid]\nlr = [0.1, 0.01]\n'
    path = tmp_path / "spec.toml"
    path.write_text(text)
    as_dict = {"name": "s", "grid": {"lr": [0.1, 0.01]}}
    assert sweep_spec(path) == sweep_spec(str(path)) == sweep_spec(text) == sweep_spec(as_dict)
    with pytest.raises(ValueError, match="the sweep spec .*: cannot read it"):
        sweep_spec(tmp_path / "missing.toml")


def test_a_sweep_spec_is_checked_before_anything_is_stored(lab):
    with pytest.raises(ValueError, match="lr must be"):
        lab.sweep({"grid": {"lr": [0.1, -1]}})
    with pytest.raises(ValueError, match="--engine ray"):
        lab.sweep({"engine": "ray", "grid": {"lr": [0.1]}})
    assert RunStore(lab.path).count_runs() == 0


def test_runs_table_is_history_s_for_an_empty_store(lab):
    assert lab.runs().empty and "val_acc" in lab.runs().columns
    assert repr(lab).endswith(": 0 runs>")


def test_text_lines_go_where_asked(lab):
    from experiments.notebook_progress import ProgressView, ProgressWatch, RunView

    run = lab.train(**SMALL, epochs=1, progress="none")
    out = io.StringIO()
    line = RunView(RunStore(lab.path), run.id, 1, ProgressWatch(), ProgressView.TEXT, out).close()
    assert out.getvalue() == "\r" + line + "\n" and line.startswith(f"run {run.id} finished")


def test_runs_refuses_an_unknown_epoch_to_read_at(lab):
    with pytest.raises(ValueError, match="median"):
        lab.runs(by="median")


def test_a_students_lab_stores_runs_under_their_name_and_resumes_only_theirs(temporary_store, mnist_dir):
    ann, bob = (Lab(identity=Identity(name, Role.STUDENT)) for name in ("ann", "bob"))
    run = ann.train(**SMALL, epochs=1, progress="none")
    assert run.record.student == "ann"
    store = RunStore(temporary_store)
    store.set_status(run.id, RunStatus.STOPPED, "stopped by the user")
    with pytest.raises(PermissionError, match=f"run {run.id} is another student's"):
        bob.resume(run.id)
    assert store.get_run(run.id).status == RunStatus.STOPPED


KERNEL_CODE = """
import sys
sys.path.insert(0, {root!r})
from experiments import Lab
run = Lab().train(hidden=(32,), train_size=2000, val_size=1000, epochs=40)
print("returned", run.id, run.status.value, run.record.epochs_done)
"""


@pytest.mark.slow
def test_the_kernels_interrupt_stops_a_run_in_jupyter_and_returns_it(temporary_store, mnist_dir):
    """The interrupt button of a real Jupyter kernel (SIGINT to the kernel process) during ``lab.train``."""
    pytest.importorskip("ipykernel")
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")  # the kernel inherits RESULTS_DB and MNIST_DIR
    try:
        message_id = client.execute(KERNEL_CODE.format(root=str(ROOT)))
        store = RunStore(temporary_store)
        wait_until(lambda: temporary_store.exists() and any(r.epochs_done for r in store.search_runs()), 300,
                   "the kernel's run to store its first epoch", every=0.2)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=120)
        while reply["parent_header"].get("msg_id") != message_id:  # start_new_kernel's kernel_info reply first
            reply = client.get_shell_msg(timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        printed, errors = "", []
        while True:  # the cell's outputs, up to its idle status
            message = client.get_iopub_msg(timeout=30)
            if message["parent_header"].get("msg_id") != message_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                printed += content["text"]
            elif kind == "error":
                errors.append(content["ename"])
            elif kind == "status" and content["execution_state"] == "idle":
                break
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    record = store.search_runs()[0]
    assert errors == [] and record.status == RunStatus.STOPPED and 1 <= record.epochs_done < 40
    assert f"returned {record.id} stopped {record.epochs_done}" in printed
    assert f"stopped by Ctrl-C: run {record.id} kept with its {record.epochs_done} finished epoch(s)" in printed


def test_the_notebook_reads_in_the_current_language(store):
    """A run's line, the live progress line, a comparison's verdict and a refused input follow
    ``experiments.i18n``'s language (``set_language`` / ``using``); English is unchanged."""
    from experiments import i18n
    from experiments.analysis.comparison import Verdicts
    from experiments.lab import Comparison, network_inputs
    from experiments.notebook_progress import ProgressWatch, _training_line, run_line
    from tests.conftest import store_finished_run

    run_id = store_finished_run(store, [0.90, 0.95], [0.9, 0.94], lr=0.1, seed=0)
    record = store.get_run(run_id)
    watch = ProgressWatch()
    watch.epoch, watch.batch, watch.batches, watch.loss = 2, 10, 20, 0.25
    last = {"epoch": 1, "val_acc": 0.9}
    empty = Comparison([run_id], None, Verdicts([]))  # type: ignore[arg-type]  # no figure needed for the text
    english = (run_line(record), _training_line(run_id, 2, watch, last), empty.verdict)
    assert english[0].startswith(f"run {run_id} finished after 2/2 epochs · val. accuracy 95.00% at the best epoch")
    assert english[1] == (f"run {run_id} · epoch 2/2 · batch 10/20 · batch loss 0.2500 · val. accuracy 90.00% after "
                          f"epoch 1")
    with i18n.using("es"):
        spanish = (run_line(record), _training_line(run_id, 2, watch, last), empty.verdict)
        with pytest.raises(ValueError, match="las imágenes deben ser píxeles uint8"):
            network_inputs(np.array(["a"]))
    assert spanish[0].startswith(f"ejecución {run_id} terminada tras 2/2 épocas · exactitud de validación 95,00\u00a0%")
    assert spanish[1] == (f"ejecución {run_id} · época 2/2 · lote 10/20 · pérdida del lote 0,2500 · exactitud de "
                          f"validación 90,00\u00a0% tras la época 1")
    assert spanish[2].startswith("Un veredicto necesita al menos dos configuraciones")
