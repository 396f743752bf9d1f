"""Gradient flow: vanishing and exploding gradients, their remedies, and clipping."""

import math

import numpy as np
import pytest
import torch

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.gradient_flow import (
    FlowConfig,
    build_model,
    load_flow_data,
    run_flow,
)


@pytest.fixture(scope="module")
def spirals():
    return load_flow_data("spirals")


def first_and_last(config, data):
    grads = run_flow(config, data).as_arrays()["grad_norm"][0]
    return grads[0], grads[-1]


def test_deep_sigmoid_small_init_vanishes(spirals):
    first, last = first_and_last(
        FlowConfig(activation="sigmoid", init="small_normal", steps=0), spirals
    )

    assert first > 0
    assert first < last * 1e-6


def test_deep_tanh_large_init_explodes(spirals):
    first, last = first_and_last(
        FlowConfig(activation="tanh", init="large_normal", steps=0), spirals
    )

    assert first > last * 1e3


def test_relu_with_kaiming_keeps_gradients_in_range(spirals):
    first, last = first_and_last(FlowConfig(activation="relu", init="kaiming", steps=0), spirals)

    assert 1e-2 < first / last < 1e2


@pytest.mark.parametrize(
    "remedy", [{"norm": "batchnorm"}, {"residual": True}], ids=["batchnorm", "residual"]
)
def test_remedies_lift_first_layer_gradient(spirals, remedy):
    plain, _ = first_and_last(
        FlowConfig(activation="sigmoid", init="small_normal", steps=0), spirals
    )

    fixed, last = first_and_last(
        FlowConfig(activation="sigmoid", init="small_normal", steps=0, **remedy), spirals
    )

    assert fixed > plain * 1e10
    assert fixed > last * 1e-2


def test_clipping_caps_total_and_update_norm(spirals):
    config = FlowConfig(activation="tanh", init="large_normal", clip_norm=1.0, lr=0.05, steps=5)

    history = run_flow(config, spirals).as_arrays()

    assert history["total_norm"][1] > 100.0
    np.testing.assert_allclose(history["clipped_norm"][1:], 1.0, rtol=1e-4)
    assert np.all(history["update_norm"][1:] <= 0.05 * 1.0 * (1 + 1e-4))
    assert math.isnan(history["update_norm"][0])


def test_without_clipping_update_is_lr_times_gradient(spirals):
    config = FlowConfig(activation="relu", init="kaiming", lr=0.05, steps=3)

    history = run_flow(config, spirals).as_arrays()

    np.testing.assert_allclose(history["clipped_norm"], history["total_norm"])
    np.testing.assert_allclose(
        history["update_norm"][1:], 0.05 * history["total_norm"][1:], rtol=1e-4
    )


def test_history_shapes(spirals):
    config = FlowConfig(depth=6, steps=4)

    history = run_flow(config, spirals).as_arrays()

    assert history["grad_norm"].shape == (5, 7)
    assert history["act_mean"].shape == (5, 6)
    assert history["act_std"].shape == (5, 6)
    assert history["loss"].shape == (5,)


def test_activation_stats_match_direct_forward(spirals):
    config = FlowConfig(depth=4, activation="tanh", init="xavier", steps=0)
    model = build_model(config, spirals)
    generator = torch.Generator().manual_seed(config.seed + 1)
    index = torch.randint(0, spirals.x.shape[0], (config.batch_size,), generator=generator)

    with torch.no_grad():
        _, hidden = model(spirals.x[index])

    history = run_flow(config, spirals).as_arrays()
    np.testing.assert_allclose(history["act_std"][0], [float(h.std()) for h in hidden], rtol=1e-5)


@pytest.mark.parametrize("init", ["xavier", "kaiming"])
def test_init_std_follows_fan(spirals, init):
    model = build_model(FlowConfig(depth=3, width=200, init=init), spirals)

    weight = model.linears[1].weight
    expected = math.sqrt(2 / 400) if init == "xavier" else math.sqrt(2 / 200)
    assert float(weight.detach().std()) == pytest.approx(expected, rel=0.03)


def test_mnist_data_is_flat_and_normalized():
    data = load_flow_data("mnist")

    assert data.x.shape == (5000, 784)
    assert data.classes == 10
    assert abs(float(data.x.mean())) < 0.2


def test_invalid_options_raise(spirals):
    with pytest.raises(LocalizedError):
        build_model(FlowConfig(init="orthogonal"), spirals)
    with pytest.raises(LocalizedError):
        run_flow(FlowConfig(clip_norm=-1.0), spirals)
