"""The image picker every page shares: a sample photo, an upload or a camera shot.

All three go through ``cnnlab.imageio.decode_image``, so a page always receives the same
kind of array (uint8 RGB, at most ``ImageLimits.work_max_side`` on the longer side).
"""

from __future__ import annotations

import hashlib

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from cnnlab.errors import LocalizedError
from cnnlab.imageio import (
    HEIF_SUPPORTED,
    MB,
    DecodedImage,
    ImageLimits,
    decode_image,
    load_sample,
    sample_names,
)
from ui.lang import t
from ui.layout import show_error

# Extensions the upload dialog offers. They only filter the browser's file picker, because
# decode_image checks the content regardless of the file name.
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif", "avif", "mpo"] + (
    ["heic", "heif"] if HEIF_SUPPORTED else []
)

DEFAULT_SAMPLE = "astronaut"


@st.cache_data(max_entries=16, show_spinner=False)
def _cached_sample(name: str) -> DecodedImage:
    return load_sample(name)


@st.cache_data(max_entries=8, show_spinner=False)
def _cached_decode(digest: str, _data: bytes) -> DecodedImage:
    # Keyed by the SHA-256 of the bytes only: the leading underscore keeps Streamlit from
    # hashing the bytes a second time. Errors are not cached, so a bad file is re-checked.
    return decode_image(_data)


def decode_bytes(data: bytes) -> DecodedImage:
    """Decode uploaded bytes through the shared cache (raises ``LocalizedError``)."""
    return _cached_decode(hashlib.sha256(data).hexdigest(), data)


def image_input(key_prefix: str, *, allow_camera: bool = True) -> DecodedImage | None:
    """Draw the image picker and return the current image, or None before the first one.

    The last image that decoded is kept in ``st.session_state[f"{key_prefix}_image"]``: a
    rejected upload shows its error and the previous image stays. Widget keys are
    ``{key_prefix}_source`` ("sample", "upload", "camera"), ``{key_prefix}_sample``,
    ``{key_prefix}_upload`` and ``{key_prefix}_camera``.
    """
    state_key = f"{key_prefix}_image"
    sources = ["sample", "upload"] + (["camera"] if allow_camera else [])
    source = st.segmented_control(
        t("image.input.source"),
        options=sources,
        format_func=lambda option: t(f"image.input.source_{option}"),
        default="sample",
        required=True,
        key=f"{key_prefix}_source",
    )

    if source == "sample":
        _pick_sample(key_prefix, state_key)
    elif source == "upload":
        limits = ImageLimits()
        uploaded = st.file_uploader(
            t("image.input.upload"),
            type=UPLOAD_TYPES,
            help=t(
                "image.input.upload_help",
                limit_mb=f"{limits.max_bytes / MB:.0f}",
                limit_mp=f"{limits.max_pixels / 1e6:.0f}",
                side=limits.work_max_side,
            ),
            key=f"{key_prefix}_upload",
        )
        _take_file(uploaded, state_key)
    else:
        shot = st.camera_input(t("image.input.camera"), key=f"{key_prefix}_camera")
        _take_file(shot, state_key)

    image = st.session_state.get(state_key)
    if image is not None:
        show_image_facts(image)
    return image


def _pick_sample(key_prefix: str, state_key: str) -> None:
    names = sample_names()
    name = st.selectbox(
        t("image.input.sample"),
        options=names,
        index=names.index(DEFAULT_SAMPLE) if DEFAULT_SAMPLE in names else 0,
        format_func=lambda option: t(f"image.sample.{option}"),
        key=f"{key_prefix}_sample",
    )
    st.session_state[state_key] = _cached_sample(name)


def _take_file(uploaded: UploadedFile | None, state_key: str) -> None:
    """Decode an ``UploadedFile`` (or None); keep the previous image if it is rejected."""
    has_previous = st.session_state.get(state_key) is not None
    if uploaded is None:
        if has_previous:
            st.caption(t("image.input.waiting"))
        return

    # Only the bytes are used: the file name comes from the browser and is never a path.
    try:
        st.session_state[state_key] = decode_bytes(uploaded.getvalue())
    except LocalizedError as err:
        show_error(err)
        if has_previous:
            st.caption(t("image.input.kept_previous"))


def show_image_facts(image: DecodedImage) -> None:
    """Show the format, original and working size, and what the decoder changed."""
    width, height = image.original_size
    work_width, work_height = image.working_size
    st.caption(
        t(
            "image.input.size",
            format=image.format,
            width=width,
            height=height,
            work_width=work_width,
            work_height=work_height,
        )
    )
    for note in image.notes:
        st.caption(f":material/info: {t(note.key, **note.params)}")
