"""The class server on a Ray cluster (``MNIST_LAB_RAY_ADDRESS``): a run queued from the Train page trains on a
real ``ray start --head`` with token authentication (``ray_head``), and the page shows it live, epoch by
epoch, from the store the server fills as the worker's epochs arrive; then finished, with its weights."""
from __future__ import annotations

import importlib.util

import pytest

from experiments.store import RunStore
from nn.status import RunStatus
from tests.conftest import wait_until
from tests.ray_head import forget_token

pytestmark = [pytest.mark.ray, pytest.mark.mnist, pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                 reason="Ray is not installed: pip install -r requirements-ray.txt")]
EPOCHS = 6


def test_a_run_on_the_ray_cluster_shows_live_on_the_train_page(db, mnist_dir, ray_head, ray_token, monkeypatch, app,
                                                                capsys):
    import ray

    from ui.common import _resources

    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    monkeypatch.setenv("MNIST_LAB_RAY_ADDRESS", ray_head.address)
    started_here = not ray.is_initialized()
    at = app().run()
    # about 0.8 s an epoch on one core: several page runs see it between its first and last epoch
    for name, value in (("hidden", "256"), ("epochs", str(EPOCHS)), ("train_size", "4000"), ("batch_size", "8")):
        at.sidebar.text_input(key=f"cfg_{name}").set_value(value)
    at.sidebar.button(key="train_button").click().run()
    assert not at.exception and not at.sidebar.error
    store = RunStore(db)
    [run] = store.search_runs()
    manager = _resources(str(db))[1]
    assert ray.is_initialized() and "training on this machine" not in capsys.readouterr().err  # joined the head
    try:
        def shown_live() -> str | None:
            at.run()
            stored = store.get_run(run.id)
            bars = [p.proto.text for p in at.get("progress") if f"Run {run.id}" in (p.proto.text or "")]
            live = stored.status == RunStatus.RUNNING and 1 <= stored.epochs_done < EPOCHS
            return next((b for b in bars if live and f"/{EPOCHS}" in b and f"epoch 0/{EPOCHS}" not in b), None)

        bar = wait_until(shown_live, 300, "the Train page to show the run between its first and last epoch")
        assert "accuracy" in bar  # the latest epoch's accuracy, from the epochs the worker sent
        assert manager.wait([run.id], timeout=300)
    finally:
        manager.stop_all()
        manager.wait(timeout=60)
        if started_here:
            ray.shutdown()
        for name in ("RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE", "MNIST_LAB_RAY_ADDRESS"):
            monkeypatch.delenv(name, raising=False)  # the head's token gone, before Ray forgets it
        forget_token()
    at.run()
    done = store.get_run(run.id)
    assert (done.status, done.epochs_done) == (RunStatus.FINISHED, EPOCHS), done.message
    assert store.weights_path(run.id).is_file()
    assert any(f"Run {run.id}" in (p.proto.text or "") and f"epoch {EPOCHS}/{EPOCHS}" in p.proto.text
               for p in at.get("progress"))
