"""Each optimizer against updates computed by hand."""
import numpy as np
import pytest

from nn.optim import SGD, Adam, Momentum, RMSprop, get_optimizer

G1, G2 = np.array([0.5, -2.0]), np.array([1.0, 0.25])


def two_steps(opt):
    p = np.array([1.0, 1.0])
    opt.step([p], [G1.copy()])
    after_one = p.copy()
    opt.step([p], [G2.copy()])
    return after_one, p


def test_sgd():
    one, two = two_steps(SGD(0.1))
    np.testing.assert_allclose(one, 1 - 0.1 * G1)
    np.testing.assert_allclose(two, 1 - 0.1 * G1 - 0.1 * G2)


def test_momentum():
    one, two = two_steps(Momentum(0.1))
    v1 = G1
    v2 = 0.9 * v1 + G2
    np.testing.assert_allclose(one, 1 - 0.1 * v1)
    np.testing.assert_allclose(two, 1 - 0.1 * v1 - 0.1 * v2)


def test_rmsprop():
    one, two = two_steps(RMSprop(0.01))
    s1 = 0.1 * G1 ** 2
    s2 = 0.9 * s1 + 0.1 * G2 ** 2
    p1 = 1 - 0.01 * G1 / (np.sqrt(s1) + 1e-8)
    np.testing.assert_allclose(one, p1)
    np.testing.assert_allclose(two, p1 - 0.01 * G2 / (np.sqrt(s2) + 1e-8))


def test_adam_with_bias_correction():
    one, two = two_steps(Adam(0.001))
    m, v, p = np.zeros(2), np.zeros(2), np.ones(2)
    expected = []
    for t, g in enumerate([G1, G2], start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g ** 2
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        p = p - 0.001 * m_hat / (np.sqrt(v_hat) + 1e-8)
        expected.append(p.copy())
    np.testing.assert_allclose(one, expected[0], rtol=1e-12)
    np.testing.assert_allclose(two, expected[1], rtol=1e-12)
    # the first Adam step moves every coordinate by about lr, whatever the gradient's scale
    np.testing.assert_allclose(np.abs(one - 1), 0.001, rtol=1e-4)


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_flat_buffer_and_per_layer_updates_agree(name):
    rng = np.random.default_rng(0)
    flat = rng.normal(size=10)
    grads = [rng.normal(size=10) for _ in range(3)]
    per_layer = [flat[:4].copy(), flat[4:].copy()]
    opt_flat, opt_layers = get_optimizer(name, 0.01), get_optimizer(name, 0.01)
    for g in grads:
        opt_flat.step([flat], [g])
        opt_layers.step(per_layer, [g[:4], g[4:]])
    np.testing.assert_allclose(np.concatenate(per_layer), flat, rtol=1e-12)


def test_lookup_by_name_and_refusals():
    assert isinstance(get_optimizer("ADAM", 0.1), Adam)
    assert get_optimizer("momentum", 0.1, momentum=0.5).momentum == 0.5
    with pytest.raises(ValueError, match="unknown optimizer"):
        get_optimizer("lbfgs", 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        SGD(0.0)


OPTIMIZER_KINDS = [SGD(0.1), Momentum(0.1, momentum=0.8), RMSprop(0.01, rho=0.7), Adam(0.01, beta1=0.8, beta2=0.99)]


@pytest.mark.parametrize("opt", OPTIMIZER_KINDS, ids=lambda o: o.name)
def test_state_dict_round_trip_continues_exactly(opt):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(5) for _ in range(6)]
    p = np.ones(5)
    for g in grads[:3]:
        opt.step([p], [g])
    saved, p_saved = opt.state_dict(), p.copy()
    for g in grads[3:]:
        opt.step([p], [g])
    fresh = type(opt)(1.0)  # other hyperparameters: load_state_dict restores the saved ones
    fresh.load_state_dict(saved, [p_saved])
    assert fresh.hyperparameters() == opt.hyperparameters() and fresh.steps == 3
    for g in grads[3:]:
        fresh.step([p_saved], [g])
    np.testing.assert_array_equal(p_saved, p)


def test_state_dict_is_a_copy():
    opt, p = Adam(0.1), np.ones(3)
    opt.step([p], [np.ones(3)])
    saved = opt.state_dict()
    opt.step([p], [np.ones(3)])
    assert saved["steps"] == 1
    np.testing.assert_array_equal(saved["state"][0]["m"], np.ones(3))


def test_load_state_dict_refuses_mismatches():
    adam, p = Adam(0.1), np.ones(3)
    adam.step([p], [np.ones(3)])
    saved = adam.state_dict()
    with pytest.raises(ValueError, match="for 'adam', not 'momentum'"):
        Momentum(0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="another architecture"):
        Adam(0.1).load_state_dict(saved, [np.ones(4)])
    with pytest.raises(ValueError, match="parameter arrays"):
        Adam(0.1).load_state_dict(saved, [np.ones(3), np.ones(2)])
    broken = {**saved, "state": {0: {"m": np.ones(3)}}}
    with pytest.raises(ValueError, match="expected"):
        Adam(0.1).load_state_dict(broken)
    target = Adam(0.5)
    with pytest.raises(ValueError):
        target.load_state_dict({**saved, "hyperparameters": {**saved["hyperparameters"], "beta2": 1.5}})
    assert target.lr == 0.5 and target.steps == 0  # nothing changed by a refused load


@pytest.mark.parametrize("cls", [Momentum, RMSprop, Adam])
def test_step_refuses_parameters_of_another_shape(cls):
    opt = cls(0.1)
    opt.step([np.ones(3)], [np.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.ones(4)], [np.ones(4)])
    with pytest.raises(ValueError, match="parameter arrays"):
        opt.step([np.ones(3), np.ones(2)], [np.ones(3), np.ones(2)])


@pytest.mark.parametrize("build", [lambda: Momentum(0.1, momentum=1.0), lambda: Momentum(0.1, momentum=-0.1),
                                   lambda: RMSprop(0.1, rho=1.0), lambda: RMSprop(0.1, eps=0),
                                   lambda: Adam(0.1, beta1=1.0), lambda: Adam(0.1, beta2=-0.5),
                                   lambda: Adam(0.1, beta2=float("nan"))])
def test_optimizer_constants_are_validated(build):
    with pytest.raises(ValueError, match="must be"):
        build()


def test_optimizer_constants_change_the_update():
    _, two_a = two_steps(Momentum(0.1, momentum=0.5))
    _, two_b = two_steps(Momentum(0.1, momentum=0.9))
    assert not np.allclose(two_a, two_b)
    np.testing.assert_allclose(two_a, 1 - 0.1 * G1 - 0.1 * (0.5 * G1 + G2))
