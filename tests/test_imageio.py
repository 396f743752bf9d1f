"""decode_image on every awkward file kind, each generated in memory with Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import ExifTags, Image

from cnnlab import imageio
from cnnlab.errors import LocalizedError
from cnnlab.i18n import LANGUAGES, translate
from cnnlab.imageio import (
    DecodedImage,
    ImageLimits,
    composite_on_background,
    decode_image,
    fit_within,
    load_sample,
    sample_names,
)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def note_keys(decoded: DecodedImage) -> list[str]:
    return [note.key for note in decoded.notes]


def error_key(data: bytes, limits: ImageLimits | None = None) -> str:
    with pytest.raises(LocalizedError) as info:
        decode_image(data, limits or ImageLimits())
    return info.value.key


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming_size(width: int, height: int) -> bytes:
    """A PNG with a valid IHDR for width x height (8-bit RGB) and a garbage IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"not zlib data" * 8)
        + png_chunk(b"IEND", b"")
    )


def assert_rgb_contract(decoded: DecodedImage) -> None:
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.ndim == 3
    assert decoded.rgb.shape[2] == 3
    assert decoded.rgb.flags.c_contiguous


def test_rgb_png_roundtrip():
    pixels = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    decoded = decode_image(encode(Image.fromarray(pixels), "PNG"))
    assert_rgb_contract(decoded)
    assert np.array_equal(decoded.rgb, pixels)
    assert decoded.original_size == (30, 20)
    assert decoded.working_size == (30, 20)
    assert decoded.format == "PNG"
    assert decoded.notes == ()


def test_cmyk_jpeg_converted():
    # Pure cyan ink: C = 255, M = Y = K = 0.
    cyan = Image.new("CMYK", (16, 16), (255, 0, 0, 0))
    decoded = decode_image(encode(cyan, "JPEG", quality=95))
    assert_rgb_contract(decoded)
    assert "image.note.cmyk" in note_keys(decoded)
    red, green, blue = decoded.rgb[8, 8].astype(int)
    assert red < 40
    assert green > 215
    assert blue > 215


def test_exif_orientation_6_rotates():
    # Stored 40 wide x 20 high with a red marker at the top-left corner. Orientation 6 means
    # the viewer turns it 90 degrees clockwise, which moves that corner to the top-right.
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:4, :4] = (255, 0, 0)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(Image.fromarray(stored), "JPEG", exif=exif, quality=95)

    decoded = decode_image(data)
    assert decoded.original_size == (40, 20)
    assert decoded.rgb.shape == (40, 20, 3)
    assert "image.note.exif_rotated" in note_keys(decoded)
    assert decoded.rgb[1, 18, 0] > 200  # top-right is red
    assert decoded.rgb[1, 1, 0] < 50  # top-left is not
    assert decoded.rgb[38, 1, 0] < 50  # bottom-left is not


def test_sixteen_bit_png_not_wrapped():
    # A 16-bit gradient 0..65535; a plain astype(uint8) would wrap it into sawtooth stripes.
    gradient = np.linspace(0, 65535, 256).round().astype(np.uint16)
    image = Image.fromarray(np.tile(gradient, (4, 1)))
    assert image.mode == "I;16"
    decoded = decode_image(encode(image, "PNG"))
    row = decoded.rgb[0, :, 0].astype(int)
    assert "image.note.sixteen_bit" in note_keys(decoded)
    assert row[0] == 0
    assert row[-1] == 255
    assert np.all(np.diff(row) >= 0)
    assert np.array_equal(decoded.rgb[..., 0], decoded.rgb[..., 2])


def test_twelve_bit_data_not_black():
    # Sensor data using only 12 of 16 bits (0..4095) must still span the 8-bit range.
    gradient = np.linspace(0, 4095, 64).round().astype(np.uint16)
    decoded = decode_image(encode(Image.fromarray(np.tile(gradient, (2, 1))), "PNG"))
    assert decoded.rgb.max() == 255
    assert decoded.rgb[0, 32, 0] > 100


def test_la_png_flattened_on_white():
    gray = np.full((8, 8), 0, dtype=np.uint8)
    alpha = np.zeros((8, 8), dtype=np.uint8)
    alpha[:, :4] = 255  # left half opaque black, right half fully transparent
    image = Image.fromarray(np.stack([gray, alpha], axis=2), mode="LA")
    decoded = decode_image(encode(image, "PNG"))
    assert "image.note.grayscale" in note_keys(decoded)
    assert "image.note.alpha_flattened" in note_keys(decoded)
    assert decoded.rgb[0, 0].tolist() == [0, 0, 0]
    assert decoded.rgb[0, 7].tolist() == [255, 255, 255]


def test_palette_png_with_transparency():
    image = Image.new("P", (6, 6), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 3, 6))  # left half index 1 (blue), right half index 0 (red)
    data = encode(image, "PNG", transparency=0)  # index 0 is transparent
    decoded = decode_image(data)
    assert "image.note.palette" in note_keys(decoded)
    assert "image.note.alpha_flattened" in note_keys(decoded)
    assert decoded.rgb[0, 0].tolist() == [0, 0, 255]
    assert decoded.rgb[0, 5].tolist() == [255, 255, 255]


def test_rgba_half_alpha_blended():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128
    decoded = decode_image(encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    # 128/255 of red over white: R = 255, G = B = round(255 * 127 / 255) = 127.
    assert decoded.rgb[0, 0].tolist() == [255, 127, 127]
    assert "image.note.alpha_flattened" in note_keys(decoded)


def test_opaque_rgba_has_no_alpha_note():
    rgba = np.full((4, 4, 4), 255, dtype=np.uint8)
    decoded = decode_image(encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    assert "image.note.alpha_flattened" not in note_keys(decoded)


def test_animated_gif_first_frame():
    frames = [Image.new("RGB", (10, 10), color) for color in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    decoded = decode_image(data)
    assert "image.note.first_frame" in note_keys(decoded)
    assert decoded.format == "GIF"
    assert decoded.rgb[5, 5].tolist() == [255, 0, 0]


def test_float_tiff_mapped_by_range():
    values = np.linspace(-2.0, 6.0, 81, dtype=np.float32).reshape(9, 9)
    image = Image.fromarray(values)
    assert image.mode == "F"
    decoded = decode_image(encode(image, "TIFF"))
    notes = {note.key: note.params for note in decoded.notes}
    assert notes["image.note.sixteen_bit"]["low"] == "-2"
    assert notes["image.note.sixteen_bit"]["high"] == "6"
    assert decoded.rgb[0, 0, 0] == 0
    assert decoded.rgb[8, 8, 0] == 255
    assert decoded.rgb[4, 4, 0] == 128  # -2 + 40 * 0.1 = 2.0, the middle of the range


def test_int32_image_mapped_by_range():
    values = np.array([[-1000, 0], [1000, 3000]], dtype=np.int32)
    image = Image.fromarray(values)
    assert image.mode == "I"
    decoded = decode_image(encode(image, "TIFF"))
    assert decoded.rgb[0, 0, 0] == 0
    assert decoded.rgb[1, 1, 0] == 255


def test_truncated_png_is_corrupt():
    pixels = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(pixels), "PNG")
    assert error_key(data[: len(data) // 2]) == "image.error.corrupt"
    assert error_key(data[:40]) == "image.error.corrupt"


def test_truncated_jpeg_is_corrupt():
    pixels = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(pixels), "JPEG")
    assert error_key(data[: len(data) // 2]) == "image.error.corrupt"


def test_empty_bytes():
    assert error_key(b"") == "image.error.empty"


def test_random_bytes_not_image():
    noise = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert error_key(b"Q" + noise) == "image.error.not_image"


def test_text_file_not_image():
    assert error_key(b"name,value\nstride,2\n") == "image.error.not_image"


def heic_bytes(width: int = 60, height: int = 40) -> bytes:
    """Encode an HEIC photo (HEVC inside HEIF) with pillow-heif: red left half, blue right."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = (220, 20, 20)
    pixels[:, width // 2 :] = (20, 20, 220)
    return encode(Image.fromarray(pixels), "HEIF", quality=95)


@pytest.mark.skipif(not imageio.HEIF_SUPPORTED, reason="pillow-heif is not installed")
def test_heic_photo_decodes():
    data = heic_bytes()
    assert data[4:12] == b"ftypheic"
    decoded = decode_image(data)
    assert decoded.format == "HEIF"
    assert decoded.rgb.shape == (40, 60, 3)
    left, right = decoded.rgb[20, 10].astype(int), decoded.rgb[20, 50].astype(int)
    assert left[0] > 180  # red survives the lossy HEVC round trip
    assert left[2] < 70
    assert right[2] > 180
    assert right[0] < 70


@pytest.mark.skipif(not imageio.HEIF_SUPPORTED, reason="pillow-heif is not installed")
def test_heic_pixel_limit_checked_first():
    key = error_key(heic_bytes(100, 100), ImageLimits(max_pixels=5_000))
    assert key == "image.error.too_many_pixels"


@pytest.mark.skipif(not imageio.HEIF_SUPPORTED, reason="pillow-heif is not installed")
def test_heic_truncated_is_corrupt():
    data = heic_bytes()
    assert error_key(data[: len(data) // 2]) == "image.error.corrupt"


def test_heic_without_plugin_unsupported(monkeypatch):
    monkeypatch.setattr(imageio, "HEIF_SUPPORTED", False)
    monkeypatch.setattr(imageio, "ACCEPTED_FORMATS", ("PNG", "JPEG"))
    # The start of an iPhone HEIC: an ISO-BMFF "ftyp" box with brand "heic".
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    with pytest.raises(LocalizedError) as info:
        decode_image(heic + b"\x00" * 200)
    assert info.value.key == "image.error.unsupported"
    assert info.value.params["format"] == "HEIC/HEIF"


def test_pillow_readable_but_rejected_format():
    data = encode(Image.new("RGB", (16, 16), "red"), "ICO")
    with pytest.raises(LocalizedError) as info:
        decode_image(data)
    assert info.value.key == "image.error.unsupported"
    assert info.value.params["format"] == "ICO"


def test_huge_header_rejected_before_decoding():
    # 30000 x 30000 = 900 M pixels: above both cnnlab's limit and Pillow's own bomb guard,
    # which fires inside Image.open. The garbage IDAT would fail as "corrupt" if decoded.
    assert error_key(png_claiming_size(30000, 30000)) in (
        "image.error.bomb",
        "image.error.too_many_pixels",
    )


def test_pixel_limit_reports_size():
    # 8000 x 8000 = 64 M pixels: below Pillow's warning (~89 M), above cnnlab's 40 M.
    with pytest.raises(LocalizedError) as info:
        decode_image(png_claiming_size(8000, 8000))
    assert info.value.key == "image.error.too_many_pixels"
    assert info.value.params["width"] == 8000
    assert info.value.params["height"] == 8000
    assert info.value.params["limit_mp"] == "40.0"


def test_garbage_within_limit_is_corrupt():
    assert error_key(png_claiming_size(100, 100)) == "image.error.corrupt"


def test_byte_limit():
    data = encode(Image.new("RGB", (64, 64), "white"), "PNG")
    with pytest.raises(LocalizedError) as info:
        decode_image(data, ImageLimits(max_bytes=len(data) - 1))
    assert info.value.key == "image.error.too_large_bytes"
    assert decode_image(data, ImageLimits(max_bytes=len(data))).rgb.shape == (64, 64, 3)


def test_large_image_scaled_to_work_size():
    image = Image.new("RGB", (3000, 1500), (10, 200, 30))
    decoded = decode_image(encode(image, "PNG"), ImageLimits(work_max_side=1024))
    assert decoded.original_size == (3000, 1500)
    assert decoded.rgb.shape == (512, 1024, 3)
    resized = [note for note in decoded.notes if note.key == "image.note.resized"]
    assert resized[0].params == {
        "width": 3000,
        "height": 1500,
        "work_width": 1024,
        "work_height": 512,
    }
    assert decoded.rgb[100, 100].tolist() == [10, 200, 30]


def test_large_jpeg_draft_scaled():
    # A JPEG far larger than the working size is decoded at a reduced DCT scale, then resized.
    image = Image.new("RGB", (4096, 3072), (200, 40, 40))
    decoded = decode_image(encode(image, "JPEG", quality=90), ImageLimits(work_max_side=500))
    assert decoded.original_size == (4096, 3072)
    assert decoded.rgb.shape == (375, 500, 3)
    assert abs(int(decoded.rgb[10, 10, 0]) - 200) < 6


def test_every_error_and_note_key_translated():
    keys = [
        "image.error.empty",
        "image.error.too_large_bytes",
        "image.error.too_many_pixels",
        "image.error.bomb",
        "image.error.corrupt",
        "image.error.not_image",
        "image.error.unsupported",
        "image.note.exif_rotated",
        "image.note.alpha_flattened",
        "image.note.cmyk",
        "image.note.sixteen_bit",
        "image.note.first_frame",
        "image.note.resized",
        "image.note.grayscale",
        "image.note.palette",
    ]
    params = dict(
        size_mb="1",
        limit_mb="1",
        width=1,
        height=1,
        megapixels="1",
        limit_mp="1",
        format="PNG",
        orientation=6,
        mode="I;16",
        low="0",
        high="1",
        work_width=1,
        work_height=1,
    )
    for key in keys:
        for lang in LANGUAGES:
            assert "{" not in translate(key, lang, **params), (key, lang)


def test_samples_load_and_have_labels():
    names = sample_names()
    assert "astronaut" in names
    for name in names:
        decoded = load_sample(name)
        assert_rgb_contract(decoded)
        assert max(decoded.rgb.shape[:2]) <= ImageLimits().work_max_side
        for lang in LANGUAGES:
            assert translate(f"image.sample.{name}", lang)


def test_load_sample_rejects_path():
    with pytest.raises(ValueError):
        load_sample("../mnist_5k")


def test_composite_on_background_formula():
    rgba = np.array([[[0, 0, 0, 0], [100, 50, 0, 255], [0, 0, 0, 51]]], dtype=np.uint8)
    out = composite_on_background(rgba, background=(255, 255, 255))
    assert out[0, 0].tolist() == [255, 255, 255]
    assert out[0, 1].tolist() == [100, 50, 0]
    assert out[0, 2].tolist() == [204, 204, 204]  # 0.2 * 0 + 0.8 * 255


def test_fit_within_never_enlarges():
    small = np.zeros((10, 20, 3), dtype=np.uint8)
    assert fit_within(small, 100) is small
    assert fit_within(np.zeros((100, 300), dtype=np.uint8), 150).shape == (50, 150)


def test_lab_tiff_rejected():
    # Pillow's LAB -> RGB convert() gives wrong colors, so the decoder rejects LAB files.
    data = encode(Image.new("LAB", (4, 4), (50, 0, 0)), "TIFF")
    with pytest.raises(LocalizedError) as info:
        decode_image(data)
    assert info.value.key == "image.error.unsupported"
    assert "LAB" in info.value.params["format"]
