"""Stored uint8 pixels become exactly the inputs MNIST had when it was scaled once at load, in every path."""
import numpy as np
import pytest

from nn import MLP, Dataset, FitOptions, evaluate, fit
from nn.optim import Adam
from nn.pixels import PIXEL_SCALE, as_inputs, is_pixels


def old_scaling(pixels: np.ndarray) -> np.ndarray:
    """How the loader scaled MNIST before it kept pixels: float32, then times float32(1/255), in place."""
    x = pixels.astype(np.float32)
    x *= np.float32(1 / 255)
    return x


def test_every_pixel_value_scales_as_before():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(as_inputs(pixels), old_scaling(pixels))
    assert as_inputs(pixels).dtype == np.float32 and as_inputs(pixels)[-1, -1] == 1.0
    # a float64 model sees the float32 values widened, as it did when MNIST was stored as float32
    np.testing.assert_array_equal(as_inputs(pixels, np.float64), old_scaling(pixels).astype(np.float64))
    out = np.empty((16, 16), np.float64)
    np.testing.assert_array_equal(as_inputs(pixels, np.float64, out=out), old_scaling(pixels).astype(np.float64))


def test_floats_are_inputs_already():
    x = np.linspace(0, 3, 12, dtype=np.float32).reshape(3, 4)
    assert as_inputs(x) is x and not is_pixels(x)  # no copy, and not scaled by 1/255
    np.testing.assert_array_equal(as_inputs(x, np.float64), x.astype(np.float64))
    assert is_pixels(np.zeros(3, np.uint8)) and np.float32(1 / 255) == PIXEL_SCALE


@pytest.fixture
def pixel_data():
    """A small learnable dataset as uint8 pixels, and the same as the float32 inputs they stand for."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 10, 700)
    pixels = np.clip(rng.normal(40, 30, (700, 36)) + 18 * y[:, None] * (np.arange(36) % 10 == y[:, None]), 0, 255)
    pixels = pixels.astype(np.uint8)
    as_pixels = Dataset(pixels[:500], y[:500], pixels[600:], y[600:], x_val=pixels[500:600], y_val=y[500:600])
    as_floats = Dataset(old_scaling(pixels[:500]), y[:500], old_scaling(pixels[600:]), y[600:],
                        x_val=old_scaling(pixels[500:600]), y_val=y[500:600])
    return as_pixels, as_floats


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_on_pixels_equals_training_on_their_floats(pixel_data, dtype):
    histories, params = [], []
    for data in pixel_data:
        model = MLP([36, 16, 10], seed=1, dtype=dtype)
        result = fit(model, Adam(1e-2), data, FitOptions(epochs=3, batch_size=32, seed=2))
        histories.append([{k: v for k, v in logs.items() if k not in ("seconds", "elapsed")}
                          for logs in result.history])
        params.append(model.flat_params)
    assert histories[0] == histories[1] and histories[0][-1]["val_acc"] > 0.3  # it learned something
    np.testing.assert_array_equal(params[0], params[1])


def test_every_entry_point_scales_pixels(pixel_data):
    pixels, floats = pixel_data
    model = MLP([36, 16, 10], seed=1)
    np.testing.assert_array_equal(model.forward(pixels.x_test), model.forward(floats.x_test))
    np.testing.assert_array_equal(model.predict(pixels.x_test, chunk=7), model.predict(floats.x_test))
    assert evaluate(model, pixels.x_test, pixels.y_test) == evaluate(model, floats.x_test, floats.y_test)
    assert model.backprop(pixels.x_train[:9], pixels.y_train[:9]) == model.backprop(floats.x_train[:9],
                                                                                        floats.y_train[:9])
    loss_pixels, _ = model.loss_and_grads(pixels.x_train[:9], pixels.y_train[:9])
    assert loss_pixels == model.loss_and_grads(floats.x_train[:9], floats.y_train[:9])[0]
