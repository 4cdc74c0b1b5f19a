"""Inspect's "Draw a digit" panel through AppTest, with the canvas component replaced by a stand-in that
returns a fixed drawing (AppTest has no browser to draw with; tests/e2e/test_draw_digit.py draws for real)."""
from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from experiments.analysis.digit import HiddenUnit
from experiments.analysis.digit_figures import hidden_units_figure, input_figure, probabilities_figure
from experiments.config import RunConfig
from experiments.store import RunStore
from nn import MLP


class FakeCanvas:
    def __init__(self, image):
        self.image_data = image


def drawing() -> np.ndarray:
    """A 280 x 280 RGBA canvas, white strokes on black, holding a rough '7'."""
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[60:80, 60:220, :3] = 255
    for i in range(160):
        rgba[80 + i, 200 - i // 2:220 - i // 2, :3] = 255
    return rgba


@pytest.fixture
def fake_canvas(monkeypatch):
    """Install a stand-in ``streamlit_drawable_canvas`` whose canvas returns ``state['image']``."""
    state: dict = {"image": None}
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: FakeCanvas(state["image"])  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return state


@pytest.fixture
def store_with_runs(tmp_path, monkeypatch) -> tuple[Path, list[int]]:
    """Two runs with saved weights and one without."""
    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(db))
    store = RunStore(db)
    ids = []
    for seed in (0, 1, 2):
        config = RunConfig(hidden=(8,), seed=seed, epochs=1, train_size=1000)
        run_id = store.create_run(config, name=f"seed {seed}", source="cli")
        store.set_status(run_id, "finished")
        if seed < 2:
            store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
            MLP(config.sizes(), seed=seed).save(str(store.weights_path(run_id)))
        ids.append(run_id)
    store.close()
    return db, ids


def panel_app(run_id: int) -> AppTest:
    def script(run_id: int) -> None:
        from ui.draw_digit import draw_digit_panel
        draw_digit_panel(run_id)

    return AppTest.from_function(script, args=(run_id,), default_timeout=30)


def chart_keys(at: AppTest) -> list[str | None]:
    return [c.key for c in at.get("plotly_chart")]


def test_an_empty_canvas_gets_one_line(fake_canvas, store_with_runs):
    _, ids = store_with_runs
    for image in (None, np.zeros((280, 280, 4), np.uint8)):
        fake_canvas["image"] = image
        at = panel_app(ids[0]).run()
        assert not at.exception
        assert [i.value for i in at.info] == ["Nothing to classify yet: the canvas is empty: draw a digit first."]
        assert not at.get("plotly_chart")


def test_a_drawing_gets_ten_probabilities_and_the_units(fake_canvas, store_with_runs):
    _, ids = store_with_runs
    fake_canvas["image"] = drawing()
    at = panel_app(ids[0]).run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == ["Prediction"]
    assert chart_keys(at) == ["draw_input", f"draw_probs_{ids[0]}", f"draw_units_{ids[0]}"]


def test_a_second_run_side_by_side_and_a_run_without_weights(fake_canvas, store_with_runs):
    _, ids = store_with_runs
    fake_canvas["image"] = drawing()
    at = panel_app(ids[0]).run()
    at.selectbox(key="draw_compare").select(ids[1]).run()
    assert not at.exception
    assert len(at.metric) == 2  # one prediction per run
    assert chart_keys(at) == ["draw_input", f"draw_probs_{ids[0]}", f"draw_probs_{ids[1]}", f"draw_units_{ids[0]}"]
    at = panel_app(ids[2]).run()  # this run kept no weights
    assert not at.exception
    assert any("kept no weights" in i.value for i in at.info)


# ---------------------------------------------------------------------- the figures themselves
def test_probabilities_figure_has_ten_bars_and_marks_the_prediction():
    p = np.full(10, 0.05)
    p[7] = 0.55
    fig = probabilities_figure(p, title="<b>run</b>")
    bar = fig.data[0]
    assert isinstance(bar, go.Bar) and list(bar.x) == [str(i) for i in range(10)] and np.allclose(bar.y, p)
    assert bar.marker.color[7] != bar.marker.color[0]
    assert "<b>" not in fig.layout.title.text  # user text is escaped
    with pytest.raises(ValueError):
        probabilities_figure([0.5, 0.5])


def test_input_and_units_figures_show_the_images():
    image = np.random.default_rng(0).random((28, 28))
    assert np.allclose(input_figure(image).data[0].z, image)
    units = [HiddenUnit(3, 1.5, np.ones((28, 28))), HiddenUnit(9, 0.5, -np.ones((28, 28)))]
    fig = hidden_units_figure(units)
    assert [a.text for a in fig.layout.annotations] == ["unit 3: 1.50", "unit 9: 0.50"]
