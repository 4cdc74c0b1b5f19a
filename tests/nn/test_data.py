"""The MNIST loader on crafted IDX files: valid layouts load, every bad file gets a one-line message."""
import hashlib
import os
import urllib.error

import numpy as np
import pytest

import nn.data as data
from nn import DataError, load_mnist
from nn.pixels import as_inputs
from tests.conftest import corrupt, make_dataset, write_idx


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_any_folder_in_idx_layout_loads(tmp_path, compress):
    folder = make_dataset(tmp_path / "d", compress=compress)
    ds = load_mnist(folder)
    assert ds.x_train.shape == (30, 784) and ds.x_test.shape == (10, 784)
    assert ds.x_train.dtype == np.uint8  # pixels as stored, a quarter of float32's memory
    inputs = as_inputs(ds.x_train)
    assert inputs.dtype == np.float32 and inputs.min() >= 0.0 and inputs.max() <= 1.0
    assert ds.y_train.dtype == np.int64
    assert not ds.x_train.flags.writeable  # shared read-only
    assert load_mnist(folder) is ds  # loaded once per process


def test_mnist_dir_environment_variable_is_used(tmp_path, monkeypatch):
    folder = make_dataset(tmp_path / "env", n_train=12)
    monkeypatch.setenv("MNIST_DIR", str(folder))
    assert load_mnist().x_train.shape[0] == 12


@pytest.mark.parametrize("name,how,expected", [
    ("train-images-idx3-ubyte", "truncated", "train-images-idx3-ubyte.gz holds"),
    ("t10k-labels-idx1-ubyte", "wrong_magic", "not an IDX label file"),
    ("train-labels-idx1-ubyte", "header_only", "truncated"),
    ("t10k-images-idx3-ubyte", "not_gzip", "not a readable"),
])
def test_bad_files_get_a_one_line_message_naming_the_file(tmp_path, name, how, expected):
    folder = make_dataset(tmp_path / how)
    corrupt(folder, name, how)
    with pytest.raises(DataError) as err:
        load_mnist(folder)
    message = str(err.value)
    assert expected in message and "\n" not in message
    assert name in message


def test_missing_file_and_missing_folder(tmp_path):
    folder = make_dataset(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte"):
        load_mnist(folder)
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_mislabelled_files_are_caught(tmp_path):
    folder = make_dataset(tmp_path / "swap", n_train=30, n_test=10)
    # a train label file of the wrong length: images and labels do not belong together
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(29), 2049)
    with pytest.raises(DataError, match="do not belong together"):
        load_mnist(folder)
    write_idx(folder / "train-labels-idx1-ubyte", np.full(30, 12), 2049)
    with pytest.raises(DataError, match="label 12"):
        load_mnist(folder)


def test_download_verifies_md5_reports_progress_and_caches(tmp_path, monkeypatch):
    """The download path, served from a local folder instead of the network."""
    source = make_dataset(tmp_path / "mirror")
    md5 = {stem: hashlib.md5((source / (stem + ".gz")).read_bytes()).hexdigest() for stem in data.OFFICIAL_MD5}
    monkeypatch.setattr(data, "OFFICIAL_MD5", md5)
    monkeypatch.setattr(data, "MIRRORS", ("file://" + str(tmp_path / "nothing") + "/", source.as_uri() + "/"))
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seen = []
    ds = load_mnist(progress=lambda name, done, total: seen.append(name))
    assert ds.x_train.shape == (30, 784)
    assert set(seen) == set(md5)
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist-mlp").iterdir()) == sorted(s + ".gz" for s in md5)


def test_download_with_a_bad_checksum_is_refused(tmp_path, monkeypatch):
    source = make_dataset(tmp_path / "mirror")
    monkeypatch.setattr(data, "MIRRORS", (source.as_uri() + "/",))  # real official md5s will not match
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="checksum mismatch"):
        load_mnist()


def test_offline_message_says_how_to_point_at_local_files(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/",))  # nothing listens on the discard port
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="set MNIST_DIR"):
        load_mnist()


def test_offline_message_quotes_each_reason_whole(tmp_path, monkeypatch):
    """Two mirrors' long errors were cut at 200 characters: "...Name or service not)"."""
    reason = "<urlopen error [Errno -2] Name or service not known>"
    mirrors = tuple(f"https://mirror-{i}.example.org/some/long/path/to/mnist/" for i in range(4))
    monkeypatch.setattr(data, "MIRRORS", mirrors)

    def offline(url, stem, progress):
        raise urllib.error.URLError(reason[len("<urlopen error "):-1])

    monkeypatch.setattr(data, "_fetch", offline)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError) as caught:
        load_mnist()
    message = str(caught.value)
    quoted = message[message.index("(https://"):]
    assert quoted.count("Name or service not known>") == quoted.count("https://") >= 1, message
    assert "more)" in message and len(message) < 600


def test_a_file_that_is_no_mnist_file_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    """MNIST_DIR is a user's folder: a 2 GB file (here sparse) or a gzip bomb used to be read whole, until memory
    ran out. (Devices and pipes are not files to the loader at all: "lacks ...".)"""
    folder = make_dataset(tmp_path / "huge")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    huge = tmp_path / "huge.bin"
    huge.touch()
    os.truncate(huge, 2 << 30)
    (folder / "t10k-labels-idx1-ubyte").symlink_to(huge)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is 2,147,483,648 bytes, far more") as err:
        load_mnist(folder)
    assert "\n" not in str(err.value)

    bomb = make_dataset(tmp_path / "bomb")
    write_idx(bomb / "train-images-idx3-ubyte", np.zeros((2000, 28, 28)), 2051)  # 1.5 MB of zeros in a few KB
    assert (bomb / "train-images-idx3-ubyte.gz").stat().st_size < 100_000
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 100_000)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz unpacks to more than 100,000 bytes"):
        load_mnist(bomb)
