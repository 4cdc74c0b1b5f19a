"""A real full disk: a small tmpfs filled to the last byte, mounted in a user namespace of its own (``unshare
-rm``, no root needed on the host). The store says the disk is full (not "disk I/O error"), and reading it
(``list``, ``export``, a page) still works while it is full; once space is freed, writes work again."""
from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_dataset

SEED_STORE = """
from experiments.config import RunConfig
from experiments.store import RunStore
store = RunStore()
for k in range(3):
    run = store.create_run(RunConfig(hidden=(16 + k,)), name=f"kept {k}")
    store.log_epoch(run, {"epoch": 1, "train_loss": 1.0, "val_acc": 0.5, "test_acc": 0.4321})
    store.set_status(run, "finished")
store.close_all()
"""
WRITE = """
from experiments.store import RunStore, StoreError
try:
    store = RunStore()
    store.set_notes(1, "n" * 10000)
    print("WRITE ok")
except StoreError as exc:
    print("WRITE refused:", exc)
"""
PAGE = """
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
at.switch_page("ui/history_page.py").run()
print("PAGE", json.dumps({"errors": [e.value for e in at.error], "exceptions": [e.value for e in at.exception],
                          "names": at.dataframe[0].value["name"].tolist() if at.dataframe else []}))
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(not _unshare_works(),
                                      reason="needs user namespaces (unshare -rm) to mount a tmpfs")


def on_a_full_disk(tmp_path: Path) -> dict[str, str]:
    """Seed a store on a 2 MB tmpfs, fill the disk, then list, export, write, queue a run, open History; free space and
    write again. Returns each step's output by its marker."""
    disk = tmp_path / "disk"
    disk.mkdir()
    steps = {"seed": SEED_STORE, "write": WRITE, "page": "import json, sys\n" + PAGE}
    for name, code in steps.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
    py, scripts, mnist = sys.executable, tmp_path, make_dataset(tmp_path / "mnist")
    script = f"""
        set -u
        mount -t tmpfs -o size=2m tmpfs {disk}
        export RESULTS_DB={disk}/runs.sqlite PYTHONPATH={ROOT}
        cd {ROOT}
        {py} {scripts}/seed.py && echo "SEEDED yes"
        dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null
        echo "FREE $(df --output=avail {disk} | tail -1)"
        {py} -m experiments list > {scripts}/list.out 2>&1; echo "LIST rc=$?"
        {py} -m experiments export --format json > {scripts}/export.out 2>&1; echo "EXPORT rc=$?"
        {py} {scripts}/write.py
        MNIST_DIR={mnist} {py} -m experiments run --epochs 1 --val-size 0 --batch-size 10 --hidden 4 \\
            > {scripts}/run.out 2>&1; echo "RUN rc=$?"
        {py} {scripts}/page.py {ROOT}/dashboard.py 2>{scripts}/page.err | grep '^PAGE'
        rm {disk}/filler
        {py} {scripts}/write.py | sed 's/^WRITE/FREED/'
    """
    done = subprocess.run(["unshare", "-rm", "sh", "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=300)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in done.stdout.splitlines() if " " in line}
    for name in ("list", "export", "run"):
        lines[name] = (tmp_path / f"{name}.out").read_text()
    return lines


@needs_namespaces
def test_a_full_disk_says_so_and_reads_still_work(tmp_path):
    out = on_a_full_disk(tmp_path)
    assert out["SEEDED"] == "yes"
    assert out["FREE"].strip() == "0"
    assert out["LIST"] == "rc=0" and all(f"kept {k}" in out["list"] for k in range(3)), out["list"]
    assert out["EXPORT"] == "rc=0" and [r["name"] for r in json.loads(out["export"])] == ["kept 0", "kept 1",
                                                                                          "kept 2"]
    assert out["WRITE"].startswith("refused: the disk is full"), out["WRITE"]
    assert "I/O error" not in out["WRITE"] and "failing" not in out["WRITE"]
    assert out["RUN"] != "rc=0" and "the disk is full" in out["run"] and "Traceback" not in out["run"], out["run"]
    page = json.loads(out["PAGE"])
    assert page["exceptions"] == [] and sorted(page["names"]) == ["kept 0", "kept 1", "kept 2"], page
    assert out["FREED"] == "ok"


def test_a_run_whose_files_meet_a_full_disk_says_so():
    from experiments.runs.lifecycle import failure_reason

    reason = failure_reason(OSError(errno.ENOSPC, "No space left on device", "runs.sqlite.files/weights/1.npz"))
    assert reason.startswith("the disk is full") and "weights/1.npz" in reason
