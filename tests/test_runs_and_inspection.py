import csv
import io
import json

import numpy as np
import pytest
import torch

from cnnlab.data import load_mnist_5k
from cnnlab.inspection import (
    ActivationRecorder,
    block_outputs,
    diverging_rgb,
    filter_images,
    order_by_activity,
    prepare_image,
    run_with_feature_maps,
    scale_unsigned,
    tile,
)
from cnnlab.models import build_model, preset
from cnnlab.runs import RunHistory, make_record
from cnnlab.training import EpochMetrics, StepMetrics, TrainConfig, train


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_5k()


@pytest.fixture(scope="module")
def trained(mnist):
    seen = []
    config = TrainConfig(epochs=1, max_steps=30, device="cpu")
    result = train(config, mnist, callback=seen.append)
    steps = [m for m in seen if isinstance(m, StepMetrics)]
    epochs = [m for m in seen if isinstance(m, EpochMetrics)]
    return make_record(1, "#1 test", config, result.status, steps, epochs, result.model, mnist)


def test_record_confusion_matrix_counts_test_set(trained):
    matrix = trained.confusion_matrix()
    assert matrix.shape == (10, 10)
    assert matrix.sum() == 1000
    assert matrix.sum(axis=1).tolist() == [100] * 10
    assert np.trace(matrix) / 1000 == pytest.approx(trained.test_accuracy)


def test_misclassified_filters_by_cell(trained):
    wrong = trained.misclassified()
    assert len(wrong) == 1000 - np.trace(trained.confusion_matrix())
    matrix = trained.confusion_matrix()
    true_class, predicted = np.unravel_index(
        np.argmax(matrix - np.diag(np.diag(matrix))), matrix.shape
    )
    cell = trained.misclassified(int(true_class), int(predicted))
    assert len(cell) == matrix[true_class, predicted]
    assert set(cell) <= set(wrong)


def test_record_model_is_a_cpu_copy(trained):
    assert not trained.model.training
    assert next(trained.model.parameters()).device.type == "cpu"


def test_downloads_round_trip(trained):
    state = torch.load(io.BytesIO(trained.state_dict_bytes()), weights_only=True)
    model = build_model(preset("small"))
    model.load_state_dict(state)
    rows = list(csv.DictReader(io.StringIO(trained.metrics_csv())))
    assert sum(row["kind"] == "step" for row in rows) == len(trained.steps)
    assert sum(row["kind"] == "epoch" for row in rows) == 1
    assert TrainConfig.from_dict(json.loads(trained.config_json())) == trained.config


def test_history_keeps_last_five(trained):
    history = RunHistory()
    for _ in range(7):
        run_id = history.next_id()
        history.add(
            make_record(run_id, f"#{run_id}", trained.config, "stopped", [], [], None, None)
        )
    assert [r.run_id for r in history] == [3, 4, 5, 6, 7]
    assert history.latest.run_id == 7
    assert history.latest_model() is None


def test_feature_maps_for_every_conv_layer(trained, mnist):
    names = block_outputs(trained.model)
    assert names == ["features.0.act", "features.1.act"]
    probabilities, maps = run_with_feature_maps(trained.model, mnist.x_test[:1], names)
    assert probabilities.shape == (10,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert maps["features.0.act"].shape == (16, 28, 28)
    assert maps["features.1.act"].shape == (32, 14, 14)
    assert (maps["features.0.act"] >= 0).all()  # after ReLU


def test_recorder_removes_hooks_after_error(trained):
    model = trained.model
    with pytest.raises(RuntimeError), ActivationRecorder(model, ["features.0.conv"]):
        model(torch.zeros(1, 3, 28, 28))  # wrong channel count
    assert not model.features[0].conv._forward_hooks


def test_single_image_with_batch_norm_works(mnist):
    model = build_model(preset("bn-recipe"))
    model.train()
    probabilities, _ = run_with_feature_maps(model, mnist.x_test[:1])
    assert np.isfinite(probabilities).all()
    assert model.training  # the caller's mode is restored


def test_prepare_photo_for_digit_model(mnist):
    photo = np.full((60, 40, 3), 255, dtype=np.uint8)  # dark digit on white paper
    photo[10:50, 18:22] = 0
    prepared = prepare_image(photo, 1, 28, mnist.mean, mnist.std)
    keys = [step.key for step in prepared.steps]
    assert keys == ["inside.step.original", "inside.step.gray", "inside.step.pad",
                    "inside.step.resize", "inside.step.invert_auto", "inside.step.normalize"]  # fmt: skip
    assert prepared.tensor.shape == (1, 1, 28, 28)
    assert prepared.display.shape == (28, 28)
    assert prepared.display[14, 14] > 0.9  # the stroke is now bright
    assert prepared.display[0, 0] < 0.1
    expected = (prepared.display - mnist.mean[0]) / mnist.std[0]
    assert torch.allclose(prepared.tensor[0, 0], torch.from_numpy(expected), atol=1e-5)


def test_prepare_keeps_rgb_for_color_model():
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[..., 0] = 200
    prepared = prepare_image(image, 3, 32, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), invert=False)
    assert prepared.tensor.shape == (1, 3, 32, 32)
    assert prepared.tensor[0, 0, 0, 0].item() == pytest.approx((200 / 255 - 0.5) / 0.25, abs=1e-5)
    assert "inside.step.gray" not in [s.key for s in prepared.steps]


def test_order_by_activity():
    maps = torch.zeros(3, 2, 2)
    maps[1] = 5
    maps[2] = -1
    assert order_by_activity(maps) == [1, 2, 0]


def test_scaling_reports_mapped_range():
    maps = np.array([[[0.0, 2.0]], [[1.0, 4.0]]])
    shared, (lo, hi) = scale_unsigned(maps, per_map=False)
    assert (lo, hi) == (0.0, 4.0)
    assert shared.max() == 1.0
    per_map, _ = scale_unsigned(maps, per_map=True)
    assert per_map[0].max() == per_map[1].max() == 1.0
    colored, limit = diverging_rgb(np.array([-2.0, 0.0, 1.0]))
    assert limit == 2.0
    assert colored[1].tolist() == [1.0, 1.0, 1.0]  # zero is white
    assert colored[0, 2] > colored[0, 0]  # negative is blue


def test_filter_images_and_tile():
    images, limit = filter_images(torch.randn(8, 1, 3, 3))
    assert images.shape == (8, 3, 3, 3)
    assert images.min() >= 0
    assert images.max() <= 1
    grid = tile(images, columns=4, gap=1)
    assert grid.shape == (2 * 3 + 1, 4 * 3 + 3, 3)
