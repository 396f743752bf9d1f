"""ImageNet-pretrained torchvision models, and the lab's own CNN, ready for inspection.

Weights come from torchvision's weights API (``get_model_weights(name)``): its URL, its
preprocessing (``weights.transforms()``) and its class names (``weights.meta``). They are
read from the torch hub cache (``torch.hub.get_dir()/checkpoints``) or from a file the
user supplies; nothing is downloaded unless ``download_weights`` is called.

A loaded model is shared read-only by every session of the server. Forward hooks are the
one thing inspection adds to it, and hooks on a shared module fire for every caller, so
every hooked forward pass runs under ``LoadedModel.lock``. A lock was chosen over a deep
copy per use: a ResNet-18 copy costs 45 MB for each concurrent request, while the lock
only makes requests wait for each other. One ResNet-18 pass at 224 x 224 took about a
second on a busy 2-core CPU (measured with a plain forward pass; an estimate of the wait).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse
from urllib.request import urlopen

import numpy as np
import torch
import torchvision
from torch import nn

from cnnlab.errors import LocalizedError
from cnnlab.gradcam import LayerInfo, cam_layer_choices, default_target_layer, spatial_layers
from cnnlab.inspection import PreparedInput, Step, prepare_image

log = logging.getLogger(__name__)

MODEL_KINDS = ("resnet18", "mobilenet_v3_small")
LAB_KIND = "lab"
WEIGHTS_NAME = "IMAGENET1K_V1"  # pinned, so a newer torchvision DEFAULT cannot change results
DOWNLOAD_TIMEOUT_S = 30.0  # per network read, not for the whole file


def weights_for(kind: str) -> torchvision.models.WeightsEnum:
    """Return the ImageNet weights entry of ``kind`` (one of ``MODEL_KINDS``)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model {kind!r}; expected one of {MODEL_KINDS}")
    return torchvision.models.get_model_weights(kind)[WEIGHTS_NAME]


def stage_names(kind: str, model: nn.Module) -> tuple[str, ...]:
    """Return the modules whose outputs are shown as one stage's feature maps.

    ResNet-18: ``layer1``..``layer4``. MobileNetV3-Small and the lab CNN: every child of
    ``features`` (``features.0``, ``features.1``, ...).
    """
    if kind == "resnet18":
        return ("layer1", "layer2", "layer3", "layer4")
    return tuple(f"features.{index}" for index in range(len(model.features)))


def weights_file_name(kind: str) -> str:
    """Return the file name the hub cache uses, e.g. ``resnet18-f37072fd.pth``."""
    return os.path.basename(urlparse(weights_for(kind).url).path)


def cached_weights_path(kind: str) -> Path:
    """Return where the hub cache keeps ``kind``'s weights (the file may not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / weights_file_name(kind)


def weights_in_cache(kind: str) -> bool:
    return cached_weights_path(kind).is_file()


def download_weights(kind: str, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download ``kind``'s weights into the hub cache and return the file's path.

    Raises ``LocalizedError("pretrained.error.offline")`` when the server is unreachable
    and ``LocalizedError("pretrained.error.download_corrupt")`` when the file's SHA-256
    does not start with the prefix in its name.
    """
    target = cached_weights_path(kind)
    match = torch.hub.HASH_REGEX.search(target.name)
    hash_prefix = match.group(1) if match else None
    try:
        fetch_file(weights_for(kind).url, target, hash_prefix, timeout_s)
    except (URLError, OSError, TimeoutError) as err:
        # URLError covers DNS failures and refused connections; OSError and TimeoutError
        # cover resets and stalled reads.
        log.warning("weights download for %s failed: %s", kind, err)
        reason = getattr(err, "reason", None) or err
        raise LocalizedError(
            "pretrained.error.offline", model=kind, reason=str(reason), file=target.name
        ) from err
    return target


def fetch_file(url: str, target: Path, hash_prefix: str | None, timeout_s: float) -> None:
    """Stream ``url`` into ``target`` through a temporary file in the same folder.

    The file appears under its name only once complete and checked, so a broken transfer
    never leaves a partial file in the cache.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out, urlopen(url, timeout=timeout_s) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if hash_prefix and not digest.hexdigest().startswith(hash_prefix):
            raise LocalizedError(
                "pretrained.error.download_corrupt", file=target.name, expected=hash_prefix
            )
        os.replace(temp_name, target)
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)


@dataclass(eq=False)
class LoadedModel:
    """A model in eval mode with what the inspection page needs to know about it.

    ``model`` may be shared between sessions: never train or modify it, and hold ``lock``
    around any forward pass that adds hooks.
    """

    kind: str  # one of MODEL_KINDS, or LAB_KIND
    model: nn.Module
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]  # (C, H, W) of the model's input
    mean: tuple[float, ...]  # per-channel normalization of inputs in [0, 1]
    std: tuple[float, ...]
    stages: tuple[LayerInfo, ...]  # stage outputs for feature maps, shallow to deep
    cam_layers: tuple[LayerInfo, ...]  # valid Grad-CAM target layers, in execution order
    default_cam_layer: str
    origin: str  # "cache", "file", "random" or "lab"
    key: str  # identifies model and weights in result caches, e.g. "resnet18:cache"
    lock: threading.Lock = field(default_factory=threading.Lock)


def describe_layers(
    kind: str, model: nn.Module, input_shape: tuple[int, int, int]
) -> tuple[tuple[LayerInfo, ...], tuple[LayerInfo, ...], str]:
    """Return (stages, Grad-CAM layer choices, default Grad-CAM layer) for ``model``."""
    layers = spatial_layers(model, input_shape)
    wanted = stage_names(kind, model)
    stages = tuple(layer for layer in layers if layer.name in wanted)
    return stages, tuple(cam_layer_choices(layers, wanted)), default_target_layer(layers)


def build_pretrained(
    kind: str, state_dict: dict[str, torch.Tensor] | None, origin: str, key: str
) -> LoadedModel:
    """Build ``kind`` with ``state_dict`` loaded (random weights when None), in eval mode.

    Raises ``LocalizedError("pretrained.error.wrong_model")`` when the keys or shapes do
    not match the architecture.
    """
    weights = weights_for(kind)
    model = torchvision.models.get_model(kind, weights=None)
    if state_dict is not None:
        _check_keys(kind, model, state_dict)
        model.load_state_dict(state_dict)
    model.eval()

    transform = weights.transforms()
    input_shape = (3, transform.crop_size[0], transform.crop_size[0])
    stages, cam_layers, default_layer = describe_layers(kind, model, input_shape)
    return LoadedModel(
        kind=kind, model=model, classes=tuple(weights.meta["categories"]),
        input_shape=input_shape, mean=tuple(transform.mean), std=tuple(transform.std),
        stages=stages, cam_layers=cam_layers, default_cam_layer=default_layer, origin=origin,
        key=key,
    )  # fmt: skip


def _check_keys(kind: str, model: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    missing = [name for name in expected if name not in state_dict]
    unexpected = [name for name in state_dict if name not in expected]
    mismatched = [
        name for name, value in state_dict.items()
        if name in expected and tuple(value.shape) != expected[name]
    ]  # fmt: skip
    if missing or unexpected or mismatched:
        example = (missing + unexpected + mismatched)[0]
        raise LocalizedError(
            "pretrained.error.wrong_model", model=kind, missing=len(missing),
            unexpected=len(unexpected), mismatched=len(mismatched), example=example,
        )  # fmt: skip


def read_state_dict(source: Path | bytes) -> dict[str, torch.Tensor]:
    """Read a ``state_dict`` saved with ``torch.save`` from a path or from file bytes.

    Uses ``weights_only=True``, so the file can hold tensors and plain containers but no
    code. Accepts a checkpoint dict that keeps the weights under ``"state_dict"`` or
    ``"model"``. Raises ``LocalizedError("pretrained.error.bad_file")`` for anything else.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        loaded = torch.load(stream, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
        # Random bytes raise UnpicklingError, a cut-off file RuntimeError from the zip
        # reader, an empty one EOFError (torch 2.14).
        log.info("weights file rejected: %s: %s", type(err).__name__, str(err)[:200])
        raise LocalizedError("pretrained.error.bad_file") from err

    if isinstance(loaded, dict):
        for key in ("state_dict", "model"):
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
    if (
        not isinstance(loaded, dict)
        or not loaded
        or not all(
            isinstance(name, str) and isinstance(value, torch.Tensor)
            for name, value in loaded.items()
        )
    ):
        raise LocalizedError("pretrained.error.bad_file")
    return loaded


def load_from_cache(kind: str) -> LoadedModel:
    """Load ``kind`` from the hub cache; raises ``LocalizedError`` if it is not there."""
    path = cached_weights_path(kind)
    if not path.is_file():
        raise LocalizedError("pretrained.error.not_cached", model=kind, file=path.name)
    return build_pretrained(kind, read_state_dict(path), origin="cache", key=f"{kind}:cache")


def load_weights_file(kind: str, source: Path | bytes) -> LoadedModel:
    """Load ``kind`` with the weights in a local file (path or bytes)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return build_pretrained(kind, read_state_dict(data), origin="file", key=f"{kind}:file:{digest}")


def wrap_lab_model(
    model: nn.Module,
    classes: tuple[str, ...],
    in_channels: int,
    image_size: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    key: str,
) -> LoadedModel:
    """Describe a trained lab ``SmallCNN`` (eval mode, CPU) like a pretrained model.

    ``key`` must differ between models, e.g. built from the run's id and creation time.
    """
    input_shape = (in_channels, image_size, image_size)
    stages, cam_layers, default_layer = describe_layers(LAB_KIND, model, input_shape)
    return LoadedModel(
        kind=LAB_KIND, model=model, classes=tuple(classes), input_shape=input_shape,
        mean=tuple(mean), std=tuple(std), stages=stages, cam_layers=cam_layers,
        default_cam_layer=default_layer, origin="lab", key=key,
    )  # fmt: skip


def preprocess_for(kind: str, rgb: np.ndarray) -> PreparedInput:
    """Turn uint8 RGB (H, W, 3) into the input of ``kind`` with the weights' transforms.

    ImageNet models: resize the shorter side to 256 px (bilinear, antialiased), crop the
    224 × 224 centre, rescale to [0, 1], normalize with the ImageNet mean and std. Returns
    the tensor (1, 3, 224, 224) float32, the crop as RGB float in [0, 1] and every step.
    """
    transform = weights_for(kind).transforms()
    height, width = rgb.shape[:2]
    # A copy, because cached images are read-only arrays and torch.from_numpy warns on those.
    image = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1)  # (H,W,3)->(3,H,W)
    x = transform(image).unsqueeze(0)  # (3, H, W) uint8 -> (1, 3, 224, 224) float32

    short = transform.resize_size[0]
    resized = resized_size(width, height, short)
    crop = transform.crop_size[0]
    mean = torch.tensor(transform.mean).view(3, 1, 1)
    std = torch.tensor(transform.std).view(3, 1, 1)
    display = (x[0] * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()  # -> (224, 224, 3)
    steps = (
        Step("pretrained.step.original", {"width": width, "height": height}),
        Step(
            "pretrained.step.resize_short",
            {"short": short, "width": resized[0], "height": resized[1]},
        ),
        Step("pretrained.step.center_crop", {"size": crop}),
        Step("pretrained.step.rescale"),
        Step(
            "pretrained.step.normalize",
            {"mean": _format(transform.mean), "std": _format(transform.std)},
        ),
    )
    return PreparedInput(x, np.ascontiguousarray(display), steps)


def resized_size(width: int, height: int, short: int) -> tuple[int, int]:
    """Return (width, height) after resizing the shorter side to ``short`` px.

    The longer side is truncated, as in ``torchvision.transforms.functional.resize``.
    """
    if width <= height:
        return short, int(short * height / width)
    return int(short * width / height), short


def preprocess_lab(loaded: LoadedModel, rgb: np.ndarray) -> PreparedInput:
    """Prepare uint8 RGB (H, W, 3) for the lab CNN with ``inspection.prepare_image``."""
    channels, size, _ = loaded.input_shape
    return prepare_image(rgb, channels, size, loaded.mean, loaded.std)


def prepare(loaded: LoadedModel, rgb: np.ndarray) -> PreparedInput:
    """Prepare uint8 RGB (H, W, 3) for ``loaded``, whichever kind it is."""
    if loaded.kind == LAB_KIND:
        return preprocess_lab(loaded, rgb)
    return preprocess_for(loaded.kind, rgb)


def _format(values) -> str:
    return ", ".join(f"{value:.3f}" for value in values)
