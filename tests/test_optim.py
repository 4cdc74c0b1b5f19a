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
