"""Turn untrusted image bytes into one predictable array: uint8 RGB at a bounded size.

Every page that takes a picture (a sample, an upload, a camera shot) goes through
``decode_image``. It checks the file size and the header's pixel count before anything is
decoded. Then it applies the EXIF orientation, converts each pixel format to 8-bit RGB by an
explicit rule instead of a silent cast, and shrinks large images to the working size. Each
change is listed in ``DecodedImage.notes`` as a translation key, so pages can tell the user.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from cnnlab.errors import LocalizedError
from cnnlab.paths import SAMPLES_DIR

try:
    import pillow_heif
except ImportError:  # an optional plugin. Without it, HEIC uploads get a clear message
    pillow_heif = None

log = logging.getLogger(__name__)

# Phones (iPhones by default) save photos as HEIC. The pillow-heif plugin adds Pillow's
# "HEIF" format; registering it is idempotent. libheif applies the HEIF rotation while
# decoding, and the plugin resets the EXIF orientation to 1 (pillow-heif 1.9,
# ``set_orientation``), so nothing is rotated twice.
HEIF_SUPPORTED = pillow_heif is not None
if HEIF_SUPPORTED:
    pillow_heif.register_heif_opener()

MB = 1024 * 1024  # "MB" in messages means 2**20 bytes, as in Streamlit's server.maxUploadSize

# Transparent pixels are composited onto this color (white), so a logo with a transparent
# background looks as it does on a web page, not black as a plain alpha drop would make it.
BACKGROUND_RGB = (255, 255, 255)

# Formats that decode_image accepts. Restricting Pillow to these keeps rarely used plugins
# (and formats needing external programs, such as EPS) away from uploaded bytes. The JPEG
# plugin also opens the multi-picture JPEGs that many phones write, reported as "MPO".
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF", "AVIF", "PPM") + (
    ("HEIF",) if HEIF_SUPPORTED else ()
)

# Formats whose extra frames are an animation or further pages, worth a note. An MPO's extra
# pictures are previews or depth maps of the same shot, so taking the first one needs no note.
_FRAME_FORMATS = ("GIF", "PNG", "WEBP", "TIFF", "AVIF", "HEIF")

_SAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class ImageLimits:
    """Bounds applied to every decoded image."""

    max_bytes: int = 20 * MB  # file size, checked before Pillow opens the bytes
    max_pixels: int = 40_000_000  # width * height from the header; Pillow warns only at ~89 M
    work_max_side: int = 1024  # longer side of the returned array; larger images are shrunk


@dataclass(frozen=True)
class Notice:
    """One thing the decoder changed, as a translation key and its placeholder values."""

    key: str  # e.g. "image.note.resized"
    params: dict[str, Any] = field(default_factory=dict)


# eq=False: comparing or hashing the array field would fail; identity is enough.
@dataclass(frozen=True, eq=False)
class DecodedImage:
    """A decoded image, ready for the lessons.

    ``rgb`` is uint8, shape (H, W, 3), RGB order, C-contiguous, values 0-255, already shrunk
    so that max(H, W) <= ``ImageLimits.work_max_side``.
    """

    rgb: np.ndarray
    original_size: tuple[int, int]  # (width, height) as stored in the file, before EXIF rotation
    format: str  # Pillow's format name, e.g. "PNG", "JPEG", "MPO"
    notes: tuple[Notice, ...] = ()

    @property
    def working_size(self) -> tuple[int, int]:
        """(width, height) of ``rgb``."""
        return (self.rgb.shape[1], self.rgb.shape[0])


def decode_image(data: bytes, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """Decode image file bytes into uint8 RGB of shape (H, W, 3) at the working size.

    Order of work: byte-size check, header read, pixel-count check, decoding of the first
    frame only, EXIF orientation, conversion to RGB (alpha composited onto white), shrinking
    to ``limits.work_max_side``.

    Raises ``LocalizedError`` with one of the keys ``image.error.empty``,
    ``image.error.too_large_bytes``, ``image.error.too_many_pixels``, ``image.error.bomb``,
    ``image.error.not_image``, ``image.error.unsupported``, ``image.error.corrupt``.
    """
    if not data:
        raise LocalizedError("image.error.empty")
    if len(data) > limits.max_bytes:
        raise LocalizedError(
            "image.error.too_large_bytes",
            size_mb=f"{len(data) / MB:.1f}",
            limit_mb=f"{limits.max_bytes / MB:.0f}",
        )

    notes: list[Notice] = []
    with _open_header(data, limits) as image:
        original_size = image.size
        image_format = image.format or ""
        try:
            frame = _load_first_frame(image, limits, notes)
            rgb = _to_rgb(frame, notes)
        except LocalizedError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
            # Pillow reports truncated or damaged data as OSError ("image file is truncated",
            # "broken data stream"), and some plugins use SyntaxError, EOFError or struct.error.
            log.info("image decoding failed: %s: %s", type(err).__name__, err)
            raise LocalizedError("image.error.corrupt", format=image_format) from err

    if max(original_size) > limits.work_max_side:
        rgb = fit_within(rgb, limits.work_max_side)
        notes.append(
            Notice(
                "image.note.resized",
                {
                    "width": original_size[0],
                    "height": original_size[1],
                    "work_width": rgb.shape[1],
                    "work_height": rgb.shape[0],
                },
            )
        )
    return DecodedImage(
        rgb=np.ascontiguousarray(rgb, dtype=np.uint8),
        original_size=original_size,
        format=image_format,
        notes=tuple(notes),
    )


def _open_header(data: bytes, limits: ImageLimits) -> Image.Image:
    """Read only the header and check the pixel count; nothing is decoded yet."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError as err:
        raise _unidentified_error(data) from err
    except Image.DecompressionBombError as err:
        # Pillow's own guard fires in Image.open above 2 * Image.MAX_IMAGE_PIXELS; it only
        # matters when limits.max_pixels is set above that. It does not report the size.
        raise LocalizedError(
            "image.error.bomb",
            limit_mp=_megapixels(limits.max_pixels),
        ) from err
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        log.info("image header unreadable: %s: %s", type(err).__name__, err)
        raise LocalizedError("image.error.corrupt", format=_sniff_format(data) or "?") from err

    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise LocalizedError("image.error.corrupt", format=image.format)
    if width * height > limits.max_pixels:
        image.close()
        raise LocalizedError(
            "image.error.too_many_pixels",
            width=width,
            height=height,
            megapixels=_megapixels(width * height),
            limit_mp=_megapixels(limits.max_pixels),
        )
    return image


def _load_first_frame(image: Image.Image, limits: ImageLimits, notes: list[Notice]) -> Image.Image:
    """Decode frame 0, with the EXIF orientation applied."""
    if getattr(image, "is_animated", False) and image.format in _FRAME_FORMATS:
        notes.append(Notice("image.note.first_frame", {"format": image.format}))
        image.seek(0)

    # JPEG only: let libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is far larger
    # than the working size. The request is a square, so it holds for either orientation.
    side = limits.work_max_side
    image.draft(None, (side, side))
    image.load()

    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation in range(2, 9):
        notes.append(Notice("image.note.exif_rotated", {"orientation": orientation}))
        return ImageOps.exif_transpose(image)
    return image


def _to_rgb(image: Image.Image, notes: list[Notice]) -> np.ndarray:
    """Convert any Pillow mode to uint8 RGB (H, W, 3), noting what was converted."""
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image)
    if mode in ("1", "L"):
        notes.append(Notice("image.note.grayscale"))
        return _gray_to_rgb(np.asarray(image.convert("L")))
    if mode in ("LA", "La"):
        notes.append(Notice("image.note.grayscale"))
        return _flatten_alpha(np.asarray(image.convert("RGBA")), notes)
    if mode in ("P", "PA"):
        notes.append(Notice("image.note.palette"))
        if mode == "PA" or "transparency" in image.info:
            return _flatten_alpha(np.asarray(image.convert("RGBA")), notes)
        return np.asarray(image.convert("RGB"))
    if mode in ("RGBA", "RGBa"):
        return _flatten_alpha(np.asarray(image.convert("RGBA")), notes)
    if mode == "CMYK":
        notes.append(Notice("image.note.cmyk"))
        return np.asarray(image.convert("RGB"))
    if mode.startswith("I") or mode == "F":
        return _gray_to_rgb(_high_depth_to_uint8(image, notes))
    if mode in ("RGBX", "YCbCr", "HSV"):
        return np.asarray(image.convert("RGB"))

    # Pillow 13's LAB -> RGB convert() does not apply the Lab formulas (L=50, a=b=0 comes out
    # blue), so LAB TIFFs and any other mode are rejected instead of shown with wrong colors.
    raise LocalizedError("image.error.unsupported", format=f"{image.format} ({mode})")


def _high_depth_to_uint8(image: Image.Image, notes: list[Notice]) -> np.ndarray:
    """Map a 16-bit, 32-bit integer or float single-channel image to uint8 by its own range.

    The image's minimum becomes 0 and its maximum 255, linearly. A fixed division (by 257
    for 16 bits) would leave 12-bit sensor data or floats in [0, 1] nearly black, and a
    plain ``astype(np.uint8)`` would wrap values modulo 256. The note gives the range used.
    NaN and -inf become the minimum, +inf the maximum; a constant image becomes 0.
    """
    values = np.asarray(image).astype(np.float64)
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    values = np.nan_to_num(values, nan=low, posinf=high, neginf=low)

    scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    notes.append(
        Notice(
            "image.note.sixteen_bit",
            {"mode": image.mode, "low": f"{low:g}", "high": f"{high:g}"},
        )
    )
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, None], 3, axis=2)  # (H, W) -> (H, W, 3)


def _flatten_alpha(rgba: np.ndarray, notes: list[Notice]) -> np.ndarray:
    if rgba[:, :, 3].min() < 255:
        notes.append(Notice("image.note.alpha_flattened"))
    return composite_on_background(rgba)


def composite_on_background(
    rgba: np.ndarray, background: tuple[int, int, int] = BACKGROUND_RGB
) -> np.ndarray:
    """Composite straight (not premultiplied) uint8 RGBA (H, W, 4) onto a solid color.

    Returns uint8 RGB (H, W, 3): ``round(alpha * color + (1 - alpha) * background)`` with
    alpha = A / 255.
    """
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"expected RGBA of shape (H, W, 4), got {rgba.shape}")
    color = rgba[:, :, :3].astype(np.float32)
    alpha = rgba[:, :, 3:].astype(np.float32) / 255.0  # (H, W, 1), broadcasts over RGB
    back = np.asarray(background, dtype=np.float32)
    blended = alpha * color + (1.0 - alpha) * back
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def fit_within(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (H, W, C) or (H, W) uint8 so that max(H, W) <= max_side; never enlarges.

    Uses Pillow's Lanczos filter, which low-pass filters while shrinking, so fine patterns
    such as brick joints do not alias into moiré.
    """
    height, width = rgb.shape[:2]
    if max(height, width) <= max_side:
        return rgb
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(resized)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}"


# Leading bytes of formats this module accepts, to tell a damaged file from a non-image.
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}

# ISO base media file "ftyp" brands of HEIF images (HEIC is HEIF with HEVC inside), which
# Pillow cannot decode without the pillow-heif plugin.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


def _sniff_format(data: bytes) -> str | None:
    """Name the format from its leading bytes, for error messages only."""
    for signature, name in _SIGNATURES.items():
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _unidentified_error(data: bytes) -> LocalizedError:
    """Choose the message for bytes that no accepted Pillow plugin could identify."""
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        if HEIF_SUPPORTED:
            return LocalizedError("image.error.corrupt", format="HEIF")
        return LocalizedError("image.error.unsupported", format="HEIC/HEIF")
    if data.startswith(b"\xff\x0a") or data[4:12] == b"JXL \r\n\x87\n":
        return LocalizedError("image.error.unsupported", format="JPEG XL")
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return LocalizedError("image.error.unsupported", format="SVG")
    if data.startswith(b"%PDF"):
        return LocalizedError("image.error.unsupported", format="PDF")

    known = _sniff_format(data)
    if known:
        # The signature is right but the header is not: a damaged or cut-off file.
        return LocalizedError("image.error.corrupt", format=known)

    other = _pillow_format_name(data)
    if other:
        return LocalizedError("image.error.unsupported", format=other)
    return LocalizedError("image.error.not_image")


def _pillow_format_name(data: bytes) -> str | None:
    """Return the format name if any Pillow plugin reads this header (e.g. "PSD", "ICO")."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError):
        return None


def _sample_paths() -> dict[str, Path]:
    return {
        path.stem: path
        for path in SAMPLES_DIR.iterdir()
        if path.is_file() and path.suffix.lower() in _SAMPLE_SUFFIXES
    }


def sample_names() -> list[str]:
    """Return the names (file stems, sorted) of the sample photos in ``assets/samples``."""
    return sorted(_sample_paths())


def load_sample(name: str, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """Decode the sample photo ``name`` (one of ``sample_names()``).

    Raises ``ValueError`` for any other name, so a name can never reach the file system as
    a path.
    """
    paths = _sample_paths()
    if name not in paths:
        raise ValueError(f"unknown sample {name!r}; expected one of {sorted(paths)}")
    return decode_image(paths[name].read_bytes(), limits)
