"""Activation functions: autograd derivatives against closed forms, and the lesson's demos."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.activations import (
    ACTIVATIONS,
    closed_form_derivative,
    dead_relu_share,
    push_distribution,
    saturation_intervals,
    softmax_with_temperature,
    value_and_grad,
)

# Avoid x = 0 exactly, where ReLU-type functions have a kink.
GRID = np.linspace(-6.0, 6.0, 241) + 1e-3


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_autograd_derivative_matches_closed_form(name):
    _, grads = value_and_grad(name, GRID)

    np.testing.assert_allclose(grads, closed_form_derivative(name, GRID), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_value_matches_torch_module(name):
    modules = {
        "sigmoid": torch.nn.Sigmoid(),
        "tanh": torch.nn.Tanh(),
        "relu": torch.nn.ReLU(),
        "leaky_relu": torch.nn.LeakyReLU(),
        "elu": torch.nn.ELU(),
        "gelu": torch.nn.GELU(),
        "silu": torch.nn.SiLU(),
        "softplus": torch.nn.Softplus(),
    }
    values, _ = value_and_grad(name, GRID)

    expected = modules[name](torch.tensor(GRID)).numpy()
    np.testing.assert_allclose(values, expected, rtol=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_matches_finite_difference(name):
    step = 1e-6
    plus, _ = value_and_grad(name, GRID + step)
    minus, _ = value_and_grad(name, GRID - step)
    _, grads = value_and_grad(name, GRID)

    np.testing.assert_allclose(grads, (plus - minus) / (2 * step), atol=1e-6)


def test_unknown_activation_raises_localized_error():
    with pytest.raises(LocalizedError) as info:
        value_and_grad("swish2", GRID)

    assert info.value.key == "nn_act.error_unknown"


def test_sigmoid_saturates_on_both_sides():
    _, grads = value_and_grad("sigmoid", GRID)

    intervals = saturation_intervals(GRID, grads, threshold=0.01)

    assert len(intervals) == 2
    assert intervals[0][0] == GRID[0]
    assert intervals[1][1] == GRID[-1]
    # σ'(x) = 0.01 at |x| ≈ 4.59.
    assert intervals[0][1] == pytest.approx(-4.6, abs=0.06)
    assert intervals[1][0] == pytest.approx(4.6, abs=0.06)


def test_relu_saturates_only_left_of_zero():
    _, grads = value_and_grad("relu", GRID)

    intervals = saturation_intervals(GRID, grads, threshold=0.01)

    assert len(intervals) == 1
    assert intervals[0][1] < 0
    assert intervals[0][1] > -0.06


def test_leaky_relu_never_saturates_at_small_threshold():
    _, grads = value_and_grad("leaky_relu", GRID)

    assert saturation_intervals(GRID, grads, threshold=0.005) == []


def test_shifted_inputs_kill_sigmoid_gradients():
    centred = push_distribution("sigmoid", mean=0.0, std=1.0, threshold=0.01)
    shifted = push_distribution("sigmoid", mean=6.0, std=1.0, threshold=0.01)

    assert centred.dead_share < 0.01
    assert shifted.dead_share > 0.4
    np.testing.assert_allclose(shifted.outputs, torch.sigmoid(torch.tensor(shifted.inputs)))


def test_relu_kills_half_of_centred_inputs():
    result = push_distribution("relu", mean=0.0, std=1.0, threshold=0.01, n=20000)

    assert result.dead_share == pytest.approx(0.5, abs=0.02)


def test_push_distribution_rejects_zero_spread():
    with pytest.raises(LocalizedError):
        push_distribution("relu", mean=0.0, std=0.0, threshold=0.01)


def test_large_negative_bias_kills_relu_units():
    healthy = dead_relu_share(bias=0.0)
    dying = dead_relu_share(bias=-3.0)

    assert healthy.dead_share == 0.0
    assert dying.dead_share > 0.9
    assert dying.pre_activation_mean == pytest.approx(-3.0, abs=0.1)


def test_dead_relu_rates_are_per_unit_shares():
    result = dead_relu_share(bias=-1.0, in_features=4, out_features=8, batch=32, seed=3)

    assert result.active_rate.shape == (8,)
    assert np.all((result.active_rate >= 0) & (result.active_rate <= 1))


@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_softmax_temperature_matches_torch(temperature):
    logits = np.array([2.0, -1.0, 0.5, 3.0])

    probs = softmax_with_temperature(logits, temperature)

    expected = F.softmax(torch.tensor(logits) / temperature, dim=0).numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-12)


def test_high_temperature_flattens_softmax():
    logits = np.array([2.0, -1.0, 0.5])

    assert softmax_with_temperature(logits, 100.0).max() < 0.35
    assert softmax_with_temperature(logits, 0.05).max() > 0.999


def test_softmax_rejects_non_positive_temperature():
    with pytest.raises(LocalizedError):
        softmax_with_temperature(np.array([1.0, 2.0]), 0.0)
