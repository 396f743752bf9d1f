import numpy as np
import pytest
import torch

from cnnlab.data import batch_indices, load_mnist_5k, random_shift, stratified_split
from cnnlab.datasets import dataset_shape, load_dataset
from cnnlab.shapes import ShapesConfig, class_names, generate_shapes, load_shapes


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_5k()


def test_mnist_split_sizes_and_shapes(mnist):
    assert mnist.x_train.shape == (4000, 1, 28, 28)
    assert mnist.x_test.shape == (1000, 1, 28, 28)
    assert mnist.x_train.dtype == torch.float32
    assert mnist.y_train.dtype == torch.int64


def test_mnist_test_split_is_balanced(mnist):
    assert torch.bincount(mnist.y_test, minlength=10).tolist() == [100] * 10


def test_mnist_split_is_fixed_by_seed():
    a, b, c = load_mnist_5k(seed=0), load_mnist_5k(seed=0), load_mnist_5k(seed=1)
    assert torch.equal(a.x_test, b.x_test)
    assert not torch.equal(a.x_test, c.x_test)


def test_mnist_training_split_is_normalized(mnist):
    assert abs(mnist.x_train.mean().item()) < 1e-4
    assert abs(mnist.x_train.std().item() - 1) < 1e-3


def test_denormalize_inverts_normalize(mnist):
    raw = mnist.denormalize(mnist.x_test[:8])
    assert raw.min() >= 0
    assert raw.max() <= 1
    assert torch.allclose(mnist.normalize(raw), mnist.x_test[:8], atol=1e-5)


def test_stratified_split_disjoint_and_complete():
    labels = np.repeat(np.arange(4), 25)
    train, test = stratified_split(labels, 20, seed=3)
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == 100
    assert np.bincount(labels[test]).tolist() == [5, 5, 5, 5]


def test_subset_train_is_balanced(mnist):
    small = mnist.subset_train(100)
    assert len(small.x_train) == 100
    assert torch.bincount(small.y_train, minlength=10).tolist() == [10] * 10
    assert len(small.x_test) == 1000


def test_batch_indices_cover_every_sample_once():
    batches = batch_indices(10, 4, torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))


def test_random_shift_moves_content():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 4, 4] = 1.0
    gen = torch.Generator().manual_seed(0)
    moved = [random_shift(x, 2, gen) for _ in range(20)]
    positions = {tuple((m[0, 0] == 1).nonzero()[0].tolist()) for m in moved}
    assert len(positions) > 1
    for row, col in positions:
        assert abs(row - 4) <= 2
        assert abs(col - 4) <= 2
    assert all(m.sum().item() == 1.0 for m in moved)


def test_random_shift_fills_with_background():
    x = torch.full((2, 1, 6, 6), 0.5)
    x[:, :, 0, :] = -1.0  # the background (minimum) value
    out = random_shift(x, 3, torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    assert set(out.unique().tolist()) <= {-1.0, 0.5}


def test_random_shift_zero_is_identity():
    x = torch.randn(3, 2, 5, 5)
    assert random_shift(x, 0, torch.Generator()) is x


def test_shapes_dataset_is_deterministic():
    config = ShapesConfig(samples_per_class=8, image_size=24, seed=5)
    a_images, a_labels = generate_shapes(config)
    b_images, b_labels = generate_shapes(config)
    assert np.array_equal(a_images, b_images)
    assert np.array_equal(a_labels, b_labels)
    assert a_images.shape[1:] == (24, 24, 3)
    assert a_images.dtype == np.uint8


@pytest.mark.parametrize("target", ["shape", "color", "shape_color"])
def test_shapes_targets_are_balanced(target):
    config = ShapesConfig(samples_per_class=16, target=target, noise_std=0)
    _, labels = generate_shapes(config)
    counts = np.bincount(labels)
    assert len(counts) == len(class_names(config))
    assert counts.min() == counts.max()


def test_shapes_color_target_matches_pixels():
    config = ShapesConfig(shapes=("square",), colors=("red", "blue"), target="color",
                          samples_per_class=4, noise_std=0, min_size=0.6)  # fmt: skip
    images, labels = generate_shapes(config)
    for image, label in zip(images, labels, strict=True):
        red, blue = image[..., 0].astype(int).sum(), image[..., 2].astype(int).sum()
        assert (red > blue) == (label == 0)


def test_shapes_rejects_unknown_shape():
    with pytest.raises(ValueError, match="shapes"):
        generate_shapes(ShapesConfig(shapes=("hexagon",)))


def test_load_shapes_as_lab_data():
    data = load_shapes(ShapesConfig(samples_per_class=20))
    assert data.x_train.shape[1:] == (3, 32, 32)
    assert data.num_classes == 4
    assert len(data.x_test) == len(data.y_test) == 16


@pytest.mark.parametrize("name", ["mnist-5k", "shapes"])
def test_dataset_shape_matches_loaded(name):
    data = load_dataset(name)
    assert dataset_shape(name) == (data.in_channels, data.image_size, data.num_classes)
