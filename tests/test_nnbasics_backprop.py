"""Hand-written backpropagation on the 2 → 2 → 1 network against PyTorch autograd."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.backprop import (
    PARAMETERS,
    TinyNet,
    autograd_trace,
    forward_backward,
    random_net,
    schedule,
    sgd_update,
)
from cnnlab.nnbasics.backprop_view import fmt, state_at, step_equations, to_dot

CASES = list(itertools.product(["sigmoid", "tanh"], ["mse", "bce"]))


@pytest.mark.parametrize(("activation", "loss"), CASES)
def test_forward_values_match_autograd(activation, loss):
    manual = forward_backward(TinyNet(), 1.0, 0.5, 1.0, activation, loss)
    reference = autograd_trace(TinyNet(), 1.0, 0.5, 1.0, activation, loss)

    assert set(manual.values) == set(reference.values)
    for name, value in reference.values.items():
        assert manual.values[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name


@pytest.mark.parametrize(("activation", "loss"), CASES)
def test_gradients_match_autograd(activation, loss):
    net = random_net(7)
    manual = forward_backward(net, -0.3, 0.8, 0.0, activation, loss)
    reference = autograd_trace(net, -0.3, 0.8, 0.0, activation, loss)

    assert set(manual.grads) == set(reference.grads)
    for name, grad in reference.grads.items():
        assert manual.grads[name] == pytest.approx(grad, rel=1e-10, abs=1e-15), name


def test_bce_dl_dp_matches_autograd_of_probability_loss():
    trace = forward_backward(TinyNet(), 1.0, 0.5, 1.0, "sigmoid", "bce")
    p = torch.tensor(trace.values["p"], dtype=torch.float64, requires_grad=True)

    F.binary_cross_entropy(p, torch.tensor(1.0, dtype=torch.float64)).backward()

    assert trace.grads["p"] == pytest.approx(float(p.grad), rel=1e-12)


@pytest.mark.parametrize(("activation", "loss"), CASES)
def test_sgd_update_matches_torch_optimizer(activation, loss):
    net = TinyNet()
    trace = forward_backward(net, 1.0, 0.5, 1.0, activation, loss)

    updated = sgd_update(net, trace, lr=0.5)

    params = {
        n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for n, v in net.as_dict().items()
    }
    optimizer = torch.optim.SGD(params.values(), lr=0.5)
    for name, tensor in params.items():
        tensor.grad = torch.tensor(trace.grads[name], dtype=torch.float64)
    optimizer.step()
    for name in PARAMETERS:
        assert getattr(updated, name) == pytest.approx(float(params[name].detach()), rel=1e-12), (
            name
        )


def test_one_update_lowers_the_loss():
    net = TinyNet()
    before = forward_backward(net, 1.0, 0.5, 1.0, "sigmoid", "mse")

    after = forward_backward(sgd_update(net, before, lr=0.1), 1.0, 0.5, 1.0, "sigmoid", "mse")

    assert after.values["L"] < before.values["L"]


def test_bce_stays_finite_for_extreme_logit():
    net = TinyNet(v1=40.0, v2=40.0, c=20.0)

    trace = forward_backward(net, 1.0, 1.0, 0.0, "tanh", "bce")
    reference = autograd_trace(net, 1.0, 1.0, 0.0, "tanh", "bce")

    assert trace.values["L"] == pytest.approx(reference.values["L"], rel=1e-12)
    assert trace.grads["o"] == pytest.approx(reference.grads["o"], rel=1e-12)


def test_bce_rejects_target_outside_unit_interval():
    with pytest.raises(LocalizedError) as info:
        forward_backward(TinyNet(), 1.0, 0.5, 2.0, "sigmoid", "bce")

    assert info.value.key == "nn_bp.error_target"


def test_unknown_activation_raises():
    with pytest.raises(LocalizedError):
        forward_backward(TinyNet(), 1.0, 0.5, 1.0, "relu", "mse")


def test_schedule_covers_every_node_forward_and_backward():
    trace = forward_backward(TinyNet(), 1.0, 0.5, 1.0, "sigmoid", "bce")

    steps = schedule("bce")

    forward = {n for phase, names in steps if phase == "forward" for n in names}
    backward = {n for phase, names in steps if phase == "backward" for n in names}
    assert forward == set(trace.values)
    assert backward == set(trace.grads)
    assert [phase for phase, _ in steps].index("backward") == len(
        [s for s in steps if s[0] == "forward"]
    )


@pytest.mark.parametrize(("activation", "loss"), CASES)
def test_step_equations_end_in_autograd_values(activation, loss):
    net = random_net(3)
    trace = forward_backward(net, 0.7, -1.2, 1.0, activation, loss)
    reference = autograd_trace(net, 0.7, -1.2, 1.0, activation, loss)

    for step in range(1, len(schedule(loss))):
        state = state_at(loss, step)
        equations = step_equations(net, trace, state)
        assert len(equations) == len(state.current)
        for name, equation in zip(state.current, equations, strict=True):
            expected = reference.values[name] if state.phase == "forward" else reference.grads[name]
            assert equation.endswith(f"= {fmt(expected)}"), (name, equation)


def test_graph_shows_gradients_only_after_backward_reaches_them():
    net = TinyNet()
    trace = forward_backward(net, 1.0, 0.5, 1.0, "sigmoid", "mse")

    forward_dot = to_dot(net, trace, state_at("mse", 4))  # L is the last forward step
    backward_dot = to_dot(net, trace, state_at("mse", len(schedule("mse")) - 1))

    assert "∂L/∂" not in forward_dot
    assert f"∂L/∂w₁₁ = {fmt(trace.grads['w11'])}" in backward_dot
    assert f"L = {fmt(trace.values['L'])}" in forward_dot
