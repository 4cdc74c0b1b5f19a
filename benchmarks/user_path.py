"""Ours, timed where users run it: the command line and the dashboard's runner, with their default callbacks and
store, over several epochs of one run; bare ``train_config`` beside them for the product's overhead.

Each returns the seconds of every epoch after the first, measured as a user would feel them: the difference
of consecutive epochs' ``elapsed`` (logged when an epoch's evaluation ends), so an epoch's time includes the
previous epoch's callbacks (storing it, its within-epoch points and layer statistics, the checkpoint). The
work is the contenders' (benchmarks/contenders.py): 60,000 training images (``val_size`` 0), a test pass.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from nn import Dataset

ROOT = Path(__file__).resolve().parents[1]
Sizes = Sequence[int]


def epoch_seconds(elapsed: Sequence[float]) -> list[float]:
    """Seconds of every epoch after the first, from the epochs' ``elapsed`` (seconds since training began)."""
    return [later - earlier for earlier, later in zip(elapsed[:-1], elapsed[1:])]


def _config(sizes: Sizes, batch: int, seed: int, epochs: int, **more):
    from experiments.config import RunConfig

    return RunConfig(hidden=tuple(sizes[1:-1]), batch_size=batch, seed=seed, epochs=epochs, val_size=0, **more)


def cli_arguments(sizes: Sizes, batch: int, seed: int, epochs: int) -> list[str]:
    hidden = ",".join(map(str, sizes[1:-1])) or "none"
    return ["run", "--hidden", hidden, "--batch-size", str(batch), "--seed", str(seed), "--epochs", str(epochs),
            "--val-size", "0", "--json"]


def time_cli(data_dir: str, sizes: Sizes, batch: int, seed: int, epochs: int,
             environment: dict[str, str] | None = None) -> list[float]:
    """``python -m experiments run ... --json`` in a fresh process, into a scratch store."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **(environment or {}), "RESULTS_DB": str(Path(tmp) / "runs.sqlite")}
        if data_dir:
            env["MNIST_DIR"] = data_dir
        done = subprocess.run([sys.executable, "-m", "experiments", *cli_arguments(sizes, batch, seed, epochs)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"the command line failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return epoch_seconds([json.loads(line)["elapsed"] for line in done.stdout.splitlines()])


def time_runner(data: Dataset, sizes: Sizes, batch: int, seed: int, epochs: int) -> list[float]:
    """The dashboard's runner: a RunManager as ``ui/common.py`` builds it, the run submitted as the Train page
    does, its epochs read back from the store."""
    from experiments.runs.runner import RunManager, runs_at_once
    from experiments.store import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs.sqlite")
        manager = RunManager(store, max_concurrent=runs_at_once(), data_loader=lambda config: data)
        run_id = manager.submit(_config(sizes, batch, seed, epochs), source="benchmark")
        manager.wait([run_id])
        run = store.get_run(run_id)
        if run.status != "finished":
            raise RuntimeError(f"the runner's run ended {run.status}: {run.message}")
        elapsed = [e["elapsed"] for e in store.get_epochs(run_id)]
        store.close_all()
    return epoch_seconds(elapsed)


def time_bare(data: Dataset, sizes: Sizes, batch: int, seed: int, epochs: int) -> list[float]:
    """``train_config`` called directly: no store, no recorders, no checkpoints."""
    from experiments.runs.training import train_config

    _, result = train_config(_config(sizes, batch, seed, epochs), data)
    if len(result.history) != epochs:
        raise RuntimeError(f"bare train_config stopped early: {result.message}")
    return epoch_seconds([h["elapsed"] for h in result.history])
