"""A digit drawn by hand, turned into the 28 x 28 image a network trained on MNIST expects, and read.

MNIST was made this way (LeCun et al.): each scanned digit was scaled, keeping its aspect ratio and with
anti-aliasing, so that its longer side fills a 20 x 20 box; then it was placed in a 28 x 28 field so that
its centre of mass sits at the field's centre. (On the test split the centre of mass is at pixel
(14, 14) to within the +-0.5 px of a whole-pixel shift, and 90% of the images reach full intensity.)
``preprocess`` repeats those steps on a canvas of any size, and scales the result to [0, 1] with the ink
at 1, as ``nn.data`` scales the training images. Pure NumPy: no Streamlit, no image library.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.i18n import _
from nn import MLP

SIZE = 28            # side of an MNIST image
BOX = 20             # side of the box the digit's longer side is scaled to
CENTRE = 14.0        # where MNIST's centre of mass sits (pixel index, rows and columns)
INK_THRESHOLD = 0.1  # ink darker than this (on a 0..1 scale) is background noise, not part of the digit


class DigitError(ValueError):
    """The image holds no digit to read; the message is meant for the user as it is."""


@dataclass(frozen=True)
class HiddenUnit:
    """One unit of the first hidden layer: how strongly it responds and the 28 x 28 weights it looks through."""

    index: int
    activation: float
    weights: np.ndarray  # (28, 28) incoming weights


@dataclass(frozen=True)
class DigitReading:
    """What a network makes of a drawn digit."""

    image: np.ndarray           # (28, 28) the input the network sees, ink 1, background 0
    probabilities: np.ndarray   # (10,) softmax output, sums to 1
    units: list[HiddenUnit]     # first-hidden-layer units that respond most, strongest first

    @property
    def prediction(self) -> int:
        return int(np.argmax(self.probabilities))


# ---------------------------------------------------------------------- preprocessing
def _unit_range(a: np.ndarray) -> np.ndarray:
    """Values as floats in [0, 1]: 8-bit images (or any with values above 1) are divided by 255."""
    values = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(values / 255.0 if a.dtype == np.uint8 or values.max() > 1.0 else values, 0.0, 1.0)


def to_ink(image: np.ndarray) -> np.ndarray:
    """A 2-D float image in [0, 1] where ink is bright, from grayscale, RGB or RGBA of any polarity.

    An RGBA image with transparent pixels (a transparent canvas) is read from its alpha channel. Otherwise
    the luminance is used, inverted when the background (the image's median) is bright: dark ink on white
    paper becomes bright ink on black, as in MNIST.
    """
    a = np.asarray(image)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))):
        raise DigitError(_("expected a grayscale, RGB or RGBA image, got an array of shape {shape}").format(
            shape=a.shape))
    if a.size == 0:
        raise DigitError(_("the image is empty: draw a digit first"))
    a = _unit_range(a)
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].min() == 0 and a[..., 3].max() > 0:
        return a[..., 3]  # a transparent canvas: the ink is wherever something was drawn
    if a.ndim == 2:
        gray = a
    elif a.shape[2] == 1:
        gray = a[..., 0]
    else:
        gray = a[..., :3] @ np.array([0.299, 0.587, 0.114])
    return 1.0 - gray if np.median(gray) > 0.5 else gray


def crop_to_ink(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """The smallest rectangle holding every pixel brighter than ``threshold``; DigitError if there is none."""
    mask = ink > threshold
    if not mask.any():
        raise DigitError(_("the canvas is empty: draw a digit first"))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of a triangle (linear) filter, widened when shrinking so it anti-aliases.

    The same filter as Pillow's antialiased bilinear resize: each output pixel averages the input pixels
    under it, weighted by distance, so thin strokes fade to grey instead of vanishing between samples.
    """
    scale = n_out / n_in
    support = max(1.0, 1.0 / scale)
    centres = (np.arange(n_out) + 0.5) / scale - 0.5            # output pixel centres in input coordinates
    distance = np.abs(np.arange(n_in)[None, :] - centres[:, None]) / support
    weights = np.clip(1.0 - distance, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` resampled to ``height`` x ``width`` with anti-aliasing (separable triangle filter)."""
    image = np.asarray(image, dtype=np.float64)
    return _resample_matrix(image.shape[0], height) @ image @ _resample_matrix(image.shape[1], width).T


def fit_box(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale so that the longer side is ``box`` pixels, keeping the aspect ratio (a '1' stays thin)."""
    h, w = ink.shape
    longer = max(h, w)
    return resize(ink, max(1, round(h * box / longer)), max(1, round(w * box / longer)))


def centre_by_mass(digit: np.ndarray, size: int = SIZE, centre: float = CENTRE) -> np.ndarray:
    """Place ``digit`` in a ``size`` x ``size`` field, shifted by whole pixels so its centre of mass is at
    ``centre``; the shift is limited so that no ink falls off the field."""
    h, w = digit.shape
    total = digit.sum()
    rows, cols = np.arange(h), np.arange(w)
    com_y = float(digit.sum(axis=1) @ rows / total)
    com_x = float(digit.sum(axis=0) @ cols / total)
    top = int(np.clip(round(centre - com_y), 0, size - h))
    left = int(np.clip(round(centre - com_x), 0, size - w))
    field = np.zeros((size, size))
    field[top:top + h, left:left + w] = digit
    return field


def preprocess(image: np.ndarray) -> np.ndarray:
    """The (28, 28) float32 image, ink 1 and background 0, that MNIST would have made of ``image``.

    Raises DigitError with a one-line message when there is no ink (an empty canvas).
    """
    ink = crop_to_ink(to_ink(image))
    digit = np.clip(fit_box(ink), 0.0, None)
    digit /= digit.max()  # full intensity, as MNIST's strokes (the crop guarantees max > threshold)
    return centre_by_mass(digit).astype(np.float32)


# ---------------------------------------------------------------------- reading it
def _input_row(model: MLP, digit: np.ndarray) -> np.ndarray:
    row = np.asarray(digit, dtype=model.dtype).reshape(1, -1)
    if row.shape[1] != model.sizes[0]:
        raise DigitError(_("this network reads {inputs} inputs, not a {size} x {size} image").format(
            inputs=model.sizes[0], size=SIZE))
    return row


def classify(model: MLP, digit: np.ndarray) -> np.ndarray:
    """The ten class probabilities (softmax of the logits, float64) for one preprocessed 28 x 28 image."""
    logits = model.forward(_input_row(model, digit))[0].astype(np.float64)
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def top_hidden_units(model: MLP, digit: np.ndarray, count: int = 8) -> list[HiddenUnit]:
    """The ``count`` units of the first hidden layer with the largest activation for ``digit``, strongest
    first, each with its incoming weights as a 28 x 28 image. Empty for a network without hidden layers."""
    if len(model.sizes) < 3 or count <= 0:
        return []
    activation = model.layer_outputs(_input_row(model, digit))[1][0].copy()
    order = np.argsort(-activation, kind="stable")[:count]
    first = model.weights[0]
    return [HiddenUnit(int(i), float(activation[i]), np.array(first[:, i]).reshape(SIZE, SIZE)) for i in order]


def read(model: MLP, digit: np.ndarray, units: int = 8) -> DigitReading:
    """What ``model`` makes of an already preprocessed 28 x 28 digit (one preprocessing, many networks)."""
    return DigitReading(np.asarray(digit), classify(model, digit), top_hidden_units(model, digit, units))


def read_digit(model: MLP, image: np.ndarray, units: int = 8) -> DigitReading:
    """Preprocess a drawn image and classify it; DigitError (one line) if there is nothing to read."""
    return read(model, preprocess(image), units)
