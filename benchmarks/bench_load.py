"""Load: History and Compare on a store of 300 runs x 100 epochs, and eight browser sessions watching a run.

    MNIST_DIR=/path/to/mnist python benchmarks/bench_load.py [--runs 300] [--epochs 100] [--repeats 5]

1. Builds a store of ``--runs`` finished runs of ``--epochs`` epochs each through RunStore (the public
   API; SQLite's synchronous writes are turned off for the build only, on this connection).
2. Times the History and Compare pages rendering that store in Streamlit's AppTest (the whole script run
   on the server side: query, tables, figures), median of ``--repeats``; Compare with 10 runs picked.
3. Times the same pages in headless Chromium against the real server (navigation until the page's table
   or chart is drawn), median of 3.
4. Trains a run from the Train page with no browser watching it (the page is closed after Train), then
   one with eight Train pages open, and compares their median epoch seconds (the store's ``seconds``).

Prints a table; no pass/fail (figures on a shared, noisy machine are for reading, not for asserting).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments.config import RunConfig  # noqa: E402
from experiments.store import RunStore  # noqa: E402


def build_store(path: Path, runs: int, epochs: int) -> float:
    start = time.perf_counter()
    store = RunStore(path)
    store._conn().execute("PRAGMA synchronous = OFF")  # build speed only; the app's own writes are unchanged
    for k in range(runs):
        config = RunConfig(hidden=(16 * (1 + k % 8),), lr=(0.001, 0.01, 0.1)[k % 3], seed=k % 5,
                           optimizer=("adam", "sgd")[k % 2], epochs=epochs)
        run_id = store.create_run(config, name=f"load run {k}", source="cli")
        for e in range(1, epochs + 1):
            acc = 0.9 + 0.08 * (1 - 1 / e) - 0.001 * (k % 7)
            store.log_epoch(run_id, {"epoch": e, "train_loss": 1 / e, "test_loss": 1.1 / e, "train_acc": acc,
                                     "test_acc": acc - 0.01, "seconds": 0.5, "elapsed": 0.5 * e, "lr": config.lr,
                                     "majority_fraction": 0.1, "dead_fraction": 0.0})
        store.set_status(run_id, "finished")
    store.close()
    return time.perf_counter() - start


def apptest_times(db: Path, repeats: int) -> dict[str, list[float]]:
    from streamlit.testing.v1 import AppTest
    os.environ["RESULTS_DB"] = str(db)
    times: dict[str, list[float]] = {"History": [], "Compare (10 picked)": []}
    picked = list(range(1, 11))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    for _ in range(repeats + 1):  # the first round warms caches and imports; not counted
        for label, page in (("History", "ui/history_page.py"), ("Compare (10 picked)", "ui/compare_page.py")):
            at.session_state["compare_ids"] = picked if "Compare" in label else []
            start = time.perf_counter()
            at.switch_page(page).run()
            elapsed = time.perf_counter() - start
            assert not at.exception, at.exception
            times[label].append(elapsed)
    return {k: v[1:] for k, v in times.items()}


def browser_times(db: Path, mnist_dir: str, tmp: Path) -> dict[str, list[float]]:
    from tests.live_server import chromium, running_server
    times: dict[str, list[float]] = {"History": [], "Compare": []}
    with running_server(db, mnist_dir, tmp / "bench-server.log") as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_default_timeout(60000)
        page.goto(server.url)
        page.get_by_role("heading", name="Train").wait_for()
        for _ in range(4):  # the first round is a warm-up
            for label, path, ready in (("History", "history", '[class*="st-key-history_table"] canvas'),
                                       ("Compare", "compare", '[class*="st-key-compare_table"] canvas')):
                start = time.perf_counter()
                page.goto(f"{server.url}/{path}")
                page.locator(ready).first.wait_for()
                page.get_by_role("heading", name=label).wait_for()
                times[label].append(time.perf_counter() - start)
        page.close()
    return {k: v[1:] for k, v in times.items()}


def watched_slowdown(mnist_dir: str, tmp: Path, epochs: int = 8) -> dict:
    from tests.live_server import chromium, click_train, open_train_page, running_server, runs, set_sidebar, wait_until
    db = tmp / "watch.sqlite"

    def epoch_seconds(run_id):
        import sqlite3
        with sqlite3.connect(db) as conn:
            return [s for (s,) in conn.execute("SELECT seconds FROM epochs WHERE run_id = ? AND epoch > 1 "
                                               "ORDER BY epoch", (run_id,))]

    def done(run_id):
        return next(r for r in runs(db) if r["id"] == run_id)["status"] not in ("queued", "running")

    def cpu(pid):  # user + system seconds of the server process
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    result, server_cpu = {}, {}
    with running_server(db, mnist_dir, tmp / "watch-server.log") as server, chromium() as browser:
        for _round in range(2):  # alternate, to spread the machine's noise over both conditions
            for watchers in (0, 8):
                page = open_train_page(browser, server.url)
                set_sidebar(page, hidden="64", epochs=epochs, batch_size=32)
                run_id = click_train(page, db)
                cpu0, wall0 = cpu(server.proc.pid), time.perf_counter()
                extra = [open_train_page(browser, server.url) for _ in range(watchers - 1)] if watchers else []
                if not watchers:
                    page.close()
                wait_until(lambda run_id=run_id: done(run_id), 600, 0.5, "the run")
                busy = (cpu(server.proc.pid) - cpu0) / (time.perf_counter() - wall0)
                server_cpu.setdefault(watchers, []).append(busy)
                for p in extra + ([page] if watchers else []):
                    p.close()
                result.setdefault(watchers, []).extend(epoch_seconds(run_id))
    return {"epochs": result, "server_cores": server_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    mnist_dir = os.environ.get("MNIST_DIR", "")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = tmp / "load.sqlite"
        build = build_store(db, args.runs, args.epochs)
        size = db.stat().st_size / 1e6
        print(f"store: {args.runs} runs x {args.epochs} epochs, {size:.1f} MB, built in {build:.1f} s")
        rows = [(f"AppTest {k}", v) for k, v in apptest_times(db, args.repeats).items()]
        if not args.skip_browser and mnist_dir:
            rows += [(f"Chromium {k}", v) for k, v in browser_times(db, mnist_dir, tmp).items()]
        print(f"\n{'page render (s)':<30} {'median':>7} {'min':>7} {'max':>7}  n")
        for label, values in rows:
            median, low, high = statistics.median(values), min(values), max(values)
            print(f"{label:<30} {median:>7.2f} {low:>7.2f} {high:>7.2f}  {len(values)}")
        if not args.skip_browser and mnist_dir:
            measured = watched_slowdown(mnist_dir, tmp)
            watched, cores = measured["epochs"], measured["server_cores"]
            base, busy = statistics.median(watched[0]), statistics.median(watched[8])
            print("\nlive run, 784-64-10 batch 32 (epochs 2+ of two runs each):")
            print(f"  0 browser sessions watching: median epoch {base:.2f} s ({len(watched[0])} epochs)")
            print(f"  8 browser sessions watching: median epoch {busy:.2f} s ({len(watched[8])} epochs)")
            print(f"  slowdown ratio: {busy / base:.2f}x")
            print(f"  server process CPU (cores busy, mean): {statistics.mean(cores[0]):.2f} with 0 sessions, "
                  f"{statistics.mean(cores[8]):.2f} with 8 "
                  f"(the 8 Chromium tabs run on the same {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
