"""MNIST in the IDX format: find it, download it if need be, validate it, load it once.

Where the files are looked for, in order:
1. the directory named by ``MNIST_DIR`` (or the ``directory`` argument): used as is, never downloaded into;
2. a per-user cache (``$XDG_CACHE_HOME/mnist-mlp``, else ``~/.cache/mnist-mlp``);
3. the public mirrors, into that cache, each ``.gz`` checked against its official md5.

Any directory holding the four files in the MNIST IDX layout (28x28 images, 10 classes) works the same
way, so Fashion-MNIST drops in. Every problem is raised as ``DataError`` with a one-line message that names
the file and says what to do.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import stat
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .translation import _  # a DataError is worded when read, in the language experiments.i18n installs

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
OFFICIAL_MD5 = {  # of the .gz files as distributed
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
NUM_CLASSES = 10
ProgressCallback = Callable[[str, int, int], None]  # (file name, bytes done, bytes total or 0)


# The messages below are written in English and marked with ``N_()`` for the lab's catalog (babel.cfg reads this
# file); a DataError words its message when it is read, through the translator the lab installs in nn.translation.


class DataError(Exception):
    """A dataset problem, with a message meant to be shown to the user as it is.

    Raised with an English text marked ``N_()`` and its ``{placeholders}``' values, it is worded when it is read
    (``str``), through the translator, in the reader's language: the dashboard loads the data in a thread with no
    language of its own, once for every session, and each session shows the failure in its own language. A
    message given without values reads as written (after the translator, which knows no such text).
    """

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.template, self.values = message, values

    def __str__(self) -> str:
        return _(self.template).format(**self.values) if self.values else _(self.template)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; it is worded when the error is read (``DataError.__str__``)."""
    return message


@dataclass(frozen=True)
class Dataset:
    """Train, validation and test splits: images as rows, labels as integers 0..9.

    ``load_mnist`` keeps images as uint8 pixels (0..255), which the network scales to [0, 1] as it reads them
    (``nn.pixels``); float rows (synthetic data) are used as they are.

    The validation split may be empty (no validation): ``has_validation`` says which.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""
    x_val: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))
    y_val: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def __post_init__(self) -> None:
        if len(self.x_val) != len(self.y_val):
            raise ValueError(f"x_val has {len(self.x_val)} rows but y_val {len(self.y_val)} labels")
        if not len(self.x_val):  # an empty split still has the right row width, so it stacks and slices
            object.__setattr__(self, "x_val", np.empty((0, *self.x_train.shape[1:]), dtype=self.x_train.dtype))

    @property
    def num_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def has_validation(self) -> bool:
        return len(self.y_val) > 0

    def subset(self, train: int, test: int) -> Dataset:
        """The first ``train`` and ``test`` examples (the validation split is kept): for quick demos and tests."""
        return replace(self, x_train=self.x_train[:train], y_train=self.y_train[:train],
                       x_test=self.x_test[:test], y_test=self.y_test[:test])


def cache_dir() -> Path:
    """The per-user directory where downloaded MNIST files are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mnist-mlp"


def find_file(directory: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``directory``, gzipped or not, or None."""
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def resolve_directory(directory: str | os.PathLike | None = None,
                      progress: ProgressCallback | None = None) -> Path:
    """Where the dataset is: the given or ``MNIST_DIR`` directory, else the cache, else a fresh download."""
    explicit = directory or os.environ.get("MNIST_DIR")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_dir():
            raise DataError(N_("MNIST directory {path} does not exist: set MNIST_DIR to the folder holding the four "
                               "MNIST files (e.g. train-images-idx3-ubyte.gz)"), path=path)
        missing = [stem for stem in FILES.values() if find_file(path, stem) is None]
        if missing:
            raise DataError(N_("{path} lacks {file}[.gz]: copy the four MNIST IDX files there, or unset MNIST_DIR "
                               "to download them"), path=path, file=missing[0])
        return path
    cached = cache_dir()
    if all(find_file(cached, stem) for stem in FILES.values()):
        return cached
    download(cached, progress)
    return cached


def download(target: Path, progress: ProgressCallback | None = None) -> None:
    """Fetch the four .gz files from the first mirror that answers, verifying each official md5."""
    target.mkdir(parents=True, exist_ok=True)
    for stem, md5 in OFFICIAL_MD5.items():
        if find_file(target, stem):
            continue
        errors = []
        for mirror in MIRRORS:
            try:
                data = _fetch(mirror + stem + ".gz", stem, progress)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                errors.append(f"{mirror}: {exc}")
                continue
            if hashlib.md5(data).hexdigest() != md5:
                errors.append(f"{mirror}: checksum mismatch")
                continue
            tmp = target / (stem + ".gz.part")
            tmp.write_bytes(data)
            tmp.replace(target / (stem + ".gz"))
            break
        else:
            raise DataError(N_("could not download {file}.gz (offline?): copy the four MNIST files into a folder "
                               "and set MNIST_DIR to it ({reasons})"), file=stem, reasons=_whole_reasons(errors))


def _whole_reasons(errors: list[str], limit: int = 300) -> str:
    """The mirrors' errors, whole ones only (a reason cut mid-word, "Name or service not", reads as garbage),
    as many as fit in ``limit`` characters, then how many more there were."""
    shown: list[str] = []
    for error in errors:
        if shown and len("; ".join([*shown, error])) > limit:
            break
        shown.append(error)
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def _fetch(url: str, stem: str, progress: ProgressCallback | None) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, done = [], 0
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(stem, done, total)
    return b"".join(chunks)


def _require(directory: Path, stem: str) -> Path:
    """The IDX file ``stem`` in ``directory``; DataError if it vanished since the directory was resolved."""
    path = find_file(directory, stem)
    if path is None:
        raise DataError(N_("{path} lacks {file}[.gz]: copy the four MNIST IDX files there"), path=directory, file=stem)
    return path


MAX_IDX_BYTES = 1 << 30  # MNIST's largest file is 47 MB unpacked; a file (or its unpacking) past 1 GB is not one


def _read_bounded(path: Path) -> bytes:
    """The file's bytes (unpacked if gzipped), refusing a file that is not a regular one (``MNIST_DIR`` may hold
    a symlink to /dev/zero, a FIFO...) or that is, or unpacks to, more than ``MAX_IDX_BYTES``: never read whole."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise DataError(N_("{file} is not a regular file (a device, a pipe or a folder): replace it with the MNIST "
                           "file"), file=path.name)
    if info.st_size > MAX_IDX_BYTES:
        raise DataError(N_("{file} is {size} bytes, far more than an MNIST file: replace it"), file=path.name,
                        size=f"{info.st_size:,}")
    with open(path, "rb") as f:
        stream = gzip.GzipFile(fileobj=f) if path.suffix == ".gz" else f
        raw = stream.read(MAX_IDX_BYTES + 1)
    if len(raw) > MAX_IDX_BYTES:
        raise DataError(N_("{file} unpacks to more than {size} bytes, far more than an MNIST file: replace it"),
                        file=path.name, size=f"{MAX_IDX_BYTES:,}")
    return raw


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a uint8 array, validating magic number and size."""
    try:
        raw = _read_bounded(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(N_("{file} is not a readable (gzip) file ({reason}): replace it with a fresh copy"),
                        file=path.name, reason=exc) from None
    if len(raw) < 8:
        raise DataError(N_("{file} is truncated ({n} bytes): replace it with a fresh copy"), file=path.name, n=len(raw))
    magic, count = struct.unpack(">II", raw[:8])
    if magic != expected_magic:
        kind = "image" if expected_magic == IMAGE_MAGIC else "label"
        raise DataError(N_("{file} is not an IDX {kind} file (magic number {magic}, expected {expected}): check "
                           "that the file names match their contents"), file=path.name, kind=kind, magic=magic,
                        expected=expected_magic)
    dims = [count]
    if magic == IMAGE_MAGIC:
        if len(raw) < 16:
            raise DataError(N_("{file} is truncated (no image header): replace it with a fresh copy"), file=path.name)
        dims += struct.unpack(">II", raw[8:16])
    header = 4 + 4 * len(dims)
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(N_("{file} holds {n} bytes but its header promises {expected} (truncated or corrupted): "
                           "replace it with a fresh copy"), file=path.name, n=len(raw), expected=expected)
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_split(directory: Path, images_stem: str, labels_stem: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(_require(directory, images_stem), IMAGE_MAGIC)
    labels = read_idx(_require(directory, labels_stem), LABEL_MAGIC)
    if images.shape[1:] != (28, 28):
        raise DataError(N_("{file} holds {height}x{width} images, expected 28x28"), file=images_stem,
                        height=images.shape[1], width=images.shape[2])
    if len(images) != len(labels):
        raise DataError(N_("{images_file} has {images} images but {labels_file} has {labels} labels: the files do "
                           "not belong together"), images_file=images_stem, images=len(images),
                        labels_file=labels_stem, labels=len(labels))
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataError(N_("{file} holds label {label}, expected 0..9"), file=labels_stem, label=labels.max())
    x = images.reshape(len(images), -1)  # uint8 pixels, scaled where used (nn.pixels): a quarter of float32
    x.flags.writeable = False
    y = labels.astype(np.int64)
    y.flags.writeable = False
    return x, y


# ---------------------------------------------------------------------- validation split
# The split's own seed, fixed and independent of every run's seed: all runs with the same validation size
# hold out the same images, so their validation numbers compare like with like.
SPLIT_SEED = 13
DEFAULT_VALIDATION = 10_000  # the classic 50,000 / 10,000 split of MNIST's training images


def validation_indices(y: np.ndarray, size: int, seed: int = SPLIT_SEED) -> np.ndarray:
    """Sorted indices of ``size`` examples to hold out, stratified by class: each class gives its share of
    ``size`` (largest remainders settle the rounding), drawn by a generator seeded by ``seed`` alone."""
    if not 0 <= size < len(y):
        raise ValueError(f"validation size must be in 0..{len(y) - 1} (fewer than the {len(y)} training "
                         f"examples), got {size}")
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * size / len(y)
    share = np.floor(exact).astype(np.int64)
    share[np.argsort(-(exact - share), kind="stable")[:size - int(share.sum())]] += 1
    rng = np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, share)]
    return np.sort(np.concatenate(picked)) if picked else np.empty(0, dtype=np.int64)


def split_validation(data: Dataset, size: int, seed: int = SPLIT_SEED) -> Dataset:
    """``data`` with ``size`` of its training examples moved to the validation split (see
    ``validation_indices``); ``size=0`` returns it unchanged. The new arrays are read-only copies."""
    if data.has_validation:
        raise ValueError("this dataset already has a validation split")
    if size == 0:
        return data
    held_out = validation_indices(data.y_train, size, seed)
    keep = np.ones(len(data.y_train), dtype=bool)
    keep[held_out] = False
    parts = [_read_only(a) for a in (data.x_train[keep], data.y_train[keep],
                                     data.x_train[held_out], data.y_train[held_out])]
    return replace(data, x_train=parts[0], y_train=parts[1], x_val=parts[2], y_val=parts[3])


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


_cache: dict[tuple[Path, int], Dataset] = {}
_cache_lock = threading.Lock()


def load_mnist(directory: str | os.PathLike | None = None, progress: ProgressCallback | None = None,
               validation: int = 0) -> Dataset:
    """Load (once per process, directory and validation size) the splits; arrays are shared read-only.

    ``validation`` training images are held out as the validation split (``split_validation``; 0 = none),
    the same ones in every run and every process.
    """
    path = resolve_directory(directory, progress).resolve()
    with _cache_lock:
        if (path, 0) not in _cache:
            x_train, y_train = _load_split(path, FILES["train_images"], FILES["train_labels"])
            x_test, y_test = _load_split(path, FILES["test_images"], FILES["test_labels"])
            _cache[path, 0] = Dataset(x_train, y_train, x_test, y_test, source=str(path))
        if (path, validation) not in _cache:
            _cache[path, validation] = split_validation(_cache[path, 0], validation)
        return _cache[path, validation]
