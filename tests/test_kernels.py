"""Preset kernels, normalization and learned-filter matching."""

import cv2
import numpy as np
import pytest
import torch

from cnnlab.errors import LocalizedError
from cnnlab.kernels import (
    PRESET_NAMES,
    classic_kernels,
    cosine_similarity,
    match_learned_filters,
    normalize_kernel,
    preset_kernel,
    resize_kernel,
)


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("size", [3, 5])
def test_presets_have_requested_shape(name, size):
    kernel = preset_kernel(name, size)
    assert kernel.shape == (size, size)
    assert kernel.dtype == np.float64


def test_box_normalizes_to_mean():
    normalized = normalize_kernel(preset_kernel("box", 5))
    assert normalized.divided
    assert normalized.kernel_sum == 25.0
    np.testing.assert_allclose(normalized.kernel, np.full((5, 5), 1 / 25))


@pytest.mark.parametrize(("size", "sigma"), [(3, 0.8), (5, 1.0), (7, 2.0)])
def test_gaussian_matches_opencv(size, sigma):
    ours = normalize_kernel(preset_kernel("gaussian", size, sigma)).kernel
    column = cv2.getGaussianKernel(size, sigma, cv2.CV_64F)
    np.testing.assert_allclose(ours, column @ column.T, atol=1e-12)


@pytest.mark.parametrize("name", ["sobel_x", "sobel_y", "scharr_x", "laplacian", "outline"])
def test_zero_sum_kernels_are_not_divided(name):
    normalized = normalize_kernel(preset_kernel(name))
    assert not normalized.divided
    assert normalized.kernel_sum == 0.0
    np.testing.assert_array_equal(normalized.kernel, preset_kernel(name))


def test_fixed_preset_at_five_keeps_centre():
    kernel = preset_kernel("sharpen", 5)
    np.testing.assert_array_equal(kernel[1:4, 1:4], preset_kernel("sharpen"))
    assert np.count_nonzero(kernel) == 5


@pytest.mark.parametrize(("name", "size"), [("box", 4), ("box", 0), ("emboss", 1), ("nope", 3)])
def test_bad_presets_are_rejected(name, size):
    with pytest.raises(LocalizedError):
        preset_kernel(name, size)


def test_gaussian_rejects_non_positive_sigma():
    with pytest.raises(LocalizedError) as caught:
        preset_kernel("gaussian", 3, 0.0)
    assert caught.value.key == "conv.error.sigma"


def test_resize_kernel_keeps_sign_pattern():
    resized = resize_kernel(preset_kernel("sobel_x"), (5, 5))
    assert resized.shape == (5, 5)
    assert (resized[:, 0] < 0).all()
    assert (resized[:, 4] > 0).all()
    np.testing.assert_allclose(resized[:, 2], 0.0, atol=1e-12)


def test_cosine_similarity_of_zero_is_zero():
    assert cosine_similarity(np.zeros((3, 3)), np.ones((3, 3))) == 0.0


def test_match_finds_planted_kernels():
    classic = classic_kernels(3)
    sobel = preset_kernel("sobel_x")
    laplacian = preset_kernel("laplacian")
    weights = np.stack(
        [
            np.stack([sobel, sobel, sobel]),
            np.stack([-2 * laplacian, -2 * laplacian, -2 * laplacian]),
            np.stack([np.ones((3, 3)), np.zeros((3, 3)), 2 * np.ones((3, 3))]),
        ]
    )  # (3, 3, 3, 3)
    matches = match_learned_filters(torch.from_numpy(weights).float(), classic)

    assert [m.index for m in matches] == [0, 1, 2]
    assert matches[0].best_name == "sobel_x"
    assert matches[0].similarity == pytest.approx(1.0)
    assert matches[1].best_name == "laplacian"
    assert matches[1].similarity == pytest.approx(-1.0)
    assert matches[2].best_name == "box"
    assert matches[2].similarity == pytest.approx(1.0)
    assert set(matches[0].similarities) == set(classic)


def test_match_averages_input_channels():
    weights = np.zeros((1, 2, 3, 3))
    weights[0, 0] = preset_kernel("sobel_y")
    weights[0, 1] = 3 * preset_kernel("sobel_y")
    match = match_learned_filters(weights, classic_kernels(3))[0]
    np.testing.assert_allclose(match.filter_2d, 2 * preset_kernel("sobel_y"))


def test_match_resizes_classic_kernels():
    learned = resize_kernel(preset_kernel("scharr_y"), (5, 5))[None, None]  # (1, 1, 5, 5)
    match = match_learned_filters(learned, classic_kernels(3))[0]
    assert match.best_name == "scharr_y"
    assert match.similarity == pytest.approx(1.0)


def test_match_rejects_one_by_one_filters():
    with pytest.raises(LocalizedError) as caught:
        match_learned_filters(np.ones((4, 3, 1, 1)), classic_kernels(3))
    assert caught.value.key == "conv.error.match_too_small"


def test_match_rejects_wrong_rank():
    with pytest.raises(LocalizedError) as caught:
        match_learned_filters(np.ones((3, 3, 3)), classic_kernels(3))
    assert caught.value.key == "conv.error.match_shape"
