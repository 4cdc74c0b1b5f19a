"""A sweep's trials counted by status, as the Sweep page's picker and progress, Insights' picker and the notebook's
sweep line write them: English as it always read, Spanish in words with their plural forms."""
from __future__ import annotations

from experiments import i18n
from experiments.config import RunConfig
from experiments.lab import Lab
from experiments.sweeps.catalog import count_statuses, stored_sweeps, trial_counts
from nn.status import RunStatus

STATUSES = ["finished", "pruned", "finished", "stopped", "finished", "failed", "queued", "finished"]


def test_counts_keep_the_order_statuses_first_appear_in():
    assert count_statuses(STATUSES) == {"finished": 4, "pruned": 1, "stopped": 1, "failed": 1, "queued": 1}


def test_english_reads_as_before_and_spanish_agrees_with_the_count():
    counts = count_statuses(STATUSES)
    assert trial_counts(counts) == "4 finished, 1 pruned, 1 stopped, 1 failed, 1 queued"
    with i18n.using("es"):
        assert trial_counts(counts) == "4 terminados, 1 podado, 1 detenido, 1 falló, 1 en cola"
        assert trial_counts({"diverged": 2, "interrupted": 3}) == "2 divergieron, 3 interrumpidos"
        assert trial_counts({"paused": 2}) == "2 paused"  # not a stored status: as it is


def test_a_stored_sweeps_label_and_the_notebooks_sweep_line_in_spanish(store):
    for status in (RunStatus.FINISHED, RunStatus.PRUNED):
        run_id = store.create_run(RunConfig(hidden=(8,), epochs=1), name="tasas #0: lr=0.1", group_id="sw-1",
                                  source="dashboard", tags=["sweep:sw-1"])
        store.set_status(run_id, status)
    [summary] = stored_sweeps(store)
    assert summary.label().endswith(" · 2 trials: 1 finished, 1 pruned · dashboard")
    with i18n.using("es"):
        assert summary.label().endswith(" · 2 intentos: 1 terminado, 1 podado · panel")
        line = Lab(store.path)._sweep_line("sw-1")
    assert line.endswith("; 1 podado, 1 terminado"), line  # the notebook lists the newest trial first
