"""torchvision datasets, loaded from small files the tests write in each dataset's format."""

import pickle
import struct
import urllib.error

import numpy as np
import pytest
import torchvision.datasets as tvd

from cnnlab.data import load_torchvision
from cnnlab.errors import LocalizedError
from cnnlab.paths import data_dir


def write_idx(path, array: np.ndarray) -> None:
    """Write an IDX file (the MNIST format): magic, big-endian sizes, then uint8 data."""
    magic = 0x0800 | array.ndim | (0x08 << 8)  # type 0x08 = unsigned byte
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic & 0xFFFF))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def fake_mnist(root, folder: str, n_train=40, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return raw


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")]
)
def test_mnist_formats_load(tmp_path, name, folder):
    fake_mnist(tmp_path, folder)
    data = load_torchvision(name, root=tmp_path, download=False)
    assert data.x_train.shape == (40, 1, 28, 28)
    assert data.x_test.shape == (20, 1, 28, 28)
    assert data.y_train.tolist() == [i % 10 for i in range(40)]
    assert data.num_classes == 10


def test_subset_limits_are_balanced(tmp_path):
    fake_mnist(tmp_path, "MNIST", n_train=100, n_test=50)
    data = load_torchvision("mnist", root=tmp_path, download=False, max_train=30, max_test=10)
    assert len(data.x_train) == 30
    assert len(data.x_test) == 10
    assert np.bincount(data.y_test.numpy()).tolist() == [1] * 10


def test_cifar10_format_loads(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)

    def batch(n, offset):
        return {
            "data": rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8),
            "labels": [(i + offset) % 10 for i in range(n)],
        }

    files = {f"data_batch_{i}": batch(10, i) for i in range(1, 6)}
    files["test_batch"] = batch(20, 0)
    files["batches.meta"] = {"label_names": [f"class{i}" for i in range(10)]}
    for name, content in files.items():
        with open(folder / name, "wb") as f:
            pickle.dump(content, f)
    # torchvision checks each file's MD5; point it at the files written here.
    monkeypatch.setattr(tvd.CIFAR10, "train_list", [[f"data_batch_{i}", None] for i in range(1, 6)])
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", None]])
    monkeypatch.setattr(
        tvd.CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names", "md5": None}
    )

    data = load_torchvision("cifar10", root=tmp_path, download=False)
    assert data.x_train.shape == (50, 3, 32, 32)
    assert data.x_test.shape == (20, 3, 32, 32)
    assert len(data.mean) == 3
    assert data.classes[3] == "cat"


def test_offline_download_gives_localized_error(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr("torchvision.datasets.mnist.download_and_extract_archive", no_network)
    with pytest.raises(LocalizedError) as info:
        load_torchvision("mnist", root=tmp_path, download=True)
    assert info.value.key == "data.error.download"
    assert str(tmp_path) in str(info.value)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(LocalizedError, match="could not be downloaded"):
        load_torchvision("fashion-mnist", root=tmp_path, download=False)


def test_data_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    monkeypatch.delenv("CNNLAB_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_dir() == tmp_path / "cache" / "cnnlab"
