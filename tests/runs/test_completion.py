"""A run that has ended counts as done: progress reaches 100% however early it ended (issue 23 item 10); and a
run's end message, stored in English, reads in the current language (issue 26)."""
from __future__ import annotations

import io
import threading

from experiments import i18n
from experiments.i18n import _
from experiments.report import presets
from experiments.report.reproduce import ProgressBar, Queued
from experiments.runs.completion import (
    END_MESSAGES,
    NOT_RESUMED,
    PROCESS_ENDED,
    STORE_NOT_UPDATED,
    RunEpochs,
    completion,
    run_epochs_text,
    run_fraction,
    shown_message,
)
from experiments.runs.runner import LivePhase, Progress
from nn import MLP, FitOptions, fit, split_validation
from nn.callbacks import StopOnEvent
from nn.early_stopping import EarlyStopping
from nn.optim import SGD, Adam
from nn.status import RunStatus
from tests.conftest import make_blobs


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


# ------------------------------------------------------------------ a run's end message, read in the current language
def _spanish(message: str) -> str:
    with i18n.using("es"):
        return shown_message(message)


def test_the_messages_fit_writes_read_in_spanish(blobs):
    """Issue 26: a run's end message is stored in English as fit wrote it; a Spanish page reads it in Spanish, with
    the same numbers (a divergence's loss and learning rate, early stopping's epochs), and English as stored."""
    diverged = fit(MLP([20, 64, 10], seed=0), SGD(1e6), blobs, FitOptions(epochs=3, batch_size=32)).message
    assert _spanish(diverged).startswith("la pérdida se ") and "la tasa de aprendizaje (1e+06) es demasiado alta" in \
        _spanish(diverged), _spanish(diverged)
    with i18n.using("en"):
        assert shown_message(diverged) == diverged
    data = split_validation(make_blobs(n_train=300, features=20, seed=4), 200)
    for restore in (True, False):
        stopper = EarlyStopping(patience=1, restore_best_weights=restore)
        early = fit(MLP([20, 256, 10], seed=0), Adam(0.05), data, FitOptions(epochs=40, batch_size=8),
                    callbacks=[stopper]).message
        assert early.startswith("early stopping after epoch"), early
        spanish = _spanish(early)
        assert spanish.startswith(f"parada temprana después de la época {stopper.stopped_epoch}: val_loss no ha "
                                  "mejorado"), spanish
        assert ("se restauraron los pesos de la época" in spanish) == restore, spanish


def test_a_stop_and_the_labs_own_end_messages_read_in_spanish():
    stop = threading.Event()
    stop.set()
    stopped = fit(MLP([20, 8, 10], seed=0), SGD(0.1), make_blobs(), FitOptions(epochs=2, batch_size=32),
                  callbacks=[StopOnEvent(stop)]).message
    assert _spanish(stopped) == "detenida por el usuario durante la época 1"
    assert _spanish(PROCESS_ENDED.format(epochs=3)).startswith("el proceso que la entrenaba terminó después de 3")
    nested = STORE_NOT_UPDATED.format(message=NOT_RESUMED.format(reason="[Errno 2] x"), reason="disk I/O error")
    assert _spanish(nested) == "no se pudo reanudar: [Errno 2] x (y no se pudo actualizar el almacén: disk I/O error)"
    assert _spanish("an error's own words, as raised") == "an error's own words, as raised"


def test_every_end_message_has_its_spanish_with_the_same_placeholders():
    """A template added to END_MESSAGES without its translation would silently read in English."""
    with i18n.using("es"):
        for template in END_MESSAGES:
            assert _(template) != template, template
