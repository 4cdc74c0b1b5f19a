"""The Train page's sidebar: one widget per setting, and the Train button that queues a validated run."""
from __future__ import annotations

import streamlit as st

from experiments.config import DTYPES, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED, ConfigError, RunConfig
from experiments.runs.store import StoreError
from nn.activations import ACTIVATIONS
from nn.mlp import REDUCTIONS
from nn.optim import OPTIMIZERS
from ui import common

DEFAULTS = RunConfig()
# Log-spaced choices: 1, 2, 3, 5 per decade.
LEARNING_RATES = sorted({round(m * 10.0 ** e, 12) for e in range(-5, 1) for m in (1, 2, 3, 5)} | {10.0})
L2_VALUES = [0.0] + sorted({round(m * 10.0 ** e, 12) for e in range(-6, 0) for m in (1, 3)} | {1.0})


def _with(options: list[float], value: float) -> list[float]:
    return options if value in options else sorted(options + [value])


def _apply_pending() -> None:
    """Settings sent by History's "load into sidebar" become the widgets' values (before they are drawn)."""
    pending = st.session_state.pop("pending_config", None)
    if not pending:
        return
    config = RunConfig.from_dict(pending)
    st.session_state.update({
        "cfg_hidden": ", ".join(map(str, config.hidden)), "cfg_activation": config.activation,
        "cfg_optimizer": config.optimizer, "cfg_lr": config.lr, "cfg_l2": config.l2, "cfg_epochs": config.epochs,
        "cfg_batch_size": config.batch_size, "cfg_seed": config.seed, "cfg_train_size": config.train_size,
        "cfg_dtype": config.dtype, "cfg_reduction": config.reduction})
    st.session_state["config_loaded"] = True


def _init_defaults() -> None:
    """Default values live in Session State (not in the widget calls), so loading a config never conflicts."""
    defaults = {"cfg_hidden": ", ".join(map(str, DEFAULTS.hidden)), "cfg_activation": DEFAULTS.activation,
                "cfg_optimizer": DEFAULTS.optimizer, "cfg_lr": DEFAULTS.lr, "cfg_l2": DEFAULTS.l2,
                "cfg_epochs": DEFAULTS.epochs, "cfg_batch_size": DEFAULTS.batch_size, "cfg_seed": DEFAULTS.seed,
                "cfg_train_size": DEFAULTS.train_size, "cfg_dtype": DEFAULTS.dtype,
                "cfg_reduction": DEFAULTS.reduction, "cfg_name": ""}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def settings_form() -> None:
    """Draw the settings and the Train button; queue the run (or show why it is refused)."""
    _apply_pending()
    _init_defaults()
    sb = st.sidebar
    sb.header("Settings")
    if st.session_state.pop("config_loaded", False):
        sb.info("Settings loaded from a stored run.", icon=":material/input:")
    hidden = sb.text_input(
        "Hidden layers", key="cfg_hidden",
        help="Widths of the hidden layers, separated by commas: '128' is one layer of 128 units, "
             "'256, 128' two layers. Leave empty for none (softmax regression).")
    activation = sb.selectbox(
        "Activation", ACTIVATIONS, key="cfg_activation",
        help="The non-linearity of the hidden units. relu learns fastest; sigmoid saturates and learns slowly.")
    optimizers = list(OPTIMIZERS)
    optimizer = sb.selectbox(
        "Optimizer", optimizers, key="cfg_optimizer",
        help="How the gradient updates the weights: plain sgd, sgd with momentum, or the adaptive rmsprop and adam.")
    lr = sb.select_slider(
        "Learning rate", options=_with(LEARNING_RATES, st.session_state["cfg_lr"]), key="cfg_lr",
        format_func=lambda v: f"{v:g}",
        help="Step size of each update, on a log scale. Too high and the loss diverges; too low and it crawls. "
             "Good starts: 0.001 for adam, 0.1 for sgd.")
    l2 = sb.select_slider(
        "L2", options=_with(L2_VALUES, st.session_state["cfg_l2"]), key="cfg_l2", format_func=lambda v: f"{v:g}",
        help="Weight decay: a penalty on large weights that fights overfitting. 0 turns it off; try 1e-4.")
    epochs = sb.number_input(
        "Epochs", min_value=1, max_value=MAX_EPOCHS, step=1, key="cfg_epochs",
        help="Passes over the 60,000 training images.")
    batch_size = sb.number_input(
        "Batch size", min_value=1, max_value=MAX_BATCH_SIZE, step=16, key="cfg_batch_size",
        help="Images per weight update. Small batches give noisy but many updates; large ones fewer, smoother updates.")
    seed = sb.number_input(
        "Seed", min_value=0, max_value=MAX_SEED, step=1, key="cfg_seed",
        help="Fixes the initial weights and the order of the batches: the same settings and seed give the same run. "
             "Change it to see how much results vary by chance.")
    with sb.expander("More settings"):
        train_size = st.number_input(
            "Training images", min_value=0, max_value=MAX_BATCH_SIZE, step=1000,
            key="cfg_train_size", help="Train on the first N images only, for quick experiments (0 = all 60,000).")
        dtype = st.selectbox("Precision", DTYPES, key="cfg_dtype",
                             help="float32 is about twice as fast; float64 for checking numerics.")
        reduction = st.selectbox(
            "Gradient reduction", REDUCTIONS, key="cfg_reduction",
            help="mean: the batch gradient is averaged (standard). sum: it is added up, so the step grows with "
                 "the batch size (the course report's bug).")
        name = st.text_input("Run name", key="cfg_name", max_chars=200,
                             help="Optional; defaults to 'run <id>'. Rename it later in History.")
    if sb.button("Train", type="primary", key="train_button", icon=":material/play_arrow:",
                 help="Queue a run with these settings; it starts when the runs before it have finished."):
        try:
            config = RunConfig(hidden=hidden, activation=activation, optimizer=optimizer, lr=lr, l2=l2,
                               epochs=epochs, batch_size=batch_size, seed=seed, dtype=dtype, reduction=reduction,
                               train_size=train_size)
            run_id = common.manager().submit(config, name=name.strip() or None)
        except (ConfigError, StoreError) as exc:
            sb.error(f"Not queued: {common.message_text(exc)}", icon=":material/block:")
            return
        watched = st.session_state.setdefault("watched", [])
        watched.append(run_id)
        st.toast(f"Run {run_id} queued", icon=":material/schedule:")
