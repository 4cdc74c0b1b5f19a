"""Draw a digit: the MNIST preprocessing (crop, scale into 20 x 20, centre by mass) and the network's reading.

Synthetic strokes check each step exactly; real MNIST test images, blown up to canvas size and processed
again, must be read as the original by a trained network.
"""
from __future__ import annotations

import numpy as np
import pytest

from experiments.analysis.digit import (
    BOX,
    CENTRE,
    SIZE,
    DigitError,
    centre_by_mass,
    classify,
    crop_to_ink,
    fit_box,
    preprocess,
    read_digit,
    resize,
    to_ink,
    top_hidden_units,
)
from nn import MLP, FitOptions, fit
from nn.optim import Adam
from nn.pixels import as_inputs


def canvas(height: int = 280, width: int = 280) -> np.ndarray:
    return np.zeros((height, width))


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    return (float(image.sum(axis=1) @ np.arange(image.shape[0]) / total),
            float(image.sum(axis=0) @ np.arange(image.shape[1]) / total))


def bounding_box(image: np.ndarray, threshold: float = 0.0) -> tuple[int, int]:
    rows, cols = np.flatnonzero((image > threshold).any(axis=1)), np.flatnonzero((image > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# ---------------------------------------------------------------------- each step on synthetic strokes
def test_crop_keeps_exactly_the_ink():
    image = canvas()
    image[40:120, 200:230] = 1.0
    image[5, 5] = 0.05  # below the ink threshold: noise, not part of the digit
    assert crop_to_ink(image).shape == (80, 30)


def test_a_tall_stroke_fills_20_pixels_and_keeps_its_aspect_ratio():
    image = canvas()
    image[20:220, 130:150] = 1.0  # a '1': 200 tall, 20 wide
    digit = fit_box(crop_to_ink(image))
    assert digit.shape == (BOX, 2)
    wide = canvas()
    wide[100:140, 20:260] = 1.0   # a dash: 240 wide, 40 tall
    assert fit_box(crop_to_ink(wide)).shape == (round(40 * BOX / 240), BOX)


def test_downscaling_is_anti_aliased_and_preserves_mean_intensity():
    stripes = np.zeros((200, 200))
    stripes[:, ::10] = 1.0  # 1-px lines every 10 px: point sampling would keep all or none of them
    small = resize(stripes, 20, 20)
    assert np.allclose(small.mean(), stripes.mean(), atol=0.01)
    assert small.max() < 0.5  # the lines are blended into grey, not sampled at full intensity


def test_upscaling_keeps_a_constant_image_constant():
    assert np.allclose(resize(np.full((3, 5), 0.7), 20, 12), 0.7)


def test_centre_of_mass_lands_on_the_mnist_centre():
    digit = np.zeros((20, 12))
    digit[:12, :] = 1.0  # more ink at the top: the box moves down past the geometric centre
    field = centre_by_mass(digit)
    cy, cx = centre_of_mass(field)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5
    assert np.flatnonzero(field.any(axis=1))[0] == 8  # box top at 8, not at (28 - 20) / 2 = 4


def test_centring_never_pushes_ink_off_the_field():
    digit = np.zeros((20, 20))
    digit[:2, :] = 1.0  # all the ink at the top: a full shift would move the box 12 px down, past the edge
    field = centre_by_mass(digit)
    assert field.sum() == pytest.approx(digit.sum())


def test_preprocess_an_off_centre_stroke_on_a_white_canvas():
    image = np.full((300, 400, 3), 255, dtype=np.uint8)   # dark ink on white paper, RGB
    image[30:130, 10:60] = 0                              # a small blob in the top-left corner
    digit = preprocess(image)
    assert digit.shape == (SIZE, SIZE) and digit.dtype == np.float32
    assert digit.max() == pytest.approx(1.0) and digit.min() >= 0.0
    assert max(bounding_box(digit, 0.0)) == BOX
    cy, cx = centre_of_mass(digit)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_transparent_rgba_canvas_is_read_from_its_alpha():
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[50:250, 100:180] = (0, 0, 0, 255)   # black ink on a transparent background
    assert np.array_equal(to_ink(rgba) > 0.5, rgba[..., 3] > 0)
    opaque = np.zeros((280, 280, 4), dtype=np.uint8)
    opaque[..., 3] = 255                      # black background, white ink (the panel's canvas)
    opaque[50:250, 100:180, :3] = 255
    assert np.allclose(preprocess(rgba), preprocess(opaque))


@pytest.mark.parametrize("image", [np.zeros((280, 280, 4), dtype=np.uint8), np.full((280, 280), 255, np.uint8),
                                   np.zeros((0, 0)), np.zeros((5, 5, 7)), np.full((9, 9), np.nan)])
def test_nothing_to_read_is_a_one_line_error(image):
    with pytest.raises(DigitError) as info:
        preprocess(image)
    assert "\n" not in str(info.value) and str(info.value)


# ---------------------------------------------------------------------- reading a digit
def test_classify_gives_ten_probabilities_and_units_come_with_their_weights(blobs):
    model = MLP([784, 16, 10], seed=3)
    digit = preprocess(np.pad(np.ones((100, 40)), 90))
    probabilities = classify(model, digit)
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0) and (probabilities >= 0).all()
    units = top_hidden_units(model, digit, 5)
    activation = model.layer_outputs(digit.reshape(1, -1))[1][0].copy()
    assert [u.index for u in units] == list(np.argsort(-activation, kind="stable")[:5])
    assert np.array_equal(units[0].weights, model.weights[0][:, units[0].index].reshape(28, 28))
    assert read_digit(MLP([784, 10]), digit).units == []  # no hidden layer: nothing to show


def test_a_network_of_another_input_size_is_refused():
    with pytest.raises(DigitError, match="reads 20 inputs"):
        classify(MLP([20, 10]), np.zeros((28, 28)))


# ---------------------------------------------------------------------- real MNIST
@pytest.fixture(scope="module")
def trained(mnist):
    model = MLP([784, 64, 10], seed=0)
    fit(model, Adam(1e-3), mnist.subset(20000, 0), FitOptions(epochs=2, batch_size=64))
    return model


def upscale_like_a_canvas(image28: np.ndarray) -> np.ndarray:
    """A 280 x 280 RGBA canvas with the digit drawn in white on black, as the Inspect page's canvas returns it."""
    big = np.clip(resize(image28, 280, 280), 0, 1)
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., :3] = (big * 255).round().astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


@pytest.mark.mnist
def test_reprocessed_mnist_test_images_are_read_as_the_originals(mnist, trained):
    rng = np.random.default_rng(0)
    sample = rng.choice(len(mnist.y_test), 200, replace=False)
    originals = as_inputs(mnist.x_test[sample])
    reprocessed = np.array([preprocess(upscale_like_a_canvas(x.reshape(28, 28))).reshape(-1) for x in originals])
    agreement = float(np.mean(trained.predict(reprocessed) == trained.predict(originals)))
    print(f"re-processed MNIST test images read as the originals: {agreement:.1%} of {len(sample)}")
    assert agreement >= 0.95
    # and the pixels themselves are close: MNIST's own images are (almost) fixed points of the preprocessing
    assert float(np.mean(np.abs(reprocessed - originals))) < 0.05
