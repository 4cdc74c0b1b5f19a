"""``python -m experiments reproduce`` and ``report`` as real subprocesses, into a temporary store."""
import sqlite3

import pytest

from experiments.store import RunStore
from experiments.store.export import epochs_frame


@pytest.mark.parametrize("args,message", [
    (["reproduce", "nope"], "no comparison 'nope'"),
    (["reproduce", "epochs", "--seeds", "0"], "seeds must be"),
    (["reproduce", "--epochs-scale", "0"], "epochs scale"),
    (["report", "nope"], "no comparison 'nope'"),
])
def test_bad_requests_are_one_line_and_store_nothing(tmp_path, args, message, run_cli):
    db = tmp_path / "runs.sqlite"
    proc = run_cli("--db", str(db), *args, env={"MNIST_DIR": str(tmp_path)})
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1
    assert not db.exists() or RunStore(db).count_runs() == 0


def test_missing_data_refuses_before_queueing(tmp_path, run_cli):
    db = tmp_path / "runs.sqlite"
    proc = run_cli("--db", str(db), "reproduce", "epochs", env={"MNIST_DIR": str(tmp_path / "none")})
    assert proc.returncode == 2 and "MNIST_DIR" in proc.stderr and "Traceback" not in proc.stderr
    assert not db.exists() or RunStore(db).count_runs() == 0


@pytest.mark.parametrize("where", ["missing/r.html", ".", "r.html/x.html"])
def test_report_to_a_path_it_cannot_write_is_one_line_and_exit_2(tmp_path, where, run_cli):
    """Issue 12 item 5: ``report -o /nonexistent/r.html`` printed a traceback."""
    (tmp_path / "r.html").write_text("a file, not a folder")
    out = tmp_path / where
    proc = run_cli("--db", str(tmp_path / "runs.sqlite"), "report", "-o", str(out))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: cannot write the report to") and not (tmp_path / "missing").exists()


def test_report_on_an_empty_store_still_writes_a_page(tmp_path, run_cli):
    out = tmp_path / "r.html"
    proc = run_cli("--db", str(tmp_path / "runs.sqlite"), "report", "-o", str(out))
    assert proc.returncode == 1 and out.is_file()
    assert "not reproduced yet" in proc.stdout and "not reproduced yet" in out.read_text()
    assert str(tmp_path) not in out.read_text() and "the run store given with --db" in out.read_text()


@pytest.mark.mnist
def test_reproduce_a_comparison_on_a_tiny_setting_then_report_it(tmp_path, mnist_dir, run_cli):
    db, out = tmp_path / "runs.sqlite", tmp_path / "report.html"
    proc = run_cli("--db", str(db), "reproduce", "second-layer-width", "--seeds", "2", "--train-size", "1000",
                   "--epochs-scale", "0.2", "--jobs", "2", env={"MNIST_DIR": mnist_dir, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "8 runs, 16 epochs" in proc.stdout and "8/8 runs done" in proc.stdout and "4 finished" in proc.stdout
    store = RunStore(db)
    runs = store.search_runs(order_by="id", descending=False)
    assert len(runs) == 8 and len({r.group_id for r in runs}) == 1 and runs[0].group_id.startswith("report-")
    assert {r.config.hidden for r in runs} == {(128, 64), (128, 96)} and {r.config.seed for r in runs} == {0, 1}
    assert sorted(r.config.reduction for r in runs) == ["mean"] * 4 + ["sum"] * 4  # both variants by default
    assert all(r.config.train_size == 1000 and r.config.epochs == 2 for r in runs)
    assert all(r.status == "finished" for r in runs if r.config.reduction == "mean")
    assert all(r.status in ("finished", "diverged") for r in runs)  # summed at lr 0.1: a result, not a failure
    assert "report:second-layer-width" in runs[0].tags and "epochs-scale:0.2" in runs[0].tags
    frame = epochs_frame(store, [r.id for r in runs if r.config.reduction == "mean"])
    assert frame["full_train_acc"].notna().all()  # the report averaged over epochs: a full pass after each
    assert ((frame["full_train_acc"] > 0.5) & (frame["full_train_acc"] <= 1)).all()

    proc = run_cli("--db", str(db), "report", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "second-layer-width:" in proc.stdout and "91.84%" in proc.stdout
    page = out.read_text()
    assert "Reduced reproduction" in page and "first 1,000 training images only" in page and "92.52%" in page
    assert page.count("plotly.js v") == 1


def test_a_version_1_store_gains_the_full_pass_columns_and_keeps_its_epochs(tmp_path):
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created TEXT NOT NULL,
            config TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]', group_id TEXT,
            source TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',
            epochs_done INTEGER NOT NULL DEFAULT 0, train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL,
            best_test_acc REAL, seconds REAL);
        CREATE TABLE epochs (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
            train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, seconds REAL, elapsed REAL,
            lr REAL, majority_fraction REAL, dead_fraction REAL, PRIMARY KEY (run_id, epoch));
        INSERT INTO runs (name, created, config, status) VALUES ('old', '2025-01-01', '{}', 'finished');
        INSERT INTO epochs (run_id, epoch, test_acc) VALUES (1, 1, 0.9);
        PRAGMA user_version = 1;
    """)
    conn.close()
    store = RunStore(db)
    assert store.get_epochs(1)[0]["test_acc"] == 0.9 and store.get_epochs(1)[0]["full_train_acc"] is None
    store.log_epoch(1, {"epoch": 2, "test_acc": 0.95, "full_train_acc": 0.97})
    assert store.get_epochs(1)[1]["full_train_acc"] == 0.97


def test_full_pass_only_at_the_requested_epochs(blobs):
    from experiments.config import RunConfig
    from experiments.runs.training import train_config

    seen = []
    config = RunConfig(hidden=(16,), epochs=3, batch_size=32)
    spy = type("Spy", (), {"on_epoch_end": lambda s, e, logs: seen.append(dict(logs))})()
    _, result = train_config(config, blobs, [spy],
                             train_eval_epochs=[1, 3])
    assert [("full_train_acc" in logs) for logs in seen] == [True, False, True]  # callbacks see it too
    assert 0 <= seen[-1]["full_train_acc"] <= 1 and seen[-1]["full_train_loss"] > 0
    _, plain = train_config(config, blobs)
    assert all("full_train_acc" not in h for h in plain.history)


@pytest.mark.mnist
def test_ctrl_c_stops_the_reproduction_and_keeps_finished_epochs(tmp_path, mnist_dir, interrupt_after_first_epoch):
    db = tmp_path / "runs.sqlite"
    proc = interrupt_after_first_epoch(db, ["reproduce", "epochs", "--seeds", "2", "--train-size", "2000"], mnist_dir)
    assert proc.returncode == 3, proc.stderr
    assert "stopped by Ctrl-C" in proc.stdout
    runs = RunStore(db).search_runs()
    assert {r.status for r in runs} == {"stopped"} and sum(r.epochs_done for r in runs) >= 1
