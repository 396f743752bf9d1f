"""Choosing and loading the network of the "Inspect a pretrained network" page.

Pretrained models live in ``st.cache_resource``, so every session shares one read-only
copy. Inspection adds forward hooks only under ``LoadedModel.lock``, which keeps two
sessions from seeing each other's hooks (see ``cnnlab.pretrained``). Nothing is
downloaded unless the user presses the download button.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.pretrained import (
    LAB_KIND,
    MODEL_KINDS,
    LoadedModel,
    cached_weights_path,
    download_weights,
    load_from_cache,
    load_weights_file,
    weights_file_name,
    weights_for,
    weights_in_cache,
    wrap_lab_model,
)
from cnnlab.runs import RunRecord
from ui.lab_state import cached_dataset, display_label, latest_record
from ui.lang import t
from ui.layout import show_error, term

MODEL_OPTIONS = (*MODEL_KINDS, LAB_KIND)

# ResNet-18's weights file is 45 MB, above the app-wide server.maxUploadSize of 25 MB.
UPLOAD_LIMIT_MB = 64

_DOWNLOAD_ERROR_KEY = "pretrained_download_error"  # (kind, LocalizedError) of the last try
_LAB_MODEL_KEY = "pretrained_lab_model"  # the LoadedModel wrapped around the lab's model


@st.cache_resource(max_entries=2, show_spinner=False)
def _cached_pretrained(kind: str) -> LoadedModel:
    return load_from_cache(kind)


@st.cache_resource(max_entries=2, show_spinner=False)
def _uploaded_pretrained(kind: str, digest: str, _data: bytes) -> LoadedModel:
    # Keyed by the SHA-256 of the file only; the leading underscore skips hashing the bytes.
    return load_weights_file(kind, _data)


def choose_model() -> str:
    """Draw the network picker and return one of ``MODEL_OPTIONS``.

    The first choice is ResNet-18 when its weights are cached or no lab model exists, and
    otherwise the lab's model, so an offline server starts on something that works.
    """
    offline_start = not weights_in_cache("resnet18") and latest_record() is not None
    return st.segmented_control(
        t("pretrained.model.label"),
        options=MODEL_OPTIONS,
        format_func=lambda kind: t(f"pretrained.model.{kind}"),
        default=LAB_KIND if offline_start else "resnet18",
        required=True,
        help=t("pretrained.model.help"),
        key="pretrained_model",
    )


def load_model(kind: str) -> tuple[LoadedModel | None, RunRecord | None]:
    """Return the chosen model (and the lab run it came from), or None after a message."""
    if kind == LAB_KIND:
        return _lab_model()
    if not weights_in_cache(kind):
        return _missing_weights(kind), None
    try:
        with st.spinner(t("pretrained.weights.loading", model=t(f"pretrained.model.{kind}"))):
            return _cached_pretrained(kind), None
    except LocalizedError as err:
        show_error(err)
        return None, None


def _missing_weights(kind: str) -> LoadedModel | None:
    """Offer the download button and the upload; return a model loaded from an upload."""
    file_name = weights_file_name(kind)
    size_mb = f"{weights_for(kind).meta['_file_size']:.0f}"
    st.info(
        t("pretrained.weights.missing", model=t(f"pretrained.model.{kind}"), file=file_name,
          size_mb=size_mb, folder=str(cached_weights_path(kind).parent)),
        icon=":material/cloud_off:",
    )  # fmt: skip

    download_column, upload_column = st.columns(2)
    with download_column:
        clicked = st.button(t("pretrained.weights.download", size_mb=size_mb),
                            icon=":material/download:", key=f"pretrained_download_{kind}")  # fmt: skip
        if clicked and _download(kind, file_name):
            st.rerun()
        failure = st.session_state.get(_DOWNLOAD_ERROR_KEY)
        if failure is not None and failure[0] == kind:
            show_error(failure[1])
    with upload_column:
        uploaded = st.file_uploader(
            t("pretrained.weights.upload"), type=["pth", "pt"],
            help=t("pretrained.weights.upload_help", file=file_name, limit_mb=UPLOAD_LIMIT_MB),
            max_upload_size=UPLOAD_LIMIT_MB, key=f"pretrained_weights_{kind}",
        )  # fmt: skip

    _lab_hint()
    if uploaded is None:
        return None
    # Only the bytes are used: the file name comes from the browser and is never a path.
    data = uploaded.getvalue()
    try:
        with st.spinner(t("pretrained.weights.loading", model=t(f"pretrained.model.{kind}"))):
            return _uploaded_pretrained(kind, hashlib.sha256(data).hexdigest(), data)
    except LocalizedError as err:
        show_error(err)
        return None


def _download(kind: str, file_name: str) -> bool:
    """Download the weights; store the error for the next runs and return False on failure."""
    try:
        with st.spinner(t("pretrained.weights.downloading", file=file_name)):
            download_weights(kind)
    except LocalizedError as err:
        st.session_state[_DOWNLOAD_ERROR_KEY] = (kind, err)
        return False
    st.session_state.pop(_DOWNLOAD_ERROR_KEY, None)
    return True


def _lab_hint() -> None:
    if latest_record() is None:
        st.caption(t("pretrained.lab.offline_hint"))
        st.page_link("app_pages/lab.py", label=t("pretrained.lab.link"),
                     icon=":material/model_training:")  # fmt: skip


def _lab_model() -> tuple[LoadedModel | None, RunRecord | None]:
    record = latest_record()
    if record is None:
        st.info(t("pretrained.lab.none"), icon=":material/info:")
        st.page_link("app_pages/lab.py", label=t("pretrained.lab.link"),
                     icon=":material/model_training:")  # fmt: skip
        return None, None

    key = f"lab:{id(record.model)}:{record.created}"
    cached = st.session_state.get(_LAB_MODEL_KEY)
    if cached is not None and cached.key == key:
        return cached, record
    try:
        data = cached_dataset(record.config.dataset, record.config.seed)
    except LocalizedError as err:
        show_error(err)
        return None, None
    loaded = wrap_lab_model(record.model, record.classes, data.in_channels, data.image_size,
                            data.mean, data.std, key=key)  # fmt: skip
    st.session_state[_LAB_MODEL_KEY] = loaded
    return loaded, record


def show_model_facts(loaded: LoadedModel, record: RunRecord | None) -> None:
    """Show one caption: the network's size and accuracy, and where its weights came from."""
    if record is not None:
        channels, size, _ = loaded.input_shape
        params = sum(p.numel() for p in loaded.model.parameters())
        accuracy = record.test_accuracy
        st.caption(t("pretrained.facts.lab", label=display_label(record), dataset=record.config.dataset,
                     acc=f"{100 * accuracy:.1f} %" if accuracy is not None else "–",
                     params=f"{params:,}", channels=channels, size=size,
                     accuracy=term("accuracy"), parameter=term("parameter")))  # fmt: skip
        return
    meta = weights_for(loaded.kind).meta
    st.caption(t("pretrained.facts.imagenet", model=t(f"pretrained.model.{loaded.kind}"),
                 params=f"{meta['num_params'] / 1e6:.1f}",
                 acc1=f"{meta['_metrics']['ImageNet-1K']['acc@1']:.1f}",
                 origin=t(f"pretrained.origin.{loaded.origin}"),
                 accuracy=term("accuracy"), parameter=term("parameter")))  # fmt: skip
