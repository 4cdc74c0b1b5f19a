"""The class server under a hog: 30 students' one-epoch runs, alone and with a hog run of another student.

    MNIST_DIR=/path/to/mnist nice -n 19 python benchmarks/bench_class_server.py [--students 30]
        [--train-size 24000] [--quick]

The user's path: the dashboard's RunManager as ``ui/common.py`` makes it (``runs_at_once()`` slots, the
``DataSource`` loader, a real store in a scratch folder) on real MNIST. Each student is their own owner and
queues one run of the sidebar's defaults (784-128-10, Adam, batch 64) for one epoch on ``--train-size``
training images (24,000: about a second a run on this machine when two train at once; validation and test
are evaluated as always). Rounds, the 30 runs queued at once in each:

- alone: nothing else on the server;
- hog just queued: a hog run (784-128-10, batch size 1, 1,000 epochs, all 50,000 images: about 80 s an
  epoch, a day in all) queued by another student just before the 30; it holds a slot for its first slice;
- hog training: the same hog queued a slice and a half before the 30 (a class's usual case: the hog has
  been training for a while).

They go alone, hog just queued, hog training, ``--repeats`` times, and alone once more, so that each hog
round has an alone round on either side: its reference is their mean, student by student (the machine is
shared, and its other load drifts between rounds). A run's latency is from its submit to the end of its
training (``on_train_end``). Printed per round: the median and longest latency, the last run's end, and for
the hog rounds the median and max delay ratio (with hog / alone, student by student) and the ratio of the
last ends; and the machine's load (``os.getloadavg``) before each round. No pass/fail: figures on a shared
machine are for reading.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments.config import RunConfig  # noqa: E402
from experiments.runs import turns  # noqa: E402
from experiments.runs.data_source import DataSource  # noqa: E402
from experiments.runs.runner import LivePhase, RunManager, runs_at_once  # noqa: E402
from experiments.store import RunStore  # noqa: E402
from nn import Callback  # noqa: E402

HOG = RunConfig(hidden=(128,), batch_size=1, epochs=1000)


class _Ended(Callback):
    """Notes when the run's training ended."""

    def __init__(self) -> None:
        self.at: float | None = None

    def on_train_end(self, logs: dict) -> None:
        self.at = time.monotonic()


@dataclass
class Round:
    name: str
    latencies: list[float]  # per student, in the order they queued
    last_end: float  # seconds from the first submit to the last run's end
    load: tuple[float, float, float]


def run_round(manager: RunManager, name: str, students: int, config: RunConfig, hog_lead: float | None) -> Round:
    """Queue the hog ``hog_lead`` seconds before the students (None: no hog), then one run per student."""
    load = os.getloadavg()
    hog = None
    if hog_lead is not None:
        hog = manager.submit(HOG, name="hog", source="benchmark", student="hog")
        deadline = time.monotonic() + 120
        while manager.progress(hog).phase is not LivePhase.RUNNING and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(hog_lead)
    ended = [_Ended() for _ in range(students)]
    submitted, ids = [], []
    for k in range(students):
        submitted.append(time.monotonic())
        ids.append(manager.submit(config.replace(seed=k), name=f"student {k}", source="benchmark",
                                  student=f"student{k:02d}", callbacks=[ended[k]]))
    if not manager.wait(ids, timeout=3600):
        raise RuntimeError(f"{name}: the students' runs did not end within an hour")
    if hog is not None:
        if not manager.progress(hog).active:
            raise RuntimeError(f"{name}: the hog ended before the students' runs; it should still be training")
        manager.stop(hog)
        manager.wait([hog], timeout=120)
    bad = [i for i in ids if manager.store.get_run(i).status != "finished"]
    if bad or any(e.at is None for e in ended):
        raise RuntimeError(f"{name}: runs {bad} did not finish")
    ends = [float(e.at) for e in ended if e.at is not None]
    return Round(name, [end - start for end, start in zip(ends, submitted)], max(ends) - submitted[0], load)


def _reference(rounds: list[Round], index: int) -> Round:
    """The mean of the alone rounds just before and just after round ``index``, student by student."""
    before = next(r for r in reversed(rounds[:index]) if r.name == "alone")
    after = next(r for r in rounds[index + 1:] if r.name == "alone")
    return Round("alone", [(a + b) / 2 for a, b in zip(before.latencies, after.latencies)],
                 (before.last_end + after.last_end) / 2, before.load)


def report(rounds: list[Round], students: int, train_size: int) -> None:
    print(f"\n{students} students, one epoch each of 784-128-10 on {train_size:,} images; "
          f"{runs_at_once()} slots (runs_at_once), slice {turns.slice_seconds():g} s, {os.cpu_count()} cores\n")
    print("| round | load (1/5/15 min) before | median latency | longest | last end | median delay ratio "
          "| max delay ratio | last-end ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for index, r in enumerate(rounds):
        figures = "| | | |"
        if r.name != "alone":
            alone = _reference(rounds, index)
            ratios = [w / a for w, a in zip(r.latencies, alone.latencies)]
            figures = (f"| {statistics.median(ratios):.2f}x | {max(ratios):.2f}x "
                       f"| {r.last_end / alone.last_end:.2f}x |")
        print(f"| {r.name} | {' / '.join(f'{x:.1f}' for x in r.load)} | {statistics.median(r.latencies):.2f} s "
              f"| {max(r.latencies):.2f} s | {r.last_end:.2f} s {figures}")
    print(f"\nload after: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=24_000)
    parser.add_argument("--repeats", type=int, default=2, help="rounds of each kind (alone: one more)")
    parser.add_argument("--quick", action="store_true", help="4 students on 1,000 images, once: checks that it runs")
    args = parser.parse_args(argv)
    students, train_size = (4, 1_000) if args.quick else (args.students, args.train_size)
    repeats = 1 if args.quick else max(1, args.repeats)
    config = RunConfig(hidden=(128,), epochs=1, train_size=train_size)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs.sqlite")
        data = DataSource()
        manager = RunManager(store, max_concurrent=runs_at_once(), data_loader=data.load)
        # a server that has trained before: MNIST in memory, the kernels compiled (one untimed run of each kind)
        warm = [manager.submit(config, source="benchmark"), manager.submit(HOG.replace(epochs=1, train_size=100),
                                                                           source="benchmark")]
        manager.wait(warm, timeout=600)
        leads = {"alone": None, "hog just queued": 0.0, "hog training": 1.5 * turns.slice_seconds()}
        rounds = [run_round(manager, name, students, config, lead) for _ in range(repeats)
                  for name, lead in leads.items()]
        rounds.append(run_round(manager, "alone", students, config, None))
        manager.stop_all()
        manager.wait(timeout=120)
        store.close_all()
    report(rounds, students, train_size)


if __name__ == "__main__":
    main()
