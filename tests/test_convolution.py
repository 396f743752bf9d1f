"""Convolution backend checked against torch.nn.functional.conv2d and OpenCV."""

import itertools

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.convolution import (
    PADDING_MODES,
    apply_kernel,
    conv2d_gray,
    conv_output_size,
    conv_window,
    naive_conv2d,
    pad_2d,
    suggest_display_method,
    to_display,
)
from cnnlab.errors import LocalizedError
from cnnlab.kernels import normalize_kernel, preset_kernel


@pytest.fixture(scope="module")
def rgb_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(23, 31, 3), dtype=np.uint8)


def test_output_size_matches_conv2d_shapes():
    sizes = (5, 8, 13)
    kernels = (1, 2, 3, 4, 5)
    strides = (1, 2, 3)
    paddings = (0, 1, 2)
    dilations = (1, 2, 3)
    checked = 0
    for size, kernel, stride, padding, dilation in itertools.product(
        sizes, kernels, strides, paddings, dilations
    ):
        if size + 2 * padding < dilation * (kernel - 1) + 1:
            with pytest.raises(LocalizedError):
                conv_output_size(size, kernel, stride, padding, dilation)
            continue
        x = torch.zeros(1, 1, size, size + 3)
        weight = torch.zeros(1, 1, kernel, kernel)
        out = F.conv2d(x, weight, stride=stride, padding=padding, dilation=dilation)
        assert out.shape[2] == conv_output_size(size, kernel, stride, padding, dilation)
        assert out.shape[3] == conv_output_size(size + 3, kernel, stride, padding, dilation)
        checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation"),
    [(0, 1, 0, 1), (3, 0, 0, 1), (3, 1, -1, 1), (3, 1, 0, 0)],
)
def test_output_size_rejects_bad_parameters(kernel, stride, padding, dilation):
    with pytest.raises(LocalizedError):
        conv_output_size(10, kernel, stride, padding, dilation)


def test_output_size_error_names_the_span():
    with pytest.raises(LocalizedError) as caught:
        conv_output_size(4, 3, 1, 0, 3)
    assert caught.value.key == "conv.error.output_empty"
    assert caught.value.params["span"] == 7


NAIVE_CASES = [
    # (input shape, kernel shape, stride, padding, dilation, padding mode)
    ((8, 8), (3, 3), 1, 0, 1, "zeros"),
    ((8, 11), (3, 3), 2, 1, 1, "zeros"),
    ((9, 7), (2, 2), 1, 0, 1, "zeros"),
    ((9, 7), (4, 4), 2, 1, 1, "zeros"),
    ((10, 12), (2, 3), 1, 1, 2, "zeros"),
    ((12, 10), (5, 5), 3, 2, 1, "zeros"),
    ((12, 10), (3, 3), 1, 2, 2, "zeros"),
    ((7, 9), (3, 3), 1, 1, 1, "reflect"),
    ((7, 9), (4, 2), 2, 2, 1, "reflect"),
    ((7, 9), (3, 3), 1, 2, 1, "replicate"),
    ((7, 9), (5, 5), 2, 2, 2, "replicate"),
    ((7, 9), (3, 3), 1, 1, 1, "circular"),
    ((6, 5), (3, 4), 1, 3, 1, "circular"),
    ((16, 16), (1, 1), 4, 0, 1, "zeros"),
]


@pytest.mark.parametrize(
    ("shape", "kernel_shape", "stride", "padding", "dilation", "mode"), NAIVE_CASES
)
def test_naive_conv2d_matches_torch(shape, kernel_shape, stride, padding, dilation, mode):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    kernel = rng.normal(size=kernel_shape)

    # Reference built directly from PyTorch: nn.Conv2d's own padding modes.
    conv = nn.Conv2d(
        1,
        1,
        kernel_shape,
        stride=stride,
        padding=padding,
        dilation=dilation,
        padding_mode=mode,
        bias=False,
    ).to(torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel)[None, None])
        expected = conv(torch.from_numpy(x)[None, None])[0, 0].numpy()

    naive = naive_conv2d(
        x, kernel, stride=stride, padding=padding, padding_mode=mode, dilation=dilation
    )
    through_functional = conv2d_gray(
        x, kernel, stride=stride, padding=padding, padding_mode=mode, dilation=dilation
    )
    assert naive.shape == expected.shape
    np.testing.assert_allclose(naive, expected, atol=1e-10)
    np.testing.assert_allclose(through_functional, expected, atol=1e-10)


def test_conv_window_shows_products_and_sum():
    x = np.arange(36, dtype=np.float64).reshape(6, 6)
    kernel = preset_kernel("sobel_x")
    padded = pad_2d(x, 1)
    step = conv_window(padded, kernel, row=2, col=1, stride=2, dilation=1)
    expected = conv2d_gray(x, kernel, stride=2, padding=1)[2, 1]

    assert list(step.rows) == [4, 5, 6]
    assert list(step.cols) == [2, 3, 4]
    np.testing.assert_array_equal(step.window, padded[4:7, 2:5])
    np.testing.assert_array_equal(step.products, step.window * kernel)
    assert step.total == pytest.approx(step.products.sum())
    assert step.total == pytest.approx(expected)


def test_conv_window_dilation_spreads_taps():
    padded = np.arange(100, dtype=np.float64).reshape(10, 10)
    step = conv_window(padded, np.ones((3, 3)), row=1, col=0, stride=1, dilation=3)
    assert list(step.rows) == [1, 4, 7]
    assert list(step.cols) == [0, 3, 6]


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_pad_2d_matches_torch_pad(mode):
    x = np.arange(20, dtype=np.float64).reshape(4, 5)
    ours = pad_2d(x, 2, mode)
    torch_mode = "constant" if mode == "zeros" else mode
    theirs = F.pad(torch.from_numpy(x)[None, None], (2, 2, 2, 2), mode=torch_mode)[0, 0].numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_reflect_padding_too_wide_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        conv2d_gray(np.zeros((3, 8)), np.ones((3, 3)), padding=3, padding_mode="reflect")
    assert caught.value.key == "conv.error.reflect_too_wide"


def test_circular_padding_too_wide_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        pad_2d(np.zeros((3, 8)), 4, "circular")
    assert caught.value.key == "conv.error.circular_too_wide"


def test_unknown_padding_mode_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        conv2d_gray(np.zeros((5, 5)), np.ones((3, 3)), padding=1, padding_mode="mirror")
    assert caught.value.key == "conv.error.padding_mode"


def test_apply_kernel_identity_returns_image(rgb_image):
    result = apply_kernel(rgb_image, preset_kernel("identity"), padding=1)
    assert result.shape == (23, 31, 3)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, rgb_image / 255.0, atol=1e-6)


def test_apply_kernel_per_channel_filters_each_channel(rgb_image):
    kernel = normalize_kernel(preset_kernel("gaussian", 5, 1.2)).kernel
    result = apply_kernel(rgb_image, kernel, padding=2, padding_mode="reflect")
    for channel in range(3):
        expected = cv2.filter2D(
            rgb_image[:, :, channel].astype(np.float64) / 255.0,
            -1,
            kernel,
            borderType=cv2.BORDER_REFLECT_101,
        )
        np.testing.assert_allclose(result[:, :, channel], expected, atol=1e-5)


def test_apply_kernel_grayscale_uses_luma(rgb_image):
    result = apply_kernel(rgb_image, preset_kernel("identity"), color_mode="grayscale")
    gray = cv2.cvtColor(rgb_image, cv2.COLOR_RGB2GRAY)
    assert result.shape == (21, 29, 1)
    np.testing.assert_allclose(result[:, :, 0], gray[1:-1, 1:-1] / 255.0, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        (
            "sobel_x",
            lambda g: cv2.Sobel(g, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE),
        ),
        (
            "sobel_y",
            lambda g: cv2.Sobel(g, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE),
        ),
        ("scharr_x", lambda g: cv2.Scharr(g, cv2.CV_64F, 1, 0, borderType=cv2.BORDER_REPLICATE)),
        ("scharr_y", lambda g: cv2.Scharr(g, cv2.CV_64F, 0, 1, borderType=cv2.BORDER_REPLICATE)),
        (
            "laplacian",
            lambda g: cv2.Laplacian(g, cv2.CV_64F, ksize=1, borderType=cv2.BORDER_REPLICATE),
        ),
    ],
)
def test_edge_presets_match_opencv(rgb_image, name, reference):
    result = apply_kernel(
        rgb_image, preset_kernel(name), padding=1, padding_mode="replicate", color_mode="grayscale"
    )
    gray = cv2.cvtColor(rgb_image, cv2.COLOR_RGB2GRAY).astype(np.float64) / 255.0
    np.testing.assert_allclose(result[:, :, 0], reference(gray), atol=1e-5)


def test_apply_kernel_stride_and_dilation_shape(rgb_image):
    result = apply_kernel(rgb_image, np.ones((3, 3)), stride=2, padding=1, dilation=2)
    assert result.shape == (
        conv_output_size(23, 3, 2, 1, 2),
        conv_output_size(31, 3, 2, 1, 2),
        3,
    )


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
@pytest.mark.parametrize(
    ("stride", "padding", "dilation"), [(1, 2, 1), (2, 3, 1), (1, 4, 2), (3, 7, 1)]
)
def test_apply_kernel_matches_conv2d_gray(rgb_image, padding_mode, stride, padding, dilation):
    # apply_kernel pads with OpenCV and runs a channels-last depthwise conv2d; conv2d_gray
    # pads with F.pad and runs a plain float64 conv2d, one channel at a time.
    kernel = np.random.default_rng(3).normal(size=(5, 5))
    result = apply_kernel(
        rgb_image, kernel, stride=stride, padding=padding, padding_mode=padding_mode,
        dilation=dilation,
    )  # fmt: skip
    for channel in range(3):
        expected = conv2d_gray(
            rgb_image[:, :, channel] / 255.0, kernel, stride=stride, padding=padding,
            padding_mode=padding_mode, dilation=dilation,
        )  # fmt: skip
        assert result[:, :, channel].shape == expected.shape
        np.testing.assert_allclose(result[:, :, channel], expected, atol=1e-5)


def test_apply_kernel_reports_unpadded_sizes(rgb_image):
    with pytest.raises(LocalizedError) as caught:
        apply_kernel(rgb_image, np.ones((3, 3)), padding=2, padding_mode="reflect", dilation=20)
    assert caught.value.key == "conv.error.output_empty"
    assert caught.value.params["size"] == rgb_image.shape[0]
    assert caught.value.params["padding"] == 2


def test_apply_kernel_rejects_unknown_color_mode(rgb_image):
    with pytest.raises(LocalizedError) as caught:
        apply_kernel(rgb_image, np.ones((3, 3)), color_mode="hsv")
    assert caught.value.key == "conv.error.color_mode"


def test_display_clip_keeps_image_range():
    shown = to_display(np.array([[[-0.5], [0.25], [1.5]]]), "clip")
    assert (shown.low, shown.high) == (0.0, 1.0)
    np.testing.assert_allclose(shown.image.ravel(), [0.0, 0.25, 1.0])


def test_display_abs_maps_magnitude():
    shown = to_display(np.array([[[-2.0], [1.0], [0.0]]]), "abs")
    assert (shown.low, shown.high) == (0.0, 2.0)
    np.testing.assert_allclose(shown.image.ravel(), [1.0, 0.5, 0.0])


def test_display_minmax_stretches():
    shown = to_display(np.array([[[-2.0], [1.0], [0.0]]]), "minmax")
    assert (shown.low, shown.high) == (-2.0, 1.0)
    np.testing.assert_allclose(shown.image.ravel(), [0.0, 1.0, 2.0 / 3.0], atol=1e-6)


def test_display_constant_result_is_black():
    shown = to_display(np.full((2, 2, 1), 3.0), "minmax")
    assert float(shown.image.max()) == 0.0


def test_display_method_suggestion():
    assert suggest_display_method(np.array([-0.1, 0.5])) == "abs"
    assert suggest_display_method(np.array([0.0, 0.9])) == "clip"
    assert suggest_display_method(np.array([0.0, 3.0])) == "minmax"
