"""Weight initialization lesson: schemes vs torch.nn.init, statistics, symmetry."""

import math

import numpy as np
import pytest
import torch
from optim_support import tiny_mnist
from torch import nn

from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.optim.initialization import (
    DeepNarrowCNN,
    InitStudy,
    apply_init,
    filter_grid,
    filter_symmetry,
    init_statistics,
    init_trials,
    scheme_statistics,
    weighted_layers,
)


def fresh(scheme: str, depth: int = 6, width: int = 8, activation: str = "relu") -> DeepNarrowCNN:
    torch.manual_seed(0)
    return apply_init(DeepNarrowCNN(1, 10, depth, width, activation), scheme)


def test_model_shapes():
    model = DeepNarrowCNN(1, 10, depth=9, width=4)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert model.forward_features(torch.zeros(1, 1, 28, 28)).shape == (1, 4, 7, 7)
    assert len([m for m in model.modules() if isinstance(m, nn.Conv2d)]) == 9


def test_zero_and_constant_values():
    zeros = fresh("zeros")
    assert all(m.weight.detach().abs().max().item() == 0.0 for _, m in weighted_layers(zeros))
    constant = fresh("constant")
    conv = constant.features[2]
    assert torch.allclose(conv.weight, torch.full_like(conv.weight, 1 / (8 * 9)))


@pytest.mark.parametrize(("scheme", "activation", "expected_std"), [
    ("kaiming", "relu", lambda fan_in, fan_out: math.sqrt(2) / math.sqrt(fan_in)),
    ("xavier", "relu", lambda fan_in, fan_out: math.sqrt(2) * math.sqrt(2 / (fan_in + fan_out))),
    ("xavier", "tanh", lambda fan_in, fan_out: 5 / 3 * math.sqrt(2 / (fan_in + fan_out))),
    ("small_normal", "relu", lambda fan_in, fan_out: 0.01),
    ("large_normal", "relu", lambda fan_in, fan_out: 1.0),
])  # fmt: skip
def test_scheme_std_matches_formula(scheme, activation, expected_std):
    model = fresh(scheme, depth=4, width=64, activation=activation)
    conv = model.features[2]  # 64 -> 64 channels, 3×3: fan_in = fan_out = 576
    fan_in = fan_out = 64 * 9
    assert conv.weight.detach().std().item() == pytest.approx(
        expected_std(fan_in, fan_out), rel=0.05
    )
    assert conv.bias.detach().abs().max().item() == 0.0


def test_kaiming_matches_torch_init():
    model = fresh("kaiming", depth=3, width=16)
    torch.manual_seed(0)
    reference = torch.empty(16, 16, 3, 3)
    nn.init.kaiming_normal_(reference, mode="fan_in", nonlinearity="relu")
    assert model.features[2].weight.detach().std().item() == pytest.approx(
        reference.std().item(), rel=0.1
    )


def test_unknown_scheme_rejected():
    with pytest.raises(ValueError, match="unknown scheme"):
        apply_init(DeepNarrowCNN(1, 10), "orthogonal")


def test_statistics_per_layer():
    data = tiny_mnist()
    stats = init_statistics(fresh("kaiming"), data.x_test[:32], data.y_test[:32])
    assert stats.layers == [f"conv {i}" for i in range(1, 7)] + ["linear"]
    assert stats.activation_std.shape == (7,)
    assert stats.gradient_std.shape == (7,)
    assert np.all(stats.gradient_std > 0)
    assert math.isfinite(stats.loss)


def test_zero_init_has_no_gradient_in_convs():
    data = tiny_mnist()
    stats = init_statistics(fresh("zeros"), data.x_test[:32], data.y_test[:32])
    assert np.all(stats.activation_std == 0)
    assert np.all(stats.gradient_std == 0)


def test_small_normal_vanishes_large_explodes():
    stats = scheme_statistics(
        tiny_mnist(), ("small_normal", "large_normal", "kaiming"), 8, 8, "relu", batch=64
    )
    small = stats["small_normal"].activation_std
    large = stats["large_normal"].activation_std
    kaiming = stats["kaiming"].activation_std
    assert small[-2] < 1e-6
    assert large[-2] > 1e3
    assert 1e-2 < kaiming[-2] < 10


def test_filter_symmetry_of_constant_init():
    rows = filter_symmetry(fresh("constant"))
    assert len(rows) == 6
    assert all(row.identical for row in rows)
    assert all(row.max_pairwise_diff == 0.0 for row in rows)
    assert not any(row.identical for row in filter_symmetry(fresh("kaiming")))


def test_filter_symmetry_equals_pairwise_max():
    model = fresh("kaiming", depth=2, width=5)
    weight = model.features[2].weight.detach()
    pairwise = max((weight[i] - weight[j]).abs().max().item() for i in range(5) for j in range(5))
    assert filter_symmetry(model)[1].max_pairwise_diff == pytest.approx(pairwise)


def test_filter_grid_layout():
    grid = filter_grid(fresh("kaiming", width=4))
    assert grid.shape == (3, 4 * 4 - 1)
    assert np.isnan(grid[:, 3]).all()


@pytest.mark.parametrize("scheme", ["zeros", "constant"])
def test_training_keeps_filters_identical(scheme):
    data = tiny_mnist(200)
    study = InitStudy(depth=4, width=4, subset=100, epochs=2, batch_size=25)
    job = TrainingJob(init_trials(study, [scheme, "kaiming"], {scheme: scheme, "kaiming": "k"}), lambda: data,
                      JobSlots(1)).start()  # fmt: skip
    job.join(120)
    assert job.snapshot().state == "finished"
    symmetric, kaiming = job.results
    assert all(row.identical for row in filter_symmetry(symmetric.model))
    assert not any(row.identical for row in filter_symmetry(kaiming.model))
    if scheme == "constant":
        # The filters did move: they stayed equal to each other, not to their start.
        first = symmetric.model.features[0].weight
        assert not torch.allclose(first, torch.full_like(first, 1 / 9))
