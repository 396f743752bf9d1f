"""The "Inspect a pretrained network" page under AppTest, in both languages.

Nothing is downloaded: ``TORCH_HOME`` points at an empty folder, so the ImageNet models
take the offline path, and the lab path uses a CNN trained here for a few steps.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.error import URLError

import pytest
import torch
import torchvision
from streamlit.testing.v1 import AppTest

import cnnlab.pretrained as pretrained
from cnnlab.datasets import load_dataset
from cnnlab.i18n import translate
from cnnlab.imageio import load_sample
from cnnlab.model_inspection import analyze, explain, feature_grid, top_classes
from cnnlab.models import preset
from cnnlab.runs import RunHistory, make_record
from cnnlab.training import EpochMetrics, StepMetrics, TrainConfig, train

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "app_pages/pretrained.py"


@pytest.fixture(scope="module")
def lab_record():
    """A finished lab run: the tiny preset trained for a few steps on MNIST-5k."""
    data = load_dataset("mnist-5k")
    config = TrainConfig(dataset="mnist-5k", model=preset("tiny"), epochs=1, batch_size=32,
                         max_steps=6, device="cpu")  # fmt: skip
    metrics = []
    result = train(config, data, callback=metrics.append)
    steps = [m for m in metrics if isinstance(m, StepMetrics)]
    epochs = [m for m in metrics if isinstance(m, EpochMetrics)]
    return make_record(1, "#1 tiny", config, "finished", steps, epochs, result.model, data)


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


def open_pretrained(lang: str, history: RunHistory | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    if history is not None:
        at.session_state["lab_history"] = history
    at.run()
    at.switch_page(PAGE)
    at.run()
    return at


def expected_lab_results(record):
    """What the page should show for the default sample photo, computed directly."""
    data = load_dataset(record.config.dataset, seed=record.config.seed)
    loaded = pretrained.wrap_lab_model(record.model, record.classes, data.in_channels,
                                       data.image_size, data.mean, data.std, key="test")  # fmt: skip
    x = pretrained.prepare(loaded, load_sample("astronaut").rgb).tensor
    analysis = analyze(loaded, x)
    top = top_classes(analysis.probabilities, 5)
    cams = {index: explain(loaded, x, index, "features") for index in top[:2]}
    cams["conv", top[1]] = explain(loaded, x, top[1], "features.0.conv")
    return analysis.probabilities, analysis.maps, top, cams


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def test_lab_model_path(empty_torch_home, lab_record, lang):
    history = RunHistory()
    history.add(lab_record)
    at = open_pretrained(lang, history)
    assert not at.exception
    assert at.title[0].value == translate("pretrained.nav_title", lang)
    assert at.segmented_control(key="pretrained_model").value == "lab"

    probabilities, maps, top, cams = expected_lab_results(lab_record)
    rest = 100 * (1 - float(probabilities[top].sum()))
    assert translate("pretrained.predict.rest", lang, count=5, rest=f"{rest:.1f}") in captions(at)

    def cam_caption(index: int, layer: str, channels: int, size: int, score: float, peak: float):
        return translate("pretrained.cam.caption", lang, layer=layer, channels=channels, h=size,
                         w=size, label=lab_record.classes[index], score=f"{score:.3f}",
                         width=28, height=28, peak=f"{peak:.3g}")  # fmt: skip

    first = cams[top[0]]
    assert cam_caption(top[0], "features", 16, 7, first.scores[0], first.peak[0]) in captions(at)

    at.selectbox(key="pretrained_cam_class").set_value(top[1]).run()
    second = cams[top[1]]
    assert not at.exception
    assert cam_caption(top[1], "features", 16, 7, second.scores[0], second.peak[0]) in captions(at)

    at.selectbox(key="pretrained_cam_layer_lab").set_value("features.0.conv").run()
    conv = cams[("conv", top[1])]
    assert not at.exception
    expected = cam_caption(top[1], "features.0.conv", 8, 28, conv.scores[0], conv.peak[0])
    assert expected in captions(at)

    at.selectbox(key="pretrained_stage_lab").set_value("features.0").run()
    grid = feature_grid(maps["features.0"], 8, columns=8, per_map=True)
    expected = translate("pretrained.maps.caption_unsigned", lang,
                         channels=", ".join(map(str, grid.channels)), total=8, h=14, w=14,
                         low=f"{grid.value_range[0]:.3g}", high=f"{grid.value_range[1]:.3g}")  # fmt: skip
    assert not at.exception
    assert any(c.startswith(expected) for c in captions(at))


def test_offline_path(empty_torch_home, monkeypatch, lang):
    def no_network(url, timeout):
        raise URLError("no route to host")

    monkeypatch.setattr(pretrained, "urlopen", no_network)
    at = open_pretrained(lang)
    assert not at.exception
    assert at.segmented_control(key="pretrained_model").value == "resnet18"
    folder = empty_torch_home / "hub" / "checkpoints"
    missing = translate("pretrained.weights.missing", lang, model="ResNet-18",
                        file="resnet18-f37072fd.pth", size_mb="45", folder=str(folder))  # fmt: skip
    assert at.info[0].value == missing
    assert len(at.subheader) == 0  # nothing is computed without a model
    assert at.page_link[0].label == translate("pretrained.lab.link", lang)

    at.button(key="pretrained_download_resnet18").click().run()
    assert not at.exception
    offline = translate("pretrained.error.offline", lang, model="resnet18",
                        reason="no route to host", file="resnet18-f37072fd.pth")  # fmt: skip
    assert at.error[0].value == offline
    assert not (folder / "resnet18-f37072fd.pth").exists()


def test_lab_choice_without_run(empty_torch_home):
    at = open_pretrained("zh")
    at.segmented_control(key="pretrained_model").set_value("lab").run()
    assert not at.exception
    assert at.info[0].value == translate("pretrained.lab.none", "zh")
    assert at.page_link[0].label == translate("pretrained.lab.link", "zh")


def test_uploaded_weights(empty_torch_home):
    torch.manual_seed(0)
    model = torchvision.models.get_model("mobilenet_v3_small", weights=None)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)

    at = open_pretrained("en")
    at.segmented_control(key="pretrained_model").set_value("mobilenet_v3_small").run()
    uploader = at.file_uploader(key="pretrained_weights_mobilenet_v3_small")
    uploader.set_value(("broken.pth", b"not a weights file", "application/octet-stream")).run()
    assert not at.exception
    assert at.error[0].value == translate("pretrained.error.bad_file", "en")

    uploader = at.file_uploader(key="pretrained_weights_mobilenet_v3_small")
    uploader.set_value(("mobilenet.pth", buffer.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    assert any(translate("pretrained.origin.file", "en") in c for c in captions(at))
    assert len(at.subheader) == 5
    assert any(c.startswith("Layer features: 576 maps of 7×7") for c in captions(at))
