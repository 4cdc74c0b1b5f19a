"""Resume's and Continue's refusals (shown on the Train and History pages and by the CLI) read in the current
language, the run's status in words ("sigue entrenando"); English reads as it always did."""
from __future__ import annotations

import pytest

from experiments import i18n
from experiments.config import RunConfig
from experiments.runs.checkpoints import ResumeError
from experiments.runs.lifecycle import plan_continue, plan_resume
from nn.status import RunStatus


def _run(store, status: RunStatus) -> int:
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=2))
    store.set_status(run_id, status)
    return run_id


@pytest.mark.parametrize(("status", "plan", "english", "spanish"), [
    (RunStatus.RUNNING, plan_resume, "is still running: stop it first", "sigue entrenando: detenla primero"),
    (RunStatus.QUEUED, plan_continue, "is still queued: wait for it to finish",
     "sigue en cola: espera a que termine"),
    (RunStatus.FINISHED, plan_resume, "has finished all its 2 epochs", "ya terminó sus 2 épocas"),
    (RunStatus.DIVERGED, plan_resume, "diverged: resumed, it would diverge again", "divergió: si se reanuda"),
    (RunStatus.STOPPED, plan_continue, "is stopped after 0 of 2 epochs, not finished: resume it first",
     "acabó (detenida) tras 0 de 2 épocas, sin terminar: reanúdala primero"),
])
def test_a_refusal_reads_in_the_current_language(store, status, plan, english, spanish):
    run_id = _run(store, status)
    args = (store, run_id) if plan is plan_resume else (store, run_id, 3)
    with pytest.raises(ResumeError) as caught:
        plan(*args)
    assert english in str(caught.value)
    with i18n.using("es"), pytest.raises(ResumeError) as caught:
        plan(*args)
    assert spanish in str(caught.value), str(caught.value)
