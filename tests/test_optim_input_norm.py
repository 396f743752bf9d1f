"""Input normalization: data statistics, input scales, and norm layers vs PyTorch."""

import numpy as np
import pytest
import torch
from optim_support import tiny_mnist

from cnnlab.data import load_mnist_5k
from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.optim.input_norm import (
    INPUT_SCALES,
    NORM_KINDS,
    InputScaleStudy,
    channel_stats,
    feature_batch,
    group_ids,
    input_scale_trials,
    normalize_by_hand,
    pixel_samples,
    rescale_inputs,
    standardize,
    torch_norm_layer,
    training_images,
)
from cnnlab.shapes import ShapesConfig, load_shapes


def test_mnist_stats_match_labdata():
    mean, std = channel_stats(training_images("mnist-5k"))
    data = load_mnist_5k()
    assert mean == pytest.approx(data.mean, rel=1e-5)
    assert std == pytest.approx(data.std, rel=1e-5)


def test_shapes_stats_match_labdata():
    mean, std = channel_stats(training_images("shapes"))
    data = load_shapes(ShapesConfig())
    assert len(mean) == 3
    assert mean == pytest.approx(data.mean, rel=1e-5)
    assert std == pytest.approx(data.std, rel=1e-5)


def test_channel_stats_matches_torch():
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3, 3), dtype=np.uint8)
    mean, std = channel_stats(images)
    x = torch.from_numpy(images).double() / 255
    assert mean == pytest.approx(x.mean(dim=(0, 1, 2)).numpy())
    assert std == pytest.approx(x.std(dim=(0, 1, 2)).numpy())


def test_normalized_pixels_have_zero_mean_unit_std():
    images = training_images("mnist-5k")
    mean, std = channel_stats(images)
    normalized = standardize(images / 255.0, mean, std)
    assert normalized.mean() == pytest.approx(0.0, abs=1e-9)
    assert normalized.std(ddof=1) == pytest.approx(1.0, rel=1e-9)


def test_pixel_samples_in_unit_range():
    samples = pixel_samples(training_images("shapes"), count=500)
    assert samples.shape == (500, 3)
    assert samples.min() >= 0
    assert samples.max() <= 1


def test_rescale_inputs_ranges():
    data = tiny_mnist()
    unit = rescale_inputs(data, "unit")
    byte = rescale_inputs(data, "bytes")
    assert float(unit.x_train.min()) == pytest.approx(0.0, abs=1e-6)
    assert float(unit.x_train.max()) == pytest.approx(1.0, abs=1e-6)
    assert float(byte.x_train.max()) == pytest.approx(255.0, abs=1e-3)
    assert rescale_inputs(data, "normalized") is data


def test_input_scale_runs_finish():
    data = tiny_mnist(200)
    study = InputScaleStudy(subset=100, epochs=1, batch_size=50)
    trials = input_scale_trials(study, list(INPUT_SCALES), {s: s for s in INPUT_SCALES})
    job = TrainingJob(trials, lambda: data, JobSlots(1)).start()
    job.join(120)
    assert job.snapshot().state == "finished"
    assert float(job.trial_data[2].x_test.max()) > 100


@pytest.mark.parametrize("kind", NORM_KINDS)
def test_norm_by_hand_equals_pytorch(kind):
    x = torch.randn(4, 8, 5, 6) * 3 + 1
    ours = normalize_by_hand(x, kind, groups=4)
    layer = torch_norm_layer(kind, 8, 5, 6, groups=4).train()
    torch.testing.assert_close(ours.output, layer(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("groups", [1, 2, 8])
def test_group_norm_extremes(groups):
    x = torch.randn(3, 8, 4, 4)
    layer = torch_norm_layer("group", 8, 4, 4, groups=groups)
    torch.testing.assert_close(
        normalize_by_hand(x, "group", groups).output, layer(x), atol=1e-5, rtol=1e-5
    )


def test_group_norm_with_one_group_is_layer_norm():
    x = torch.randn(3, 8, 4, 4)
    torch.testing.assert_close(
        normalize_by_hand(x, "group", 1).output, normalize_by_hand(x, "layer").output
    )


def test_group_ids_layouts():
    assert group_ids("batch", 2, 4).tolist() == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert group_ids("layer", 2, 4).tolist() == [[0, 0, 0, 0], [1, 1, 1, 1]]
    assert group_ids("group", 2, 4, groups=2).tolist() == [[0, 0, 1, 1], [2, 2, 3, 3]]
    assert group_ids("instance", 2, 2).tolist() == [[0, 1], [2, 3]]


def test_group_ids_reject_uneven_groups():
    with pytest.raises(ValueError, match="equal groups"):
        group_ids("group", 2, 8, groups=3)


def test_norm_reports_stats_per_cell():
    x = torch.randn(2, 4, 3, 3)
    result = normalize_by_hand(x, "batch")
    assert result.mean[0, 1] == pytest.approx(x[:, 1].mean().item(), abs=1e-6)
    assert result.mean[1, 1] == result.mean[0, 1]
    expected_std = (x[:, 1].var(unbiased=False) + 1e-5).sqrt().item()
    assert result.std[0, 1] == pytest.approx(expected_std, rel=1e-5)


def test_feature_batch_shape():
    batch = feature_batch(tiny_mnist(), 4)
    assert batch.shape == (4, 8, 28, 28)
    assert float(batch.min()) >= 0
