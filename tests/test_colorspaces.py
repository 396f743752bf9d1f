"""The color-space formulas on the page, recomputed in NumPy and compared with OpenCV."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from cnnlab.colorspaces import (
    SPACES,
    apply_mask,
    as_rgb,
    colorize,
    convert,
    convert_float,
    histogram,
    hsv_mask,
    hsv_read_as_bgr,
    hue_in_range,
    hue_strip,
    mark_pixel,
    pixel_values,
    shift_hue_saturation,
    swap_red_blue,
)


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    """2,000 random colors plus the 8 corners of the RGB cube, as a (1, N, 3) uint8 image."""
    rng = np.random.default_rng(42)
    random = rng.integers(0, 256, (2000, 3), dtype=np.uint8)
    corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)])
    return np.concatenate([random, corners.astype(np.uint8)])[None]


def split(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = rgb.astype(np.float64)
    return values[..., 0], values[..., 1], values[..., 2]


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B."""
    r, g, b = split(rgb)
    return 0.299 * r + 0.587 * g + 0.114 * b


def hue_degrees(rgb: np.ndarray) -> np.ndarray:
    """Hue in degrees 0-360 from the piecewise max/min formula; 0 for grays."""
    r, g, b = split(rgb)
    high = np.maximum(np.maximum(r, g), b)
    delta = high - np.minimum(np.minimum(r, g), b)
    safe = np.where(delta == 0, 1.0, delta)
    hue = np.where(
        high == r,
        60.0 * (g - b) / safe,
        np.where(high == g, 120.0 + 60.0 * (b - r) / safe, 240.0 + 60.0 * (r - g) / safe),
    )
    return np.where(delta == 0, 0.0, np.mod(hue, 360.0))


def reference_hsv(rgb: np.ndarray) -> np.ndarray:
    """OpenCV 8-bit HSV: (H / 2, 255 * (max - min) / max, max)."""
    r, g, b = split(rgb)
    high = np.maximum(np.maximum(r, g), b)
    delta = high - np.minimum(np.minimum(r, g), b)
    saturation = np.where(high == 0, 0.0, 255.0 * delta / np.where(high == 0, 1.0, high))
    return np.stack([hue_degrees(rgb) / 2.0, saturation, high], axis=-1)


def reference_hls(rgb: np.ndarray) -> np.ndarray:
    """OpenCV 8-bit HLS: L = (max + min) / 2, S = delta / (1 - |2L - 1|) on the 0-1 scale."""
    r, g, b = (channel / 255.0 for channel in split(rgb))
    high = np.maximum(np.maximum(r, g), b)
    low = np.minimum(np.minimum(r, g), b)
    lightness = (high + low) / 2.0
    denominator = 1.0 - np.abs(2.0 * lightness - 1.0)
    saturation = np.where(
        high == low, 0.0, (high - low) / np.where(denominator == 0, 1.0, denominator)
    )
    return np.stack([hue_degrees(rgb) / 2.0, 255.0 * lightness, 255.0 * saturation], axis=-1)


def reference_ycrcb(rgb: np.ndarray) -> np.ndarray:
    """BT.601: Cr = 0.713 (R - Y) + 128, Cb = 0.564 (B - Y) + 128, in OpenCV's order Y, Cr, Cb."""
    r, _, b = split(rgb)
    y = luma(rgb)
    return np.stack([y, 0.713 * (r - y) + 128.0, 0.564 * (b - y) + 128.0], axis=-1)


def reference_yuv(rgb: np.ndarray) -> np.ndarray:
    """BT.601 YUV: U = 0.492 (B - Y) + 128, V = 0.877 (R - Y) + 128."""
    r, _, b = split(rgb)
    y = luma(rgb)
    return np.stack([y, 0.492 * (b - y) + 128.0, 0.877 * (r - y) + 128.0], axis=-1)


def reference_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65 white) from sRGB, in textbook units: L 0-100, signed a and b."""
    srgb = rgb.astype(np.float64) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [
            [0.412453, 0.357580, 0.180423],
            [0.212671, 0.715160, 0.072169],
            [0.019334, 0.119193, 0.950227],
        ]
    )
    xyz = linear @ to_xyz.T
    white = np.array([0.950456, 1.0, 1.088754])
    t = xyz / white
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def hue_difference(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    difference = np.abs(a - b) % period
    return np.minimum(difference, period - difference)


def test_hsv_matches_formula(pixels):
    ours = convert(pixels, "hsv").astype(np.float64)
    expected = reference_hsv(pixels)
    assert hue_difference(ours[..., 0], expected[..., 0], 180.0).max() <= 1.0
    assert np.abs(ours[..., 1] - expected[..., 1]).max() <= 1.0
    assert np.abs(ours[..., 2] - expected[..., 2]).max() == 0


def test_hsv_float_hue_in_degrees(pixels):
    ours = convert_float(pixels, "hsv").astype(np.float64)
    assert hue_difference(ours[..., 0], hue_degrees(pixels), 360.0).max() < 0.01
    assert ours[..., 0].max() > 300.0  # float hue goes past 179: degrees, not halves
    assert convert(pixels, "hsv")[..., 0].max() <= 179


def test_hls_matches_formula(pixels):
    ours = convert(pixels, "hls").astype(np.float64)
    expected = reference_hls(pixels)
    assert hue_difference(ours[..., 0], expected[..., 0], 180.0).max() <= 1.0
    assert np.abs(ours[..., 1] - expected[..., 1]).max() <= 1.0
    assert np.abs(ours[..., 2] - expected[..., 2]).max() <= 1.0


def test_ycrcb_matches_bt601(pixels):
    ours = convert(pixels, "ycrcb").astype(np.float64)
    expected = np.clip(reference_ycrcb(pixels), 0, 255)
    assert np.abs(ours - expected).max() <= 1.0


def test_yuv_matches_bt601(pixels):
    ours = convert(pixels, "yuv").astype(np.float64)
    expected = np.clip(reference_yuv(pixels), 0, 255)  # 8-bit V saturates for strong reds
    assert np.abs(ours - expected).max() <= 1.0


def test_gray_matches_luma(pixels):
    ours = convert(pixels, "gray").astype(np.float64)
    assert ours.shape == (1, pixels.shape[1], 1)
    assert np.abs(ours[..., 0] - luma(pixels)).max() <= 1.0


def test_lab_float_matches_cie(pixels):
    ours = convert_float(pixels, "lab").astype(np.float64)
    assert np.abs(ours - reference_lab(pixels)).max() < 0.5


def test_lab_eight_bit_scaling(pixels):
    # OpenCV's 8-bit Lab goes through lookup tables, so allow 2 levels of rounding.
    ours = convert(pixels, "lab").astype(np.float64)
    lab = reference_lab(pixels)
    expected = np.stack(
        [lab[..., 0] * 255.0 / 100.0, lab[..., 1] + 128.0, lab[..., 2] + 128.0], axis=-1
    )
    assert np.abs(ours - np.clip(expected, 0, 255)).max() <= 2.0


def test_float_ranges_cover_cube_corners(pixels):
    for name, spec in SPACES.items():
        values = convert_float(pixels, name)
        for index, channel in enumerate(spec.channels):
            low, high = channel.float_range
            assert values[..., index].min() >= low - 0.01, (name, channel.symbol)
            assert values[..., index].max() <= high + 0.01, (name, channel.symbol)


def test_rgba_flattened_before_converting():
    # A fully transparent pixel whose hidden color is red must become white, not red.
    rgba = np.array([[[255, 0, 0, 0]]], dtype=np.uint8)
    assert as_rgb(rgba).tolist() == [[[255, 255, 255]]]
    assert convert(rgba, "hsv")[0, 0].tolist() == [0, 0, 255]


def test_as_rgb_rejects_float_and_bad_shape():
    with pytest.raises(ValueError):
        as_rgb(np.zeros((2, 2, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        as_rgb(np.zeros((2, 2, 5), dtype=np.uint8))


def test_pixel_values_rows():
    image = np.zeros((3, 4, 3), dtype=np.uint8)
    image[2, 1] = (0, 0, 255)  # blue at x=1, y=2
    rows = {(row["space"], row["channel"]): row for row in pixel_values(image, 1, 2)}
    assert rows[("rgb", "B")]["uint8"] == 255
    assert rows[("hsv", "H")]["uint8"] == 120
    assert rows[("hsv", "H")]["float"] == pytest.approx(240.0)
    assert rows[("gray", "Y")]["uint8"] == 29
    assert rows[("ycrcb", "Cb")]["uint8"] == 255
    assert len(rows) == sum(len(spec.channels) for spec in SPACES.values())


def test_pixel_values_outside_image():
    with pytest.raises(ValueError):
        pixel_values(np.zeros((3, 4, 3), dtype=np.uint8), 4, 0)


@pytest.mark.parametrize(
    ("low", "high"),
    [(0, 179), (20, 40), (170, 10), (179, 0), (90, 90)],
)
def test_hue_in_range_wraps(low, high):
    hues = np.arange(180, dtype=np.uint8)
    expected = np.array(
        [(low <= h <= high) if low <= high else (h >= low or h <= high) for h in range(180)]
    )
    assert np.array_equal(hue_in_range(hues, low, high), expected)


def test_hsv_mask_selects_both_reds():
    # Red (hue 0), a red-magenta (hue ~175), green (60) and a dark red (value 40).
    image = np.array([[[255, 0, 0], [255, 0, 30], [0, 255, 0], [40, 0, 0]]], dtype=np.uint8)
    mask = hsv_mask(image, hue=(170, 10), saturation=(100, 255), value=(100, 255))
    assert mask.tolist() == [[True, True, False, False]]
    segmented = apply_mask(image, mask)
    assert segmented[0, 0].tolist() == [255, 0, 0]
    assert segmented[0, 2].tolist() == [0, 0, 0]


def test_hsv_mask_matches_numpy(pixels):
    hsv = reference_hsv(pixels)
    mask = hsv_mask(pixels, hue=(160, 20), saturation=(50, 200), value=(30, 255))
    ours_hsv = convert(pixels, "hsv")
    expected = (
        hue_in_range(ours_hsv[..., 0], 160, 20)
        & (ours_hsv[..., 1] >= 50)
        & (ours_hsv[..., 1] <= 200)
        & (ours_hsv[..., 2] >= 30)
    )
    assert np.array_equal(mask, expected)
    assert 0 < mask.sum() < mask.size
    assert np.abs(ours_hsv[..., 2] - hsv[..., 2]).max() == 0


def test_hue_rotation_primaries():
    primaries = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    rotated = shift_hue_saturation(primaries, 120.0, 1.0)
    assert rotated.tolist() == [[[0, 255, 0], [0, 0, 255], [255, 0, 0]]]


def test_hue_rotation_matches_colorsys(pixels):
    ours = shift_hue_saturation(pixels, 75.0, 0.6).astype(int)
    expected = []
    for r, g, b in pixels[0] / 255.0:
        hue, saturation, value = colorsys.rgb_to_hsv(r, g, b)
        hue = (hue + 75.0 / 360.0) % 1.0
        expected.append(colorsys.hsv_to_rgb(hue, min(saturation * 0.6, 1.0), value))
    expected = np.rint(np.array(expected) * 255.0).astype(int)
    assert np.abs(ours[0] - expected).max() <= 1


def test_full_turn_and_unit_scale_identity(pixels):
    assert np.abs(shift_hue_saturation(pixels, 360.0, 1.0).astype(int) - pixels).max() <= 1


def test_zero_saturation_gives_gray(pixels):
    gray = shift_hue_saturation(pixels, 0.0, 0.0)
    assert np.array_equal(gray[..., 0], gray[..., 1])
    assert np.array_equal(gray[..., 1], gray[..., 2])


def test_bgr_mistake_swaps_red_and_blue():
    image = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    assert hsv_read_as_bgr(image)[0, :, 0].tolist() == [120, 60, 0]
    assert convert(image, "hsv")[0, :, 0].tolist() == [0, 60, 120]
    assert swap_red_blue(image)[0, 0].tolist() == [0, 0, 255]
    assert swap_red_blue(image).flags.c_contiguous


def test_histogram_counts():
    channel = np.array([[0, 0, 179], [5, 5, 5]], dtype=np.uint8)
    counts = histogram(channel, high=179)
    assert counts.shape == (180,)
    assert counts[0] == 2
    assert counts[5] == 3
    assert counts[179] == 1
    assert counts.sum() == channel.size


def test_colorize_maps():
    channel = np.array([[0, 60, 120, 128]], dtype=np.uint8)
    hue = colorize(channel, "hue")
    assert hue[0, 0].tolist() == [255, 0, 0]
    assert hue[0, 1].tolist() == [0, 255, 0]
    assert hue[0, 2].tolist() == [0, 0, 255]
    signed = colorize(channel, "signed").astype(int)
    assert signed[0, 0, 2] > signed[0, 0, 0]  # low values are blue
    assert signed[0, 3].min() > 230  # 128 is near white
    assert colorize(channel, "level")[0, 3].tolist() == [128, 128, 128]
    with pytest.raises(ValueError):
        colorize(channel, "rainbow")


def test_hue_strip_dims_unselected():
    strip = hue_strip(170, 10, height=4)
    assert strip.shape == (4, 180, 3)
    assert strip[0, 0].tolist() == [255, 0, 0]  # hue 0 selected: full red
    assert strip[0, 60].max() <= 64  # green dimmed to a quarter


def test_mark_pixel_copies():
    image = np.full((50, 50, 3), 128, dtype=np.uint8)
    marked = mark_pixel(image, 25, 25)
    assert marked[25, 25].tolist() == [0, 0, 0]
    assert image[25, 25].tolist() == [128, 128, 128]
