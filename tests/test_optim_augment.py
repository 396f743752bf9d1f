"""Augmentation: the v2 gallery, MixUp/CutMix, and the per-sample training warp."""

import numpy as np
import pytest
import torch
from optim_support import tiny_mnist
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.optim.augment import (
    GALLERY,
    AugmentStudy,
    BatchAugment,
    BatchAugmentConfig,
    affine_matrices,
    augment_trials,
    augment_variants,
    augmentation_preview,
    compose_grid,
    default_params,
    fit_for_gallery,
    mix_batch,
    warp,
)

PICTURE = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", list(GALLERY))
def test_gallery_keeps_size_and_dtype(name):
    variants = augment_variants(PICTURE, name, default_params(name), seed=1, count=3)
    assert len(variants) == 3
    assert all(v.shape == PICTURE.shape for v in variants)
    assert all(v.dtype == np.uint8 for v in variants)


@pytest.mark.parametrize("name", list(GALLERY))
def test_gallery_same_seed_same_pictures(name):
    first = augment_variants(PICTURE, name, default_params(name), seed=5, count=2)
    second = augment_variants(PICTURE, name, default_params(name), seed=5, count=2)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_gallery_flip_with_p1_mirrors():
    flipped = augment_variants(PICTURE, "hflip", {"p": 1.0}, seed=0, count=1)[0]
    np.testing.assert_array_equal(flipped, PICTURE[:, ::-1])


def test_gallery_leaves_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    augment_variants(PICTURE, "rotation", {"degrees": 30.0}, seed=9, count=2)
    assert torch.equal(torch.rand(3), expected)


def test_fit_for_gallery_shrinks_long_side():
    big = np.zeros((600, 300, 3), dtype=np.uint8)
    assert fit_for_gallery(big, 256).shape == (256, 128, 3)
    assert fit_for_gallery(PICTURE, 256) is PICTURE


def test_compose_grid_places_tiles():
    tiles = [np.full((4, 5, 3), i * 50, dtype=np.uint8) for i in range(3)]
    grid = compose_grid(tiles, columns=2, gap=1)
    assert grid.shape == (9, 11, 3)
    assert grid[5, 0, 0] == 100
    assert grid[5, 6, 0] == 255


@pytest.mark.parametrize("kind", ["mixup", "cutmix"])
def test_mix_batch_soft_labels_sum_to_one(kind):
    images = np.random.default_rng(1).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    mixed = mix_batch(images, np.array([0, 1, 2, 3]), 4, kind, alpha=1.0, seed=3)
    assert len(mixed.images) == 4
    np.testing.assert_allclose(mixed.soft_labels.sum(axis=1), 1.0, atol=1e-6)
    # Image i mixes with image i - 1: exactly those two classes carry weight.
    assert np.count_nonzero(mixed.soft_labels[1] > 1e-6) <= 2
    assert mixed.soft_labels[1, 1] >= 0
    assert mixed.soft_labels[1, [2, 3]].sum() == 0


def test_mixup_weights_match_pixels():
    images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    images[1] = 200
    mixed = mix_batch(images, np.array([0, 1]), 2, "mixup", alpha=1.0, seed=0)
    lam = mixed.soft_labels[1, 1]  # image 1 keeps weight λ, image 0 adds 1 - λ
    assert mixed.images[1][0, 0, 0] == pytest.approx(200 * lam, abs=1)


def test_warp_rotation_matches_torchvision():
    x = torch.rand(1, 1, 16, 16)
    x[0, 0, 0, 0] = 0.0  # minimum 0: our fill and torchvision's zero padding agree
    for angle in (90.0, 30.0, -45.0):
        ours = warp(x, affine_matrices(torch.tensor([angle]), torch.ones(1), torch.zeros(1, 2)))
        ref = TF.rotate(x, angle, interpolation=v2.InterpolationMode.BILINEAR)
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


def test_warp_affine_matches_torchvision():
    x = torch.rand(1, 1, 16, 16)
    x[0, 0, 0, 0] = 0.0
    theta = affine_matrices(
        torch.tensor([20.0]), torch.tensor([1.2]), torch.tensor([[0.125, -0.0625]])
    )
    # TF.affine turns clockwise for a positive angle (TF.rotate counter-clockwise).
    ref = TF.affine(x, angle=-20.0, translate=[2, -1], scale=1.2, shear=[0.0, 0.0],
                    interpolation=v2.InterpolationMode.BILINEAR)  # fmt: skip
    torch.testing.assert_close(warp(x, theta), ref, atol=1e-5, rtol=0)


def test_batch_augment_identity_when_off():
    x = torch.randn(3, 1, 8, 8)
    config = BatchAugmentConfig(rotation=0, translate=0, scale=0, erase_prob=0)
    assert torch.equal(BatchAugment(config)(x, torch.Generator().manual_seed(0)), x)


def test_batch_augment_differs_per_sample():
    x = torch.randn(1, 1, 12, 12).repeat(4, 1, 1, 1)
    out = BatchAugment(BatchAugmentConfig(rotation=30))(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert not torch.allclose(out[0], out[1])


def test_batch_augment_is_reproducible():
    x = torch.randn(4, 1, 12, 12)
    augment = BatchAugment(BatchAugmentConfig(erase_prob=1.0))
    a = augment(x, torch.Generator().manual_seed(7))
    b = augment(x, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_erasing_blanks_a_rectangle():
    x = torch.ones(2, 1, 20, 20)
    config = BatchAugmentConfig(rotation=0, translate=0, scale=0, erase_prob=1.0)
    out = BatchAugment(config)(x, torch.Generator().manual_seed(1))
    erased = (out == 0).float().mean(dim=(1, 2, 3))
    assert torch.all(erased >= 0.01)
    assert torch.all(erased <= 0.25)


def test_augmentation_preview_shows_two_rows():
    data = tiny_mnist()
    preview = augmentation_preview(data, BatchAugmentConfig(), count=3, seed=0, factor=2)
    assert preview.shape == (2 * 56 + 4, 3 * 56 + 2 * 4, 3)
    assert preview.dtype == np.uint8
    first_one = int(torch.nonzero(data.y_train == 1)[0])  # the second tile shows a 1
    original = data.denormalize(data.x_train[first_one : first_one + 1])[0, 0]
    expected = (original * 255).round().to(torch.uint8).numpy()
    np.testing.assert_array_equal(preview[0:56:2, 60:116:2, 0], expected)


def test_augment_comparison_runs_two_trials():
    data = tiny_mnist(200)
    study = AugmentStudy(subset=100, epochs=2, batch_size=50)
    trials = augment_trials(study, {"plain": "plain", "augmented": "aug"})
    for trial in trials:
        trial.config.model.blocks = trial.config.model.blocks[:1]
    job = TrainingJob(trials, lambda: data, JobSlots(1)).start()
    job.join(60)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    assert [r.label for r in snapshot.runs] == ["plain", "aug"]
    assert [len(r.epochs) for r in snapshot.runs] == [2, 2]
    assert snapshot.runs[0].steps[-1].step == snapshot.runs[1].steps[-1].step == 4
