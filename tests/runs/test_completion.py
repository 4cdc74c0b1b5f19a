"""A run that has ended counts as done: progress reaches 100% however early it ended (issue 23 item 10)."""
from __future__ import annotations

import io

from experiments.report import presets
from experiments.report.reproduce import ProgressBar, Queued
from experiments.runs.completion import RunEpochs, completion, run_epochs_text, run_fraction
from experiments.runs.runner import LivePhase, Progress
from nn.status import RunStatus


def test_a_finished_sweep_whose_trials_ended_early_is_complete():
    """A TPE sweep of 6 trials x 3 epochs whose pruner ended two trials after 2 epochs: "16 of 18" at 89%."""
    trials = [RunEpochs(3, 3, False)] * 4 + [RunEpochs(2, 3, False)] * 2
    reach = completion(trials)
    assert reach.fraction == 1.0 and (reach.done, reach.total) == (16, 16)
    assert reach.epochs_text() == "16 of 16 epochs (2 planned epochs not needed: 2 runs ended early)"


def test_an_active_sweep_counts_what_its_running_trials_still_have_to_train():
    reach = completion([RunEpochs(2, 3, False), RunEpochs(1, 3, True), RunEpochs(0, 3, True)])
    assert (reach.done, reach.total) == (3, 8) and reach.fraction == 3 / 8
    assert completion([]).fraction == 0.0


def test_an_early_stopped_run_is_done_and_says_where_it_ended():
    assert run_fraction(9, 40, active=False) == 1.0 and run_fraction(9, 40, active=True) == 9 / 40
    assert run_fraction(0, 40, active=False) == 1.0  # failed before its first epoch: nothing more will come
    assert run_epochs_text(9, 40, "finished") == "ended at epoch 9 of 40 (early stopping)"
    assert run_epochs_text(9, 40, "stopped") == "ended at epoch 9 of 40 (stopped)"
    assert run_epochs_text(9, 40, "paused") == "epoch 9/40" and run_epochs_text(40, 40, "finished") == "epoch 40/40"


def test_a_runs_progress_is_complete_once_ended_and_has_no_eta_while_paused():
    ended = Progress(1, LivePhase.ENDED, RunStatus.FINISHED, epoch=9, epochs=40, latest={"elapsed": 9.0})
    assert ended.fraction == 1.0 and ended.eta_seconds is None
    paused = Progress(1, LivePhase.PAUSED, RunStatus.RUNNING, epoch=9, epochs=40, latest={"elapsed": 9.0})
    assert paused.fraction == 9 / 40 and paused.eta_seconds is None
    running = Progress(1, LivePhase.RUNNING, RunStatus.RUNNING, epoch=9, epochs=40, latest={"elapsed": 9.0})
    assert running.eta_seconds == 31.0


class _Manager:
    """The runner's ``progress`` for a reproduction whose runs have all ended, one early."""

    def __init__(self, progress: dict[int, Progress]):
        self._progress = progress

    def progress(self, run_id: int) -> Progress | None:
        return self._progress.get(run_id)


def test_reproduces_bar_ends_at_100_percent_when_a_run_ended_early():
    planned = presets.plan([presets.get_comparison("learning-rate").scaled(0.1)], 1)
    ids = list(range(1, len(planned) + 1))
    queued = Queued("report-x", planned, ids)
    progress = {i: Progress(i, LivePhase.ENDED, RunStatus.FINISHED, p.config.epochs, p.config.epochs)
                for i, p in zip(ids, planned)}
    first = planned[0].config.epochs
    progress[1] = Progress(1, LivePhase.ENDED, RunStatus.DIVERGED, 1, first)
    line = ProgressBar(queued, io.StringIO()).line(_Manager(progress))  # type: ignore[arg-type]
    assert line.startswith("[" + "#" * 30 + "] 100%"), line
    assert f"{queued.total_epochs - first + 1}/{queued.total_epochs - first + 1} epochs" in line


def test_the_sweep_commands_progress_line_counts_pruned_trials_as_done(tmp_path):
    """`python -m experiments sweep` printed "2/3 epochs" for ever after a trial was pruned."""
    from experiments.cli.sweeps import _progress_line
    from experiments.config import RunConfig
    from experiments.store import RunStore
    store = RunStore(tmp_path / "runs.sqlite")
    for status, epochs in (("finished", 1), ("pruned", 0), ("finished", 1)):
        run_id = store.create_run(RunConfig(hidden=(8,), epochs=1), name=status, group_id="sweep-x")
        for epoch in range(1, epochs + 1):
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.5, "test_acc": 0.8, "elapsed": 1.0})
        store.set_status(run_id, status)
    assert _progress_line(store, "sweep-x").startswith("2 of 2 epochs (1 planned epoch not needed: 1 run ended early)")
