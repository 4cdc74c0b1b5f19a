"""Learning-rate schedules: the lr per epoch, applied by a callback and logged."""
import math

import pytest

from nn import MLP, FitOptions, fit
from nn.optim import SGD
from nn.schedules import Constant, Cosine, Exponential, LearningRateScheduler, StepDecay, make_schedule


def test_step_schedule_halves_the_lr_at_the_right_epoch(blobs):
    schedule = StepDecay(lr=0.08, factor=0.5, every=3)
    result = fit(MLP([20, 8, 10]), SGD(1.0), blobs, FitOptions(epochs=7, batch_size=100),
                 [LearningRateScheduler(schedule)])
    assert [h["lr"] for h in result.history] == [0.08, 0.08, 0.08, 0.04, 0.04, 0.04, 0.02]


def test_schedule_changes_training(blobs):
    def final(callbacks):
        return fit(MLP([20, 8, 10]), SGD(0.5), blobs, FitOptions(epochs=3, batch_size=100), callbacks).history[-1]

    assert final([]) != final([LearningRateScheduler(StepDecay(lr=0.5, factor=0.1, every=1))])


def test_resumed_run_continues_the_schedule(blobs):
    scheduler = LearningRateScheduler(Exponential(lr=0.1, gamma=0.5))
    result = fit(MLP([20, 8, 10]), SGD(9.0), blobs, FitOptions(epochs=5, batch_size=100, initial_epoch=3), [scheduler])
    assert [h["lr"] for h in result.history] == [0.1 * 0.5 ** 3, 0.1 * 0.5 ** 4]  # epochs 4 and 5


def test_the_scheduler_state_is_its_schedule(blobs):
    """A run continued for more epochs than planned goes on with the saved schedule, not one built anew."""
    planned = LearningRateScheduler(Cosine(lr=0.1, epochs=3, min_factor=0.1, warmup_epochs=1))
    continued = LearningRateScheduler(Cosine(lr=0.1, epochs=8, min_factor=0.1, warmup_epochs=1))
    continued.load_state_dict(planned.state_dict())
    assert continued.schedule == planned.schedule and planned.state_dict()["schedule"]["name"] == "cosine"
    result = fit(MLP([20, 8, 10]), SGD(9.0), blobs, FitOptions(epochs=6, batch_size=100, initial_epoch=4),
                 [continued])
    assert [h["lr"] for h in result.history] == pytest.approx([0.01, 0.01])  # at the floor, not climbing again
    with pytest.raises(ValueError, match="unknown schedule"):
        continued.load_state_dict({"schedule": {"name": "sawtooth", "lr": 0.1}})
    assert continued.schedule == planned.schedule  # nothing changed


def test_exponential_cosine_and_warmup():
    assert [Exponential(lr=1.0, gamma=0.5).lr_at(e) for e in (1, 2, 3)] == [1.0, 0.5, 0.25]
    cosine = Cosine(lr=1.0, epochs=4, min_factor=0.1)
    assert cosine.lr_at(1) == 1.0 and cosine.lr_at(5) == pytest.approx(0.1) and cosine.lr_at(9) == pytest.approx(0.1)
    assert cosine.lr_at(3) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 2)) / 2)
    warm = Constant(lr=0.3, warmup_epochs=2)
    assert [warm.lr_at(e) for e in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2, 0.3, 0.3])
    stepped = StepDecay(lr=1.0, factor=0.5, every=2, warmup_epochs=1)
    assert [stepped.lr_at(e) for e in (1, 2, 3, 4)] == [0.5, 1.0, 1.0, 0.5]  # decay counts from after warm-up


@pytest.mark.parametrize("name,params", [("step", dict(factor=0)), ("step", dict(factor=1.5)), ("step", dict(every=0)),
                                         ("exponential", dict(gamma=0)), ("cosine", dict(epochs=0)),
                                         ("cosine", dict(epochs=5, min_factor=2)), ("constant", dict(warmup_epochs=-1)),
                                         ("constant", dict(gamma=0.5)), ("linear", {})])
def test_bad_schedule_parameters_are_refused(name, params):
    with pytest.raises(ValueError):
        make_schedule(name, 0.1, **params)
    with pytest.raises(ValueError, match="lr"):
        make_schedule("constant", 0)


def test_make_schedule_by_name():
    assert make_schedule("Step", 0.1, factor=0.5, every=2) == StepDecay(lr=0.1, factor=0.5, every=2)
