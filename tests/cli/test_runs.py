"""The headless command line, run as a real subprocess."""
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("args,message", [
    (["--lr", "0"], "lr must be"),
    (["--hidden", "128,,x"], "hidden layers"),
    (["--optimizer", "lbfgs"], "optimizer must be one of"),
    (["--batch-size", "-3"], "--batch-size must be"),
    (["--epochs", "1000000000"], "epochs"),
    (["--hidden", "1e2"], "hidden layer width must be"),
    (["--hidden", "9" * 5083], "(5083 characters)"),
    (["--epochs", "-5", "--batch-size", "99999999"], "--epochs must be a whole number from 1 to 1000 (got '-5'); "
                                                     "--batch-size must be"),
])
def test_invalid_settings_exit_nonzero_with_one_line_before_training(args, message, run_cli):
    proc = run_cli("run", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""  # no epoch ran
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and len(proc.stderr) < 300


@pytest.mark.mnist
def test_json_mode_prints_one_object_per_epoch(mnist_dir, run_cli):
    proc = run_cli("run", "--hidden", "32", "--epochs", "2", "--train-size", "2000", "--json",
                   env={"MNIST_DIR": mnist_dir})
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert {"train_loss", "train_acc", "test_loss", "test_acc", "seconds", "lr"} <= set(lines[0])


def test_missing_data_is_a_one_line_message(tmp_path, run_cli):
    proc = run_cli("run", "--epochs", "1", env={"MNIST_DIR": str(tmp_path / "none")})
    assert proc.returncode == 2 and "MNIST_DIR" in proc.stderr and "Traceback" not in proc.stderr


def _stored_runs(count: int = 1, tags: tuple[str, ...] = ()) -> list[int]:
    """Finished runs in the test's temporary store (RESULTS_DB, set by conftest)."""
    from experiments.config import RunConfig
    from experiments.store import RunStore
    store = RunStore()
    ids = []
    for i in range(count):
        run_id = store.create_run(RunConfig(hidden=(8,), epochs=1), name=f"run {i}", source="cli")
        store.log_epoch(run_id, {"epoch": 1, "train_loss": 0.5, "test_loss": 0.6, "train_acc": 0.8, "test_acc": 0.7,
                                 "seconds": 0.1, "elapsed": 0.1})
        store.set_status(run_id, "finished")
        if tags:
            store.set_tags(run_id, list(tags))
        ids.append(run_id)
    store.close()
    return ids


def _one_line_error(proc, *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and all(w in proc.stderr for w in words), proc.stderr


@pytest.mark.parametrize("target,words", [
    ("{tmp}/nonexistent/dir/x.csv", ("does not exist", "nonexistent/dir")),
    ("{tmp}", ("is a folder", "runs.{fmt}")),
    ("/proc/version", ("cannot write /proc/version",)),
])
def test_export_to_a_path_that_cannot_be_written_is_one_line(tmp_path, target, words, run_cli):
    _stored_runs()
    output = target.format(tmp=tmp_path)
    for fmt in ("csv", "json"):
        proc = run_cli("export", "--format", fmt, "-o", output)
        _one_line_error(proc, *(w.format(fmt=fmt) for w in words))
    assert not (tmp_path / "nonexistent").exists()


def test_export_writes_the_file_and_refuses_unknown_ids(tmp_path, run_cli):
    ids = _stored_runs(2)
    proc = run_cli("export", str(ids[1]), "-o", str(tmp_path / "one.csv"))
    assert proc.returncode == 0 and proc.stdout.strip() == f"wrote {tmp_path / 'one.csv'}"
    assert (tmp_path / "one.csv").read_text().count("\n") == 2  # header and one run
    _one_line_error(run_cli("export", str(ids[0]), "999", "-o", str(tmp_path / "x.csv")), "no run 999")
    assert not (tmp_path / "x.csv").exists()


def test_list_limit_must_be_positive(run_cli):
    _stored_runs(2)
    proc = run_cli("list", "--limit", "0")
    assert proc.returncode == 2 and "at least 1" in proc.stderr and "Traceback" not in proc.stderr
    assert run_cli("list", "--limit", "1").stdout.count("\n") == 2  # header and one run


def test_json_outputs_agree_on_tags(run_cli):
    untagged, = _stored_runs()
    tagged, = _stored_runs(tags=("baseline", "lr sweep"))
    shown = {i: json.loads(run_cli("show", str(i), "--json").stdout)["tags"] for i in (untagged, tagged)}
    listed = {r["id"]: r["tags"] for r in json.loads(run_cli("list", "--json").stdout)}
    exported = {r["id"]: r["tags"] for r in json.loads(run_cli("export", "--format", "json").stdout)}
    assert shown == listed == exported == {untagged: [], tagged: ["baseline", "lr sweep"]}


@pytest.mark.mnist
def test_ctrl_c_stops_a_run_and_exits_130(mnist_dir, tmp_path, interrupt_after_first_epoch):
    from experiments.store import RunStore
    proc = interrupt_after_first_epoch(tmp_path / "ctrl-c.sqlite", ["run", "--hidden", "16", "--epochs", "50",
                                       "--train-size", "3000", "--batch-size", "16"], mnist_dir)
    assert proc.returncode == 130, proc.stderr
    assert "stopped by Ctrl-C" in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    (run,) = RunStore(tmp_path / "ctrl-c.sqlite").search_runs()
    assert run.status == "stopped" and 1 <= run.epochs_done < 50


@pytest.mark.mnist
def test_ctrl_c_stops_a_sweep_and_exits_130(mnist_dir, tmp_path, interrupt_after_first_epoch):
    from experiments.store import RunStore
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "ctrl-c"\n[base]\nepochs = 50\ntrain_size = 3000\nbatch_size = 16\nhidden = "16"\n'
                    '[grid]\nlr = [0.01, 0.001]\n')
    proc = interrupt_after_first_epoch(tmp_path / "ctrl-c.sqlite", ["sweep", str(spec), "--workers", "2"], mnist_dir)
    assert proc.returncode == 130, proc.stderr
    assert "stopped by Ctrl-C" in proc.stderr and "Traceback" not in proc.stderr
    runs = RunStore(tmp_path / "ctrl-c.sqlite").search_runs()
    assert len(runs) == 2 and {r.status for r in runs} <= {"stopped", "queued", "finished"}
    assert all(r.epochs_done < 50 for r in runs)


def test_output_cut_short_by_the_reader_is_not_a_traceback():
    """`python -m experiments list --json | head -c 100`: the reader leaves; no BrokenPipeError traceback."""
    from experiments.config import RunConfig
    from experiments.store import RunStore
    store = RunStore()
    for i in range(400):  # about 300 KB of JSON: more than a pipe holds
        store.create_run(RunConfig(), name=f"run {i}", source="cli")
    store.close()
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "list", "--json"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100).startswith("[{")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1 and "Traceback" not in err and "Error" not in err, err


def test_show_a_diverged_run_with_missing_and_infinite_metrics(run_cli):
    """A diverged epoch's NaN loss is stored as NULL and its test loss may be infinite: `show` printed a
    TypeError traceback, and `show --json` wrote `Infinity`, which strict JSON readers refuse."""
    from experiments.config import RunConfig
    from experiments.store import RunStore
    store = RunStore()
    run_id = store.create_run(RunConfig(epochs=2), name="blew up", source="cli")
    store.log_epoch(run_id, {"epoch": 1, "train_loss": float("nan"), "test_loss": float("inf"), "train_acc": 0.1,
                             "test_acc": None, "seconds": 1.0, "elapsed": 1.0})
    store.set_status(run_id, "diverged", "the loss became nan in epoch 1")
    store.close()
    text = run_cli("show", str(run_id))
    assert text.returncode == 0 and "Traceback" not in text.stderr, text.stderr
    assert "loss -" in text.stdout and "test acc -" in text.stdout
    shown = run_cli("show", str(run_id), "--json")
    epoch = json.loads(shown.stdout, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))["epochs"][0]
    assert epoch["train_loss"] is None and epoch["test_loss"] is None and epoch["train_acc"] == 0.1


def test_list_names_the_epoch_its_accuracies_are_read_at(run_cli):
    """Issue 23 item 12: a per-run accuracy is never shown without its epoch."""
    _stored_runs(1)
    header, row = run_cli("list").stdout.splitlines()[:2]
    assert "at epoch" in header
    assert " last " in row or " best " in row


def test_a_sweeps_summary_names_the_epoch_of_each_trials_accuracies(store, capsys):
    """Issue 23 item 12 on the CLI: the sweep summary printed accuracies without the epoch they are read at."""
    from experiments.cli.sweeps import _summary
    from experiments.config import RunConfig
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=2), name="trial 1", group_id="sw-test")
    for epoch, loss in ((1, 0.3), (2, 0.4)):  # validation loss lowest at epoch 1
        store.log_epoch(run_id, {"epoch": epoch, "val_loss": loss, "val_acc": 0.9, "test_acc": 0.8, "elapsed": 1.0})
    store.set_status(run_id, "finished")
    _summary(store, "sw-test", 1.0)
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert "at epoch" in header and " best 1 " in row


def test_a_deeply_nested_sweep_spec_is_one_line_from_the_command_line(tmp_path, run_cli):
    spec = tmp_path / "deep.json"
    spec.write_text("[" * 100_000 + "]" * 100_000)  # used to end in "Something went wrong (RecursionError)"
    done = run_cli("sweep", str(spec), timeout=120)
    assert done.returncode == 2 and "nested too deeply" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
