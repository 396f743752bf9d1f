import hashlib
import io
import threading
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision
import torchvision.transforms.functional as TF

import cnnlab.pretrained as pretrained
from cnnlab.errors import LocalizedError
from cnnlab.i18n import LANGUAGES, load_catalog, translate
from cnnlab.model_inspection import analyze, explain, feature_grid, first_layer_grid, top_classes
from cnnlab.models import CNNConfig, SmallCNN
from cnnlab.pretrained import (
    build_pretrained,
    cached_weights_path,
    download_weights,
    fetch_file,
    load_from_cache,
    load_weights_file,
    preprocess_for,
    read_state_dict,
    resized_size,
    weights_for,
    weights_in_cache,
    wrap_lab_model,
)


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    """An empty torch cache: torch.hub.get_dir() reads $TORCH_HOME on every call."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def mobilenet():
    torch.manual_seed(0)
    return build_pretrained("mobilenet_v3_small", None, origin="random", key="test:mobilenet")


@pytest.fixture(scope="module")
def mobilenet_bytes() -> bytes:
    torch.manual_seed(1)
    model = torchvision.models.get_model("mobilenet_v3_small", weights=None)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def assert_translated(error: LocalizedError) -> None:
    for lang in LANGUAGES:
        assert translate(error.key, lang, **error.params)


# ---- Weights: cache, download, files ----


def test_cache_path_under_torch_home(torch_home):
    path = cached_weights_path("resnet18")
    assert path == torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert not weights_in_cache("resnet18")


def test_unknown_model_kind():
    with pytest.raises(ValueError, match="unknown model"):
        weights_for("vgg16")


def test_load_from_empty_cache(torch_home):
    with pytest.raises(LocalizedError) as info:
        load_from_cache("mobilenet_v3_small")
    assert info.value.key == "pretrained.error.not_cached"
    assert_translated(info.value)


def test_load_from_cache_file(torch_home, mobilenet_bytes):
    path = cached_weights_path("mobilenet_v3_small")
    path.parent.mkdir(parents=True)
    path.write_bytes(mobilenet_bytes)
    assert weights_in_cache("mobilenet_v3_small")

    loaded = load_from_cache("mobilenet_v3_small")
    expected = torch.load(io.BytesIO(mobilenet_bytes), weights_only=True)
    assert loaded.origin == "cache"
    assert loaded.key == "mobilenet_v3_small:cache"
    assert not loaded.model.training
    assert torch.equal(loaded.model.features[0][0].weight, expected["features.0.0.weight"])


def test_download_offline(torch_home, monkeypatch):
    def no_network(url, timeout):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(pretrained, "urlopen", no_network)
    with pytest.raises(LocalizedError) as info:
        download_weights("resnet18")
    assert info.value.key == "pretrained.error.offline"
    assert "name resolution" in info.value.params["reason"]
    assert "lab's trained model" in str(info.value)
    assert_translated(info.value)
    assert not weights_in_cache("resnet18")
    assert list(cached_weights_path("resnet18").parent.iterdir()) == []


def test_fetch_file_checks_hash(tmp_path, mobilenet_bytes):
    source = tmp_path / "source.pth"
    source.write_bytes(mobilenet_bytes)
    prefix = hashlib.sha256(mobilenet_bytes).hexdigest()[:8]
    target = tmp_path / "cache" / f"net-{prefix}.pth"

    fetch_file(source.as_uri(), target, prefix, timeout_s=5)
    assert target.read_bytes() == mobilenet_bytes


def test_fetch_file_rejects_wrong_hash(tmp_path, mobilenet_bytes):
    source = tmp_path / "source.pth"
    source.write_bytes(mobilenet_bytes)
    target = tmp_path / "cache" / "net-00000000.pth"

    with pytest.raises(LocalizedError) as info:
        fetch_file(source.as_uri(), target, "00000000", timeout_s=5)
    assert info.value.key == "pretrained.error.download_corrupt"
    assert list(target.parent.iterdir()) == []


def test_weights_file_from_bytes_and_path(tmp_path, mobilenet_bytes):
    path = tmp_path / "weights.pth"
    path.write_bytes(mobilenet_bytes)
    from_bytes = load_weights_file("mobilenet_v3_small", mobilenet_bytes)
    from_path = load_weights_file("mobilenet_v3_small", path)
    assert from_bytes.origin == "file"
    assert from_bytes.key == from_path.key
    assert torch.equal(from_bytes.model.classifier[3].weight, from_path.model.classifier[3].weight)


def test_checkpoint_dict_accepted(mobilenet_bytes):
    state = torch.load(io.BytesIO(mobilenet_bytes), weights_only=True)
    buffer = io.BytesIO()
    torch.save({"epoch": 3, "state_dict": state}, buffer)
    assert set(read_state_dict(buffer.getvalue())) == set(state)


@pytest.mark.parametrize(
    "data",
    [b"", b"definitely not a weights file", b"PK\x03\x04cut off zip"],
    ids=["empty", "text", "broken-zip"],
)
def test_corrupt_weights_rejected(data):
    with pytest.raises(LocalizedError) as info:
        read_state_dict(data)
    assert info.value.key == "pretrained.error.bad_file"
    assert_translated(info.value)


def test_truncated_weights_rejected(mobilenet_bytes):
    with pytest.raises(LocalizedError) as info:
        load_weights_file("mobilenet_v3_small", mobilenet_bytes[: len(mobilenet_bytes) // 2])
    assert info.value.key == "pretrained.error.bad_file"


def test_non_tensor_content_rejected():
    buffer = io.BytesIO()
    torch.save([1, 2, 3], buffer)
    with pytest.raises(LocalizedError) as info:
        read_state_dict(buffer.getvalue())
    assert info.value.key == "pretrained.error.bad_file"


def test_weights_of_other_model_rejected(mobilenet_bytes):
    with pytest.raises(LocalizedError) as info:
        load_weights_file("resnet18", mobilenet_bytes)
    assert info.value.key == "pretrained.error.wrong_model"
    assert info.value.params["missing"] > 0
    assert info.value.params["unexpected"] > 0
    assert_translated(info.value)


def test_weights_with_wrong_shape_rejected(mobilenet_bytes):
    state = torch.load(io.BytesIO(mobilenet_bytes), weights_only=True)
    state["classifier.3.weight"] = torch.zeros(10, 1024)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with pytest.raises(LocalizedError) as info:
        load_weights_file("mobilenet_v3_small", buffer.getvalue())
    assert info.value.params["mismatched"] == 1
    assert info.value.params["example"] == "classifier.3.weight"


# ---- Preprocessing ----


@pytest.mark.parametrize(("width", "height"), [(300, 200), (200, 300), (640, 481), (256, 256)])
def test_resized_size_matches_torchvision(width, height):
    image = torch.zeros(3, height, width, dtype=torch.uint8)
    resized = TF.resize(image, [256], antialias=True)
    assert resized_size(width, height, 256) == (resized.shape[2], resized.shape[1])


def test_preprocess_matches_weights_transforms():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(180, 320, 3), dtype=np.uint8)
    prepared = preprocess_for("resnet18", rgb)
    transform = weights_for("resnet18").transforms()
    expected = transform(torch.from_numpy(rgb).permute(2, 0, 1))
    assert prepared.tensor.shape == (1, 3, 224, 224)
    assert torch.allclose(prepared.tensor[0], expected)
    assert prepared.display.shape == (224, 224, 3)
    assert prepared.display.min() >= 0.0
    assert prepared.display.max() <= 1.0
    keys = [step.key for step in prepared.steps]
    assert keys == [
        "pretrained.step.original",
        "pretrained.step.resize_short",
        "pretrained.step.center_crop",
        "pretrained.step.rescale",
        "pretrained.step.normalize",
    ]
    assert prepared.steps[1].params == {"short": 256, "width": 455, "height": 256}


def test_display_undoes_normalization():
    rgb = np.full((224, 224, 3), (255, 128, 0), dtype=np.uint8)
    prepared = preprocess_for("mobilenet_v3_small", rgb)
    np.testing.assert_allclose(prepared.display[100, 100], [1.0, 128 / 255, 0.0], atol=1e-5)


def test_lab_steps_have_translations():
    torch.manual_seed(0)
    loaded = wrap_lab_model(SmallCNN(CNNConfig()).eval(), tuple("0123456789"), 1, 28, (0.13,),
                            (0.31,), key="lab:steps")  # fmt: skip
    bright = np.full((40, 30, 3), 250, dtype=np.uint8)
    catalog = load_catalog()
    for step in pretrained.prepare(loaded, bright).steps:
        assert step.key in catalog


# ---- Inspection on a loaded model ----


def test_mobilenet_layers(mobilenet):
    stage_names = [stage.name for stage in mobilenet.stages]
    cam_names = [layer.name for layer in mobilenet.cam_layers]
    assert stage_names == [f"features.{i}" for i in range(13)]
    assert mobilenet.default_cam_layer == "features"
    assert mobilenet.input_shape == (3, 224, 224)
    assert len(mobilenet.classes) == 1000
    assert "features.12" in cam_names


def test_resnet18_layers():
    loaded = build_pretrained("resnet18", None, origin="random", key="test:resnet")
    assert [stage.name for stage in loaded.stages] == ["layer1", "layer2", "layer3", "layer4"]
    assert [stage.shape for stage in loaded.stages][-1] == (512, 7, 7)
    assert loaded.default_cam_layer == "layer4"


def test_single_image_analysis_and_gradcam(mobilenet):
    rgb = np.random.default_rng(1).integers(0, 256, size=(240, 300, 3), dtype=np.uint8)
    x = preprocess_for("mobilenet_v3_small", rgb).tensor
    analysis = analyze(mobilenet, x)
    top = top_classes(analysis.probabilities, 5)
    result = explain(mobilenet, x, top[0], mobilenet.default_cam_layer)

    assert analysis.probabilities.shape == (1000,)
    assert analysis.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert analysis.maps["features.0"].shape == (16, 112, 112)
    assert analysis.probabilities[top[0]] == analysis.probabilities.max()
    assert result.heatmap.shape == (1, 224, 224)
    assert 0.0 <= result.heatmap.min() <= result.heatmap.max() <= 1.0


def test_inspection_leaves_no_hooks(mobilenet):
    x = torch.zeros(1, 3, 224, 224)
    analyze(mobilenet, x)
    explain(mobilenet, x, 0, "features.12")
    hooked = [name for name, module in mobilenet.model.named_modules() if module._forward_hooks]
    assert hooked == []
    assert not mobilenet.lock.locked()


def test_explain_rejects_unknown_layer(mobilenet):
    with pytest.raises(ValueError, match="not a Grad-CAM layer"):
        explain(mobilenet, torch.zeros(1, 3, 224, 224), 0, "classifier")


def test_explain_waits_for_lock(mobilenet):
    # A second session's hooked pass must wait until the first one releases the lock.
    finished = threading.Event()

    def run() -> None:
        explain(mobilenet, torch.zeros(1, 3, 224, 224), 0, mobilenet.default_cam_layer)
        finished.set()

    with mobilenet.lock:
        worker = threading.Thread(target=run)
        worker.start()
        assert not finished.wait(0.3)
    worker.join(timeout=30)
    assert finished.is_set()


def test_first_layer_grid(mobilenet):
    grid, limit, shape = first_layer_grid(mobilenet)
    assert shape == (16, 3, 3, 3)
    assert grid.ndim == 3
    assert grid.shape[2] == 3
    weight = mobilenet.model.features[0][0].weight.detach()
    assert limit == pytest.approx(float(weight.abs().max()))


def test_feature_grid_unsigned_orders_by_activity():
    maps = np.zeros((4, 5, 5), dtype=np.float32)
    for channel, level in enumerate([0.1, 3.0, 0.5, 2.0]):
        maps[channel] = level
    maps[1, 0, 0] = 4.0
    grid = feature_grid(maps, count=3, columns=3, per_map=False)
    assert grid.channels == [1, 3, 2]
    assert not grid.signed
    assert grid.value_range == (0.5, 4.0)
    assert grid.image.min() >= 0.0
    assert grid.image.max() <= 1.0


def test_feature_grid_signed_uses_symmetric_limit():
    maps = np.array([[[-2.0, 1.0], [0.0, 0.5]], [[0.1, -0.1], [0.0, 0.0]]], dtype=np.float32)
    grid = feature_grid(maps, count=2, columns=2, per_map=False)
    assert grid.signed
    assert grid.limit == 2.0
    assert grid.value_range == (-2.0, 1.0)


def test_lab_model_wrapper():
    torch.manual_seed(0)
    model = SmallCNN(CNNConfig()).eval()
    loaded = wrap_lab_model(model, tuple("0123456789"), 1, 28, (0.13,), (0.31,), key="lab:test")
    rgb = np.zeros((40, 30, 3), dtype=np.uint8)
    prepared = pretrained.prepare(loaded, rgb)
    result = explain(loaded, prepared.tensor, 3, loaded.default_cam_layer)

    assert [stage.name for stage in loaded.stages] == ["features.0", "features.1"]
    assert loaded.default_cam_layer == "features"
    assert prepared.tensor.shape == (1, 1, 28, 28)
    assert result.heatmap.shape == (1, 28, 28)
