"""Max and average pooling: through PyTorch, and by hand one window at a time.

Pooling windows are square (kernel × kernel) and move ``stride`` pixels. ``padding`` adds
a border that max pooling treats as −∞ and average pooling as 0. As with PyTorch's default
``ceil_mode=False``, no window starts in the padding after the last full step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.convolution import conv_output_size
from cnnlab.errors import LocalizedError

POOL_KINDS = ("max", "avg")


def pool_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Return the pooled length along one axis: floor((size + 2p − k) / s) + 1.

    Raises ``LocalizedError`` when ``padding`` exceeds half the kernel, which PyTorch rejects
    because a window could then lie entirely in the padding.
    """
    if padding > kernel // 2:
        raise LocalizedError("conv.error.pool_padding", padding=padding, kernel=kernel)
    return conv_output_size(size, kernel, stride, padding)


def _check_kind(kind: str) -> None:
    if kind not in POOL_KINDS:
        raise LocalizedError("conv.error.pool_kind", kind=kind, kinds=", ".join(POOL_KINDS))


def pool2d(
    x: np.ndarray,
    kind: str,
    kernel: int,
    stride: int,
    padding: int = 0,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Pool a float array (H, W) or (H, W, C) with ``F.max_pool2d`` or ``F.avg_pool2d``.

    With ``count_include_pad`` (average pooling only), every window is divided by kernel²,
    padding included. Without it, each window is divided by its number of real input pixels.
    Returns float64 (H', W') or (H', W', C) in the units of ``x``.
    """
    _check_kind(kind)
    x = np.asarray(x, dtype=np.float64)
    pool_output_size(x.shape[0], kernel, stride, padding)
    pool_output_size(x.shape[1], kernel, stride, padding)

    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]  # (H, W) -> (H, W, 1)
    tensor = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]  # (1, C, H, W)

    if kind == "max":
        output = F.max_pool2d(tensor, kernel, stride, padding)
    else:
        output = F.avg_pool2d(tensor, kernel, stride, padding, count_include_pad=count_include_pad)
    output = output[0].permute(1, 2, 0).numpy()  # (1, C, H', W') -> (H', W', C)
    return output[:, :, 0] if squeeze else output


@dataclass(frozen=True)
class PoolWindow:
    """The cells of one pooling window and the value pooled from them."""

    row: int  # output row
    col: int  # output column
    rows: np.ndarray  # int (k,): rows of the padded input in the window
    cols: np.ndarray  # int (k,): columns of the padded input in the window
    window: np.ndarray  # float64 (k, k): values, with NaN where the window covers padding
    inside: np.ndarray  # bool (k, k): True where the window covers a real input pixel
    value: float  # the pooled output at (row, col)
    divisor: int  # average pooling: the count the sum was divided by; max pooling: 1
    argmax: tuple[int, int] | None  # max pooling: (r, c) of the winner inside the window


def pool_window(
    x: np.ndarray,
    kind: str,
    kernel: int,
    stride: int,
    row: int,
    col: int,
    padding: int = 0,
    count_include_pad: bool = True,
) -> PoolWindow:
    """Compute one pooled value by hand, keeping the window it came from.

    ``x`` is the unpadded 2-D input (H, W). Padding is never the maximum (it counts as
    −∞). For average pooling it adds 0 to the sum, and ``count_include_pad`` decides
    whether it counts in the divisor. Ties in max pooling go to the first maximum in
    row-major order.
    """
    _check_kind(kind)
    x = np.asarray(x, dtype=np.float64)
    padded = np.pad(x, padding, constant_values=np.nan)  # (H+2p, W+2p), NaN marks padding

    rows = row * stride + np.arange(kernel)
    cols = col * stride + np.arange(kernel)
    window = padded[np.ix_(rows, cols)]  # (k, k)
    inside = ~np.isnan(window)

    if kind == "max":
        flat_index = int(np.argmax(np.where(inside, window, -np.inf)))
        argmax = divmod(flat_index, kernel)
        return PoolWindow(row, col, rows, cols, window, inside, float(window[argmax]), 1, argmax)

    divisor = kernel * kernel if count_include_pad else int(inside.sum())
    value = float(window[inside].sum()) / divisor
    return PoolWindow(row, col, rows, cols, window, inside, value, divisor, None)


def naive_pool2d(
    x: np.ndarray,
    kind: str,
    kernel: int,
    stride: int,
    padding: int = 0,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Pool a 2-D array (H, W) window by window with ``pool_window``; returns float64 (H', W')."""
    out_height = pool_output_size(x.shape[0], kernel, stride, padding)
    out_width = pool_output_size(x.shape[1], kernel, stride, padding)
    output = np.empty((out_height, out_width))
    for row in range(out_height):
        for col in range(out_width):
            window = pool_window(x, kind, kernel, stride, row, col, padding, count_include_pad)
            output[row, col] = window.value
    return output


def pool_image(
    image: np.ndarray,
    kind: str,
    kernel: int,
    stride: int,
    padding: int = 0,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Pool a uint8 image (H, W, 3) RGB or (H, W) gray in [0, 255], channel by channel.

    Returns float64 (H', W', C) or (H', W') in [0, 1], ready for ``st.image``.
    """
    return pool2d(
        image.astype(np.float64) / 255.0, kind, kernel, stride, padding, count_include_pad
    )
