"""Classic image-processing kernels, kernel normalization, and matching learned filters to them.

Every kernel here is a float64 NumPy array of shape (kh, kw) used the way PyTorch and
``cv2.filter2D`` use it: as a cross-correlation weight, with no flip.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from cnnlab.errors import LocalizedError

log = logging.getLogger(__name__)

# Kernels that exist at any odd size; the others are defined at 3×3.
SIZED_PRESETS = ("identity", "box", "gaussian")
FIXED_PRESETS = (
    "sharpen",
    "sobel_x",
    "sobel_y",
    "scharr_x",
    "scharr_y",
    "laplacian",
    "emboss",
    "outline",
)
PRESET_NAMES = SIZED_PRESETS + FIXED_PRESETS

_FIXED_3X3 = {
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    # Same signs as cv2.Sobel / cv2.Scharr with dx=1 (x) or dy=1 (y): positive where the
    # image gets brighter to the right (x) or downwards (y).
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "scharr_x": [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]],
    "scharr_y": [[-3, -10, -3], [0, 0, 0], [3, 10, 3]],
    # The 4-neighbour Laplacian, as cv2.Laplacian with ksize=1.
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}

ZERO_SUM_TOLERANCE = 1e-9


def preset_kernel(name: str, size: int = 3, sigma: float = 1.0) -> np.ndarray:
    """Build the preset kernel ``name`` as a float64 array of shape (size, size).

    ``identity``, ``box`` and ``gaussian`` exist at every odd size. ``box`` is all ones, and
    ``gaussian`` is exp(-(x² + y²) / (2 sigma²)) with 1 at the centre. Both are left
    unnormalized so that the normalize option has a visible effect. The other presets are
    3×3. At a larger size they sit in the centre of a zero border, which computes the same
    result as the 3×3 kernel.

    Raises ``LocalizedError`` for an unknown name, an even or non-positive size, a fixed
    3×3 preset asked at size 1, or a non-positive sigma.
    """
    if name not in PRESET_NAMES:
        raise LocalizedError("conv.error.unknown_preset", name=name, names=", ".join(PRESET_NAMES))
    if size < 1 or size % 2 == 0:
        raise LocalizedError("conv.error.preset_size", size=size)

    if name == "identity":
        kernel = np.zeros((size, size))
        kernel[size // 2, size // 2] = 1.0
        return kernel
    if name == "box":
        return np.ones((size, size))
    if name == "gaussian":
        if sigma <= 0:
            raise LocalizedError("conv.error.sigma", sigma=sigma)
        offsets = np.arange(size) - size // 2
        squared_distance = offsets[:, None] ** 2 + offsets[None, :] ** 2  # (size, size)
        return np.exp(-squared_distance / (2.0 * sigma**2))

    if size < 3:
        raise LocalizedError("conv.error.preset_size", size=size)
    border = (size - 3) // 2
    return np.pad(np.array(_FIXED_3X3[name], dtype=np.float64), border)


@dataclass(frozen=True)
class NormalizedKernel:
    """A kernel after the normalize option, and whether it was divided by its sum."""

    kernel: np.ndarray  # float64 (kh, kw)
    kernel_sum: float  # sum of the kernel before normalization
    divided: bool  # False when the sum is zero (within ZERO_SUM_TOLERANCE): kernel unchanged


def normalize_kernel(kernel: np.ndarray) -> NormalizedKernel:
    """Divide ``kernel`` by the sum of its weights, unless that sum is zero.

    A kernel whose weights sum to 1 keeps the average brightness of a flat region. Edge
    kernels (Sobel, Laplacian, outline) sum to 0 and are returned unchanged with
    ``divided=False``, so the page can explain why nothing changed.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    total = float(kernel.sum())
    if abs(total) <= ZERO_SUM_TOLERANCE:
        return NormalizedKernel(kernel=kernel.copy(), kernel_sum=total, divided=False)
    return NormalizedKernel(kernel=kernel / total, kernel_sum=total, divided=True)


def classic_kernels(size: int = 3, sigma: float = 1.0) -> dict[str, np.ndarray]:
    """Return every preset except ``identity`` at ``size`` × ``size``, normalized where possible.

    These are the references that learned filters are compared with. ``identity`` is left out
    because any filter with a strong centre weight would match it without telling anything.
    """
    return {
        name: normalize_kernel(preset_kernel(name, size, sigma)).kernel
        for name in PRESET_NAMES
        if name != "identity"
    }


def resize_kernel(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resample a 2-D kernel to ``shape`` = (kh, kw) with bilinear interpolation.

    Uses ``cv2.resize`` with ``INTER_LINEAR``, which maps pixel centres onto pixel centres,
    so a 3×3 Sobel becomes a smooth 5×5 ramp with the same sign pattern instead of a 3×3
    core with a zero border. The overall scale changes, which cosine similarity ignores.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.shape == tuple(shape):
        return kernel.copy()
    height, width = shape
    return cv2.resize(kernel, (width, height), interpolation=cv2.INTER_LINEAR)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Return the cosine of the angle between two same-shaped arrays, 0.0 if either is all zero."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0.0:
        return 0.0
    return float(np.dot(a, b) / norms)


@dataclass(frozen=True)
class FilterMatch:
    """The classic kernel that one learned filter resembles most."""

    index: int  # output channel of the learned layer
    filter_2d: np.ndarray  # float64 (kh, kw): the learned weights averaged over input channels
    best_name: str  # key of the most similar classic kernel
    similarity: float  # signed cosine similarity with it, in [-1, 1]
    similarities: dict[str, float]  # signed cosine similarity with every classic kernel


def match_learned_filters(
    weights: np.ndarray | torch.Tensor, classic: Mapping[str, np.ndarray]
) -> list[FilterMatch]:
    """Find, for each learned first-layer filter, the most similar classic kernel.

    ``weights`` has shape (O, C, kh, kw), as ``nn.Conv2d.weight``. Each filter is first
    averaged over its C input channels. For a gray image copied into every channel, the
    filter's response is C times the response of that average, so the average acts as the
    filter of a grayscale input. Classic kernels of another size are resampled to
    (kh, kw) with ``resize_kernel``.

    The ranking uses the absolute cosine similarity, because a kernel and its negative
    detect the same pattern with opposite sign. ``similarity`` keeps the sign. Results are
    in the order of the output channels.

    Raises ``LocalizedError`` when ``weights`` is not 4-D, a kernel side is smaller than 2
    (a 1×1 filter only mixes colours and has no spatial pattern), or ``classic`` is empty.
    """
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().to("cpu", torch.float64).numpy()
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 4:
        raise LocalizedError("conv.error.match_shape", shape=str(weights.shape))
    kernel_height, kernel_width = weights.shape[2:]
    if kernel_height < 2 or kernel_width < 2:
        raise LocalizedError("conv.error.match_too_small", height=kernel_height, width=kernel_width)
    if not classic:
        raise LocalizedError("conv.error.match_no_classic")

    filters = weights.mean(axis=1)  # (O, C, kh, kw) -> (O, kh, kw)
    references = {
        name: resize_kernel(kernel, (kernel_height, kernel_width))
        for name, kernel in classic.items()
    }

    matches = []
    for index, learned in enumerate(filters):
        similarities = {
            name: cosine_similarity(learned, reference) for name, reference in references.items()
        }
        best_name = max(similarities, key=lambda name: abs(similarities[name]))
        matches.append(
            FilterMatch(
                index=index,
                filter_2d=learned,
                best_name=best_name,
                similarity=similarities[best_name],
                similarities=similarities,
            )
        )
    log.debug("matched %d learned filters against %d classic kernels", len(matches), len(classic))
    return matches
