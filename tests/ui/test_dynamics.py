"""Train, Compare and Inspect with the dynamics, the fix button and the lr finder, through AppTest."""
from __future__ import annotations

from experiments.analysis.fix_trial import PREFIX
from experiments.config import RunConfig
from experiments.store import RunStore
from experiments.store.dynamics import log_batch_points, log_layer_stats
from nn.batch_curve import BatchPoint
from nn.dynamics import Histogram, LayerStats
from tests.ui.conftest import PAGES, texts

L2_CASE = RunConfig(hidden=(8,), activation="sigmoid", optimizer="sgd", lr=1e-5, l2=1.0, epochs=2, train_size=1000)


def l2_run(path) -> int:
    store = RunStore(path)
    run_id = store.create_run(L2_CASE, name="l2 case")
    for e in (1, 2):
        store.log_epoch(run_id, {"epoch": e, "train_loss": 2.48, "train_acc": 0.1, "test_loss": 2.5,
                                 "test_acc": 0.097, "majority_fraction": 0.86, "l2_penalty": 118.0, "elapsed": e})
        log_batch_points(store, run_id, [BatchPoint(e, b, e - 1 + b / 4, 2.5, 0.1, 118.0) for b in (1, 2, 3, 4)])
        hist = Histogram(-1.0, 1.0, [1, 2, 3, 2])
        log_layer_stats(store, run_id, [LayerStats(e, layer, 5.0, 0.1, 1e-5, None, 0.0,
                                                   {"weights": hist, "gradients": hist})
                                        for layer in (1, 2)])
    store.set_status(run_id, "finished")
    return run_id


def test_train_shows_the_finding_its_fix_and_the_dynamics(db, app):
    run_id = l2_run(db)
    at = app().run()
    at.session_state["watched"] = [run_id]
    at.run()
    assert not at.exception
    assert any("L2 dominates the loss" in e.value and "**L2** 1 → 0.0001" in e.value for e in at.error)
    assert any(getattr(e, "label", "") == "Find a learning rate" for e in at.get("expander"))
    at.toggle(key="train_dynamics").set_value(True).run()
    assert not at.exception
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 2 + 5  # the live loss and accuracy, four series, the penalty (+ the heatmap)


def test_try_this_fix_queues_both_settings_as_one_group(db, app):
    run_id = l2_run(db)
    at = app().run()
    at.session_state["watched"] = [run_id]
    at.run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith(f"fix_{run_id}_"))).click().run()
    assert not at.exception
    group = [r for r in RunStore(db).search_runs() if r.group_id and r.group_id.startswith(PREFIX)]
    assert len(group) == 6 and len({r.group_id for r in group}) == 1
    assert sorted(r.config.l2 for r in group if r.config is not None) == [1e-4] * 3 + [1.0] * 3
    assert f"Trying a fix for run {run_id}" in [s.value for s in at.subheader]  # Compare shows the group


def test_compare_shows_a_fix_group_with_its_verdict(db, app):
    run_id = l2_run(db)
    store = RunStore(db)
    group = f"{PREFIX}{run_id}-abc"
    for seed, (config, acc) in enumerate([(L2_CASE, 0.1), (L2_CASE, 0.11), (L2_CASE.replace(l2=1e-4), 0.8),
                                          (L2_CASE.replace(l2=1e-4), 0.82)]):
        rid = store.create_run(config.replace(seed=seed % 2), group_id=group)
        store.log_epoch(rid, {"epoch": 1, "train_loss": 1.0, "val_acc": acc, "val_loss": 1 - acc, "test_acc": acc,
                              "train_acc": acc, "elapsed": 1})
        store.set_status(rid, "finished")
    at = app().run()
    at.switch_page(PAGES["Compare"])
    at.query_params["group"] = group
    at.run()
    assert not at.exception
    shown = texts(at) + "".join(s.value for s in [*at.success, *at.subheader])
    assert f"Trying a fix for run {run_id}" in shown and "The fix helped" in shown


def test_inspect_has_the_dynamics_view(db, mnist_dir, app):
    run_id = l2_run(db)
    store = RunStore(db)
    from nn import MLP
    store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
    MLP(L2_CASE.sizes(), activation="sigmoid").save(str(store.weights_path(run_id)))
    at = app().run()
    at.session_state["inspect_id"] = run_id
    at.switch_page(PAGES["Inspect"]).run(timeout=60)
    assert not at.exception
    assert "Training dynamics" in texts(at) + "".join(s.value for s in at.subheader)
    assert any(c.key == "inspect_dyn_heatmap" for c in at.get("plotly_chart") if hasattr(c, "key"))


def test_compare_draws_within_epoch_points_as_thin_lines(db, app):
    run_id = l2_run(db)
    at = app().run()
    at.session_state["compare_ids"] = [run_id]
    at.switch_page(PAGES["Compare"]).run()
    at.selectbox(key="cmp_metric").set_value("train_loss").run()
    before = len(at.get("plotly_chart")[0].proto.spec)
    at.toggle(key="cmp_batches").set_value(True).run()
    assert not at.exception
    spec = at.get("plotly_chart")[0].proto.spec
    assert len(spec) > before and "within the epoch" in spec
