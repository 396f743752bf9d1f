"""Color-space conversions through OpenCV, as taught on the "Color spaces" page.

Every function takes RGB (never BGR) uint8 images of shape (H, W, 3) unless its docstring
states otherwise. ``convert`` returns OpenCV's 8-bit encoding of each space, and
``convert_float`` the textbook units that OpenCV returns for float32 input in [0, 1].
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from plotly.colors import sample_colorscale, unlabel_rgb

from cnnlab.imageio import composite_on_background

DIVERGING_SCALE = "RdBu_r"  # the app's scale for signed values; chroma is signed around 128


@dataclass(frozen=True)
class ChannelSpec:
    """One channel of a color space and how to draw it."""

    symbol: str  # as OpenCV orders and textbooks write it: "H", "Cr", "a"
    kind: str  # "hue" (cyclic), "signed" (chroma, neutral at 128) or "level"
    high: int  # largest 8-bit value: 179 for OpenCV's hue, else 255
    float_range: tuple[float, float]  # range of convert_float's output for RGB in [0, 1]


@dataclass(frozen=True)
class SpaceSpec:
    """A color space: its OpenCV conversion code from RGB and its channels in order."""

    name: str
    code: int  # cv2.COLOR_RGB2...
    channels: tuple[ChannelSpec, ...]


def _level(symbol: str, high: float = 1.0) -> ChannelSpec:
    return ChannelSpec(symbol, "level", 255, (0.0, high))


def _hue() -> ChannelSpec:
    return ChannelSpec("H", "hue", 179, (0.0, 360.0))


def _chroma(symbol: str, low: float, high: float) -> ChannelSpec:
    return ChannelSpec(symbol, "signed", 255, (low, high))


# Float ranges of the chroma channels follow from the BT.601 coefficients below: for
# example U = 0.492 (B - Y) + 0.5 lies in 0.5 +- 0.492 * 0.886. Lab's a and b bounds are
# the extremes that sRGB colors reach.
SPACES: dict[str, SpaceSpec] = {
    "rgb": SpaceSpec("RGB", -1, (_level("R"), _level("G"), _level("B"))),
    "hsv": SpaceSpec("HSV", cv2.COLOR_RGB2HSV, (_hue(), _level("S"), _level("V"))),
    "hls": SpaceSpec("HLS", cv2.COLOR_RGB2HLS, (_hue(), _level("L"), _level("S"))),
    "yuv": SpaceSpec(
        "YUV",
        cv2.COLOR_RGB2YUV,
        (_level("Y"), _chroma("U", 0.064, 0.936), _chroma("V", -0.115, 1.115)),
    ),
    "ycrcb": SpaceSpec(
        "YCrCb",
        cv2.COLOR_RGB2YCrCb,
        (_level("Y"), _chroma("Cr", 0.0, 1.0), _chroma("Cb", 0.0, 1.0)),
    ),
    "lab": SpaceSpec(
        "Lab",
        cv2.COLOR_RGB2Lab,
        (_level("L", 100.0), _chroma("a", -86.2, 98.3), _chroma("b", -107.9, 94.5)),
    ),
    "gray": SpaceSpec("Gray", cv2.COLOR_RGB2GRAY, (_level("Y"),)),
}


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Return uint8 RGB (H, W, 3) from gray (H, W), (H, W, 1), RGB or RGBA (H, W, 4).

    RGBA is composited onto white first: ``cv2.cvtColor(rgba, cv2.COLOR_RGB2HSV)`` would
    accept 4 channels and silently ignore the 4th, so transparent pixels would keep
    whatever color they hide.
    """
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)  # (H, W) -> (H, W, 3)
    if image.ndim == 3 and image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return composite_on_background(image)
    raise ValueError(f"expected shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")


def convert(rgb: np.ndarray, space: str) -> np.ndarray:
    """Convert RGB to ``space`` in OpenCV's 8-bit encoding; returns uint8 (H, W, C).

    Hue is 0-179 (degrees / 2, so it fits a byte). Lab is (L * 255 / 100, a + 128, b + 128).
    U, V, Cr and Cb are offset by 128, so 128 means "no color". Gray has C = 1.
    """
    spec = SPACES[space]
    rgb = as_rgb(rgb)
    if space == "rgb":
        return rgb.copy()
    converted = cv2.cvtColor(rgb, spec.code)
    return converted[:, :, None] if converted.ndim == 2 else converted  # gray: (H, W) -> (H, W, 1)


def convert_float(rgb: np.ndarray, space: str) -> np.ndarray:
    """Convert RGB to ``space`` in textbook units; returns float32 (H, W, C).

    OpenCV's float32 input is RGB / 255 in [0, 1]. Hue is then in degrees 0-360, S, V, L
    (of HLS) and Y in [0, 1], Lab's L in 0-100 with signed a and b, and U, V, Cr, Cb are
    offset by 0.5 (ranges in ``SPACES``).
    """
    spec = SPACES[space]
    scaled = as_rgb(rgb).astype(np.float32) / 255.0
    if space == "rgb":
        return scaled
    converted = cv2.cvtColor(scaled, spec.code)
    return converted[:, :, None] if converted.ndim == 2 else converted


def pixel_values(rgb: np.ndarray, x: int, y: int) -> list[dict[str, object]]:
    """Return the pixel at column ``x``, row ``y`` in every space, one row per channel.

    Each row has ``space`` (a key of ``SPACES``), ``channel`` (its symbol), ``uint8``
    (OpenCV 8-bit) and ``float`` (textbook units). Only the 1x1 neighbourhood is converted, which gives the same numbers because
    every conversion here is per pixel.
    """
    height, width = rgb.shape[:2]
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"pixel ({x}, {y}) is outside the {width}x{height} image")
    pixel = as_rgb(rgb)[y : y + 1, x : x + 1]  # (1, 1, 3)

    rows = []
    for space, spec in SPACES.items():
        eight_bit = convert(pixel, space)[0, 0]
        textbook = convert_float(pixel, space)[0, 0]
        for index, channel in enumerate(spec.channels):
            rows.append(
                {
                    "space": space,
                    "channel": channel.symbol,
                    "uint8": int(eight_bit[index]),
                    "float": float(textbook[index]),
                }
            )
    return rows


def histogram(channel: np.ndarray, high: int = 255) -> np.ndarray:
    """Count each value 0..high of a uint8 (H, W) channel; returns int64 (high + 1,)."""
    return np.bincount(channel.ravel(), minlength=high + 1)[: high + 1]


@functools.cache
def _hue_lut() -> np.ndarray:
    # OpenCV 8-bit hue h drawn at full saturation and value: (256, 3) uint8 RGB. Values
    # above 179 do not occur in OpenCV output; they wrap like angles.
    hues = (np.arange(256) % 180).astype(np.uint8)
    hsv = np.stack([hues, np.full(256, 255, np.uint8), np.full(256, 255, np.uint8)], axis=1)
    return cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0]  # (1, 256, 3) -> (256, 3)


@functools.cache
def _diverging_lut() -> np.ndarray:
    # The app's RdBu_r scale sampled at 256 points: 0 blue, 128 near white, 255 red.
    colors = sample_colorscale(DIVERGING_SCALE, np.linspace(0.0, 1.0, 256).tolist())
    return (
        np.array([unlabel_rgb(color) for color in colors], dtype=np.float64)
        .round()
        .astype(np.uint8)
    )


def colorize(channel: np.ndarray, kind: str) -> np.ndarray:
    """Draw a uint8 (H, W) channel as uint8 RGB (H, W, 3) with the colormap for ``kind``.

    "hue": each value shown as its hue at full saturation (cyclic, so 0 and 179 touch).
    "signed": RdBu_r, 128 white, lower values blue, higher red. "level": gray.
    The returned arrays are new; the cached lookup tables are only read.
    """
    if kind == "hue":
        return _hue_lut()[channel]
    if kind == "signed":
        return _diverging_lut()[channel]
    if kind == "level":
        return np.repeat(channel[:, :, None], 3, axis=2)
    raise ValueError(f"unknown channel kind {kind!r}; expected 'hue', 'signed' or 'level'")


def hue_in_range(hue: np.ndarray, low: int, high: int) -> np.ndarray:
    """Return a bool mask of 8-bit hues within [low, high], wrapping through red.

    With low > high the range wraps: low=170, high=10 selects 170..179 and 0..10, the reds
    on both ends of OpenCV's 0-179 hue scale.
    """
    if low <= high:
        return (hue >= low) & (hue <= high)
    return (hue >= low) | (hue <= high)


def hsv_mask(
    rgb: np.ndarray,
    hue: tuple[int, int],
    saturation: tuple[int, int],
    value: tuple[int, int],
) -> np.ndarray:
    """Return a bool (H, W) mask of pixels whose OpenCV 8-bit HSV lies in all three ranges.

    ``hue`` is (low, high) in 0-179 and may wrap (low > high). ``saturation`` and ``value``
    are inclusive (low, high) ranges in 0-255.
    """
    hsv = convert(rgb, "hsv")
    sv_inside = cv2.inRange(
        hsv, (0, saturation[0], value[0]), (179, saturation[1], value[1])
    )  # (H, W) uint8, 255 where S and V are in range
    return hue_in_range(hsv[:, :, 0], *hue) & (sv_inside > 0)


def apply_mask(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Keep the pixels where ``mask`` is True and set the rest to black; uint8 (H, W, 3)."""
    return np.where(mask[:, :, None], as_rgb(rgb), np.uint8(0))


def shift_hue_saturation(
    rgb: np.ndarray, hue_degrees: float, saturation_scale: float
) -> np.ndarray:
    """Rotate every hue by ``hue_degrees`` and scale saturation, then return uint8 RGB.

    Works in float HSV (hue in degrees) so a rotation is not rounded to OpenCV's 2-degree
    8-bit steps. Saturation is clipped to [0, 1]; value is unchanged.
    """
    hsv = convert_float(rgb, "hsv")
    hsv[:, :, 0] = np.mod(hsv[:, :, 0] + hue_degrees, 360.0)
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * saturation_scale, 0.0, 1.0)
    back = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(np.rint(back * 255.0), 0, 255).astype(np.uint8)


def swap_red_blue(rgb: np.ndarray) -> np.ndarray:
    """Reverse the channel order (RGB <-> BGR); uint8 (H, W, 3), C-contiguous.

    This is what an RGB array looks like to code that expects BGR (``cv2.imshow``,
    ``cv2.imwrite``, ``st.image(..., channels="BGR")``): red and blue trade places.
    """
    return np.ascontiguousarray(as_rgb(rgb)[:, :, ::-1])


def hsv_read_as_bgr(rgb: np.ndarray) -> np.ndarray:
    """Return 8-bit HSV computed with the wrong flag: RGB data passed as BGR.

    The mistake ``cv2.cvtColor(rgb, cv2.COLOR_BGR2HSV)`` is common after reading a file
    with Pillow (RGB) and converting it with code written for ``cv2.imread`` (BGR). Red
    then reads as hue 120 (blue) and blue as 0 (red); green stays 60.
    """
    return cv2.cvtColor(as_rgb(rgb), cv2.COLOR_BGR2HSV)


def hue_strip(low: int, high: int, height: int = 16) -> np.ndarray:
    """Draw OpenCV's 8-bit hue scale 0..179 as uint8 RGB (height, 180, 3).

    Hues inside [low, high] (wrapping like ``hue_in_range``) are at full brightness, the
    others at a quarter, so the strip shows which colors a threshold selects.
    """
    hues = np.arange(180, dtype=np.uint8)
    colors = _hue_lut()[hues].astype(np.float32)  # (180, 3)
    selected = hue_in_range(hues, low, high)
    colors[~selected] *= 0.25
    return np.repeat(colors.astype(np.uint8)[None], height, axis=0)  # (180, 3) -> (height, 180, 3)


def mark_pixel(rgb: np.ndarray, x: int, y: int) -> np.ndarray:
    """Return a copy of uint8 RGB (H, W, 3) with a crosshair around pixel (x, y).

    The crosshair is black with a white outline, so it shows on dark and light areas. Its
    size grows with the image, so it stays visible after the page shrinks the picture.
    """
    marked = as_rgb(rgb).copy()
    size = max(15, max(marked.shape[:2]) // 10)
    thickness = max(1, size // 12)
    cv2.drawMarker(marked, (x, y), (255, 255, 255), cv2.MARKER_CROSS, size, thickness + 2)
    cv2.drawMarker(marked, (x, y), (0, 0, 0), cv2.MARKER_CROSS, size, thickness)
    return marked
