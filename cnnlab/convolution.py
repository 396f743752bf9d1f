"""2-D convolution for the lesson: output sizes, filtering images, and a hand-written version.

``apply_kernel`` and ``conv2d_gray`` run ``torch.nn.functional.conv2d``; ``conv_window`` and
``naive_conv2d`` compute the same numbers with plain loops so a learner can follow them.
Like PyTorch, every function computes cross-correlation: the kernel is not flipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError

log = logging.getLogger(__name__)

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
COLOR_MODES = ("per_channel", "grayscale")
DISPLAY_METHODS = ("clip", "abs", "minmax")

# PyTorch's padding names -> F.pad modes and np.pad modes (the naive path uses NumPy so
# that the test compares two independent implementations).
_TORCH_PAD_MODES = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}
_CV2_BORDERS = {
    "reflect": cv2.BORDER_REFLECT_101,  # dcb|abcd|cba, PyTorch's "reflect"
    "replicate": cv2.BORDER_REPLICATE,
    "circular": cv2.BORDER_WRAP,
}
_NUMPY_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Return the output length along one axis: floor((size + 2p − d(k − 1) − 1) / s) + 1.

    The same formula holds for ``nn.Conv2d``, ``nn.MaxPool2d`` and ``nn.AvgPool2d`` (with
    ``ceil_mode=False``). Raises ``LocalizedError`` when a parameter is out of range or the
    dilated kernel does not fit in the padded input.
    """
    validate_geometry(kernel, stride, padding, dilation)
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise LocalizedError("conv.error.output_empty", size=size, padding=padding, span=span)
    return (size + 2 * padding - span) // stride + 1


def validate_geometry(kernel: int, stride: int, padding: int, dilation: int) -> None:
    """Raise ``LocalizedError`` unless kernel, stride and dilation are ≥ 1 and padding ≥ 0."""
    if kernel < 1:
        raise LocalizedError("conv.error.kernel_size", kernel=kernel)
    if stride < 1:
        raise LocalizedError("conv.error.stride", stride=stride)
    if padding < 0:
        raise LocalizedError("conv.error.padding", padding=padding)
    if dilation < 1:
        raise LocalizedError("conv.error.dilation", dilation=dilation)


def _check_padding_mode(padding_mode: str, padding: int, height: int, width: int) -> None:
    if padding_mode not in PADDING_MODES:
        raise LocalizedError(
            "conv.error.padding_mode", mode=padding_mode, modes=", ".join(PADDING_MODES)
        )
    # Reflection mirrors around the edge pixel, so it needs padding < side; circular
    # padding wraps around once at most. F.pad raises a RuntimeError past these limits.
    if padding_mode == "reflect" and padding >= min(height, width):
        raise LocalizedError(
            "conv.error.reflect_too_wide", padding=padding, side=min(height, width)
        )
    if padding_mode == "circular" and padding > min(height, width):
        raise LocalizedError(
            "conv.error.circular_too_wide", padding=padding, side=min(height, width)
        )


def _conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    stride: int,
    padding: int,
    padding_mode: str,
    dilation: int,
    groups: int = 1,
) -> torch.Tensor:
    """Run F.conv2d on (N, C, H, W), padding with F.pad first for the non-zero modes."""
    kernel_height, kernel_width = weight.shape[-2:]
    conv_output_size(x.shape[-2], kernel_height, stride, padding, dilation)
    conv_output_size(x.shape[-1], kernel_width, stride, padding, dilation)
    _check_padding_mode(padding_mode, padding, x.shape[-2], x.shape[-1])

    if padding_mode != "zeros" and padding > 0:
        pads = (padding, padding, padding, padding)  # (left, right, top, bottom)
        x = F.pad(x, pads, mode=_TORCH_PAD_MODES[padding_mode])  # (N, C, H+2p, W+2p)
        padding = 0
    return F.conv2d(
        x, weight, stride=stride, padding=padding, dilation=dilation, groups=groups
    )  # (N, C, H, W) -> (N, O, H', W')


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Convert a uint8 RGB image (H, W, 3) to uint8 luma (H, W); pass (H, W) through.

    Uses OpenCV's BT.601 weights: Y = 0.299 R + 0.587 G + 0.114 B.
    """
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def shrink_gray(image: np.ndarray, max_side: int) -> np.ndarray:
    """Convert to uint8 gray (H, W) and shrink so that max(H, W) <= ``max_side`` (area averaging).

    The step-by-step views crop a few pixels from this copy, so a crop covers a visible part
    of the picture instead of a nearly flat patch of a large photo.
    """
    gray = to_grayscale(image)
    height, width = gray.shape
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return gray
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # (W, H) for OpenCV
    return cv2.resize(gray, new_size, interpolation=cv2.INTER_AREA)


def crop_patch(gray: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """Return the float64 (size, size) square of ``gray`` at (top, left), kept inside the image.

    ``top`` and ``left`` are clamped so the square fits; the values stay in 0–255.
    Raises ``LocalizedError`` when the image is smaller than ``size`` on a side.
    """
    height, width = gray.shape
    if size > min(height, width):
        raise LocalizedError("conv.error.crop_too_large", size=size, height=height, width=width)
    top = min(max(top, 0), height - size)
    left = min(max(left, 0), width - size)
    return gray[top : top + size, left : left + size].astype(np.float64)


def apply_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    padding_mode: str = "zeros",
    dilation: int = 1,
    color_mode: str = "per_channel",
) -> np.ndarray:
    """Filter an image with one 2-D kernel through ``F.conv2d``.

    ``image`` is uint8 RGB (H, W, 3) or gray (H, W) in [0, 255]; it is scaled to floats in
    [0, 1] first. ``kernel`` is (kh, kw). With ``per_channel`` the kernel filters R, G and
    B separately (a depthwise convolution, ``groups=3``); with ``grayscale`` the image is
    converted to luma first. The non-zero padding modes pad with OpenCV's matching border
    types before the convolution. Returns float32 (H', W', C) with C = 3 or 1. The values are not
    clipped: a sharpen kernel can exceed 1 and an edge kernel gives negative values.

    Raises ``LocalizedError`` for an unknown mode or parameters that leave no output.
    """
    if color_mode not in COLOR_MODES:
        raise LocalizedError("conv.error.color_mode", mode=color_mode, modes=", ".join(COLOR_MODES))
    if color_mode == "grayscale":
        image = to_grayscale(image)
    if padding_mode != "zeros" and padding > 0:
        # Pad the uint8 image with OpenCV, because F.pad's reflect and circular modes are
        # slow on a channels-last tensor. These border types give F.pad's values exactly.
        kernel_height, kernel_width = np.shape(kernel)
        conv_output_size(image.shape[0], kernel_height, stride, padding, dilation)
        conv_output_size(image.shape[1], kernel_width, stride, padding, dilation)
        _check_padding_mode(padding_mode, padding, image.shape[0], image.shape[1])
        border = _CV2_BORDERS[padding_mode]
        image = cv2.copyMakeBorder(image, padding, padding, padding, padding, border)
        padding = 0
    if image.ndim == 2:
        image = image[:, :, None]  # (H, W) -> (H, W, 1)

    channels = image.shape[2]
    # Keep NumPy's (H, W, C) memory order, so the permuted tensor has channels-last
    # strides. PyTorch's CPU depthwise conv2d runs about twice as fast on it as on a
    # contiguous NCHW copy (bench/image_ops.py), and the result permutes back without a copy.
    x = torch.tensor(image)[None].to(torch.float32).div_(255.0)  # (1, H, W, C), a copy
    x = x.permute(0, 3, 1, 2)  # (1, H, W, C) -> (1, C, H, W), channels-last strides
    weight = torch.tensor(np.asarray(kernel), dtype=torch.float32)
    weight = weight.expand(channels, 1, *weight.shape).contiguous()  # (C, 1, kh, kw)

    output = _conv2d(x, weight, stride, padding, padding_mode, dilation, groups=channels)
    return output[0].permute(1, 2, 0).numpy()  # (1, C, H', W') -> (H', W', C)


def conv2d_gray(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    padding_mode: str = "zeros",
    dilation: int = 1,
) -> np.ndarray:
    """Convolve a 2-D float array (H, W) with a kernel (kh, kw) through ``F.conv2d``.

    Works in float64, in the units of ``x`` (the step-by-step view uses 0–255 gray values).
    Returns float64 (H', W'). This is the reference the hand-written version is checked against.
    """
    tensor = torch.tensor(np.asarray(x), dtype=torch.float64)[None, None]  # (1, 1, H, W)
    weight = torch.tensor(np.asarray(kernel), dtype=torch.float64)[None, None]
    output = _conv2d(tensor, weight, stride, padding, padding_mode, dilation)
    return output[0, 0].numpy()


@dataclass(frozen=True)
class DisplayImage:
    """A filter result mapped into [0, 1] for ``st.image``, and which range was mapped."""

    image: np.ndarray  # float32 (H, W, C) in [0, 1]
    low: float  # value shown as black
    high: float  # value shown as white
    method: str  # one of DISPLAY_METHODS


def suggest_display_method(result: np.ndarray) -> str:
    """Pick a display mapping: ``abs`` for signed results, ``clip`` when already in [0, 1], else ``minmax``."""
    if float(result.min()) < -1e-6:
        return "abs"
    if float(result.max()) <= 1.0 + 1e-6:
        return "clip"
    return "minmax"


def to_display(result: np.ndarray, method: str) -> DisplayImage:
    """Map a filter result into [0, 1] for display.

    ``clip`` keeps the input image's range: values below 0 show black, above 1 white.
    ``abs`` shows |value| from 0 (black) to the largest |value| (white), so positive and
    negative edges look alike. ``minmax`` stretches the smallest value to black and the
    largest to white. A constant result maps to black.
    """
    result = np.asarray(result, dtype=np.float32)
    if method == "clip":
        low, high = 0.0, 1.0
        values = result
    elif method == "abs":
        values = np.abs(result)
        low, high = 0.0, float(values.max())
    elif method == "minmax":
        values = result
        low, high = float(result.min()), float(result.max())
    else:
        raise LocalizedError(
            "conv.error.display_method", method=method, methods=", ".join(DISPLAY_METHODS)
        )

    if high - low <= 1e-12:
        return DisplayImage(np.zeros_like(result), low, high, method)
    image = np.clip((values - low) / (high - low), 0.0, 1.0).astype(np.float32)
    return DisplayImage(image=image, low=low, high=high, method=method)


def pad_2d(x: np.ndarray, padding: int, padding_mode: str = "zeros") -> np.ndarray:
    """Pad a 2-D array by ``padding`` on every side with NumPy (zeros, reflect, replicate, circular).

    Returns float64 (H + 2p, W + 2p). The modes match PyTorch's: ``reflect`` mirrors without
    repeating the edge pixel, ``replicate`` repeats it, ``circular`` wraps around.
    """
    x = np.asarray(x, dtype=np.float64)
    _check_padding_mode(padding_mode, padding, *x.shape)
    if padding == 0:
        return x.copy()
    return np.pad(x, padding, mode=_NUMPY_PAD_MODES[padding_mode])


@dataclass(frozen=True)
class ConvWindow:
    """The input window, products and sum behind one output value."""

    row: int  # output row
    col: int  # output column
    rows: np.ndarray  # int (kh,): rows of the padded input under the kernel's taps
    cols: np.ndarray  # int (kw,): columns of the padded input under the kernel's taps
    window: np.ndarray  # float64 (kh, kw): the input values under the taps
    products: np.ndarray  # float64 (kh, kw): window * kernel, element by element
    total: float  # sum of the products: the output value at (row, col)


def conv_window(
    padded: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1, dilation: int = 1
) -> ConvWindow:
    """Compute one output value of a convolution by hand, keeping every intermediate step.

    ``padded`` is the already padded 2-D input (see ``pad_2d``) and ``kernel`` is (kh, kw).
    The window's top-left tap sits at (row * stride, col * stride) of the padded input and
    the taps are ``dilation`` pixels apart.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    kernel_height, kernel_width = kernel.shape

    top = row * stride
    left = col * stride
    rows = top + dilation * np.arange(kernel_height)
    cols = left + dilation * np.arange(kernel_width)

    window = padded[np.ix_(rows, cols)]  # (kh, kw)
    products = window * kernel
    total = float(products.sum())
    return ConvWindow(row, col, rows, cols, window, products, total)


def naive_conv2d(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    padding_mode: str = "zeros",
    dilation: int = 1,
) -> np.ndarray:
    """Convolve a 2-D array (H, W) with a kernel (kh, kw) one output position at a time.

    Pads with ``pad_2d`` and calls ``conv_window`` for every output position. Returns
    float64 (H', W'), equal to ``conv2d_gray`` up to rounding.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    kernel_height, kernel_width = kernel.shape
    out_height = conv_output_size(x.shape[0], kernel_height, stride, padding, dilation)
    out_width = conv_output_size(x.shape[1], kernel_width, stride, padding, dilation)
    padded = pad_2d(x, padding, padding_mode)

    output = np.empty((out_height, out_width))
    for row in range(out_height):
        for col in range(out_width):
            output[row, col] = conv_window(padded, kernel, row, col, stride, dilation).total
    return output
