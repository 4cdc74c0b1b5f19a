"""The class's budgets per run: the largest network and the most training steps a student's run may ask for.

The teacher sets them on the Teacher page (``ClassSettings.max_parameters``, ``.max_steps``, stored with the
runs: ``experiments/store/classroom.py``); the run manager checks a student's run against them before
anything is stored (``RunManager.submit``, ``continue_run``), and refuses one over either in one line naming
the setting and the cap. The teacher's runs and a laptop's (``Role.TEACHER``, ``Role.LOCAL``) are not capped.

Both sizes come from the RunConfig alone, before any data is loaded: parameters are every weight and bias of
the network; steps are epochs x batches per epoch, the batches over the images the run trains on (its
``train_size``, else MNIST's 60,000 less the validation images).
"""
from __future__ import annotations

import math

from experiments.access import Identity, Role
from experiments.config import RunConfig
from experiments.i18n import _, whole
from experiments.settings.limits import MAX_TRAIN_SIZE
from experiments.store import RunStore, StoreError
from experiments.store.classroom import ClassSettings, class_settings


class BudgetError(StoreError):
    """A student's run over the class's budget: nothing was queued."""


def parameters(config: RunConfig) -> int:
    """The network's weights and biases (784 inputs, 10 classes)."""
    sizes = config.sizes()
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def train_images(config: RunConfig) -> int:
    """The images one epoch trains on: ``train_size`` when set (and smaller), else MNIST's less validation."""
    available = MAX_TRAIN_SIZE - config.val_size
    return min(config.train_size, available) if config.train_size else available


def steps(config: RunConfig) -> int:
    """Training steps (optimizer updates): epochs x batches per epoch."""
    return config.epochs * math.ceil(train_images(config) / config.batch_size)


def over_budget(config: RunConfig, settings: ClassSettings) -> str:
    """The one-line refusal of a run over the budget, "" when it is within it."""
    if settings.max_parameters is not None and parameters(config) > settings.max_parameters:
        return _("this network has {parameters} weights and biases, over the class's max_parameters of {cap}: "
                 "choose fewer or narrower hidden layers").format(parameters=whole(parameters(config)),
                                                                  cap=whole(settings.max_parameters))
    if settings.max_steps is not None and steps(config) > settings.max_steps:
        batches = math.ceil(train_images(config) / config.batch_size)
        return _("this run takes {steps} training steps ({epochs} epochs x {batches} batches), over the class's "
                 "max_steps of {cap}: choose fewer epochs, a larger batch size or fewer training images").format(
            steps=whole(steps(config)), epochs=config.epochs, batches=whole(batches), cap=whole(settings.max_steps))
    return ""


def check_budget(store: RunStore, config: RunConfig, identity: Identity) -> None:
    """Refuse (BudgetError, one line) a student's run over the class's budget; the teacher and a laptop's
    user are not capped."""
    if identity.role is not Role.STUDENT:
        return
    refusal = over_budget(config, class_settings(store))
    if refusal:
        raise BudgetError(refusal)
