"""Inspect's "Draw a digit" panel: a canvas, the 28 x 28 the network sees, its ten probabilities, the units
that respond most. Reads the run's saved weights, so it works for any finished run, also after a restart.

The preprocessing and the reading live in experiments/analysis/digit.py, the figures in digit_figures.py;
this module only lays out widgets.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from experiments.analysis.digit import DigitError, DigitReading, preprocess, read
from experiments.analysis.digit_figures import hidden_units_figure, input_figure, probabilities_figure
from experiments.i18n import _
from experiments.store import RunStore
from nn import MLP
from ui import common

CANVAS_SIZE = 280   # ten canvas pixels per MNIST pixel
STROKE_WIDTH = 20   # about MNIST's stroke width once scaled into the 20 x 20 box
UNITS_SHOWN = 8


def _reading(store: RunStore, run_id: int, digit: np.ndarray) -> DigitReading | str:
    """The run's reading of the preprocessed digit, or a one-line message saying why there is none."""
    path = store.weights_path(run_id)
    if not path.is_file():
        return _("Run {id} kept no weights (it ended before finishing an epoch): pick another run.").format(id=run_id)
    try:
        return read(MLP.load(str(path)), digit, UNITS_SHOWN)
    except DigitError as exc:
        return _("Run {id} cannot read a drawing: {reason}.").format(id=run_id, reason=exc)
    except (OSError, ValueError, KeyError) as exc:
        return _("Run {id}'s weights file cannot be read ({error}): train the run again.").format(
            id=run_id, error=type(exc).__name__)


def _other_run(store: RunStore, run_id: int) -> int | None:
    """An optional second run to read the same drawing, side by side."""
    others = [r for r in store.search_runs() if r.id != run_id and store.weights_path(r.id).is_file()]
    if not others:
        return None
    # The network comes from the weights file, so a run whose settings are unreadable can still be read.
    names = {r.id: f"{r.id}: {r.name}" + (f" ({r.config.architecture}, {r.config.optimizer})" if r.config else "")
             for r in others}
    return st.selectbox(_("Compare with"), [None, *names], key="draw_compare",
                        format_func=lambda i: _("no other run") if i is None else names[i],
                        help=_("Read the same drawing with a second run's network, side by side."))


def _show(run_id: int, reading: DigitReading | str) -> None:
    """One run's prediction and probabilities (or why there are none)."""
    st.markdown("**" + _("Run {id}").format(id=run_id) + "**")
    if isinstance(reading, str):
        st.info(common.message_text(reading), icon=":material/info:")
        return
    st.metric(_("Prediction"), str(reading.prediction), help=_("The digit with the highest probability."))
    st.plotly_chart(probabilities_figure(reading.probabilities), key=f"draw_probs_{run_id}")


@st.fragment
def draw_digit_panel(run_id: int) -> None:
    """The whole panel for ``run_id`` (Inspect calls this once, below its other views).

    A fragment: each stroke reruns only this panel, not the page's confusion matrix and image grids. A
    fragment's rerun is not inside the page's error handling, so the panel has its own.
    """
    common.run_page(lambda: _panel(run_id))


def _panel(run_id: int) -> None:
    from streamlit_drawable_canvas import st_canvas  # registers a component: only inside a Streamlit runtime

    st.subheader(_("Draw a digit"))
    st.caption(_("Draw one digit with the mouse, as large as you like. It is cropped, scaled into a 20 x 20 box "
                 "and centred by its centre of mass in 28 x 28, as MNIST's images were made, then classified."))
    store = common.store()
    left, right = st.columns([1, 2])
    with left:
        canvas = st_canvas(stroke_width=STROKE_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
                           height=CANVAS_SIZE, width=CANVAS_SIZE, drawing_mode="freedraw",
                           return_image_data=True, key="draw_canvas")
        other = _other_run(store, run_id)
    try:
        if canvas.image_data is None:
            raise DigitError(_("the canvas is empty: draw a digit first"))
        digit = preprocess(canvas.image_data)
    except DigitError as exc:
        right.info(_("Nothing to classify yet: {reason}.").format(reason=exc), icon=":material/draw:")
        return
    readings = {rid: _reading(store, rid, digit) for rid in (run_id, other) if rid is not None}
    with right:
        st.plotly_chart(input_figure(digit), key="draw_input", width="content")
        for column, (rid, reading) in zip(st.columns(len(readings)), readings.items()):
            with column:
                _show(rid, reading)
    first = readings[run_id]
    if not isinstance(first, str) and first.units:
        st.caption(_("Run {id}: the first-layer units that respond most to this drawing (activation in each "
                     "title), each shown through its 784 incoming weights: red pixels excite it, blue ones inhibit "
                     "it.").format(id=run_id))
        st.plotly_chart(hidden_units_figure(first.units), key=f"draw_units_{run_id}")
