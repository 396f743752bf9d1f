"""Backpropagation by hand on a 2 → 2 → 1 network, checked against autograd.

The network, for inputs x = (x1, x2) and a target y::

    z_i = w_i1 x1 + w_i2 x2 + b_i        (i = 1, 2)
    h_i = act(z_i)                        act = sigmoid or tanh
    o   = v1 h1 + v2 h2 + c               the output (a logit for BCE)
    L   = (o - y)²                        MSE
    L   = -[y log p + (1 - y) log(1 - p)], p = σ(o)    BCE

Every value is a float64 scalar. Node names ("z1", "h2", "o", ...) and parameter names
("w11", "b1", "v2", "c") are the keys of ``Trace.values`` and ``Trace.grads``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError

log = logging.getLogger(__name__)

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh")
LOSSES = ("mse", "bce")
PARAMETERS = ("w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c")


@dataclass(frozen=True)
class TinyNet:
    """Parameters of the 2 → 2 → 1 network, by name (see ``PARAMETERS``)."""

    w11: float = 0.5
    w12: float = -0.4
    w21: float = 0.3
    w22: float = 0.8
    b1: float = 0.1
    b2: float = -0.2
    v1: float = 0.7
    v2: float = -0.6
    c: float = 0.05

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in PARAMETERS}


def random_net(seed: int) -> TinyNet:
    """Return a network with weights drawn from U(-1, 1), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return TinyNet(**{name: round(float(rng.uniform(-1, 1)), 2) for name in PARAMETERS})


@dataclass(frozen=True)
class Trace:
    """The forward values and backward gradients of one sample."""

    values: dict[str, float]  # node name -> forward value (x1, x2, y, z1, ..., L)
    grads: dict[str, float]  # node or parameter name -> dL/d(name)
    activation: str
    loss: str


def _act(name: str, z: float) -> tuple[float, float]:
    """Return act(z) and act'(z) for the hidden activation ``name``."""
    if name == "sigmoid":
        h = 1.0 / (1.0 + math.exp(-z))
        return h, h * (1.0 - h)
    h = math.tanh(z)
    return h, 1.0 - h * h


def _check(activation: str, loss: str, y: float) -> None:
    if activation not in HIDDEN_ACTIVATIONS:
        raise LocalizedError("nn_bp.error_activation", name=activation)
    if loss not in LOSSES:
        raise LocalizedError("nn_bp.error_loss", name=loss)
    if loss == "bce" and not 0.0 <= y <= 1.0:
        raise LocalizedError("nn_bp.error_target", y=y)


def forward_backward(
    net: TinyNet, x1: float, x2: float, y: float, activation: str, loss: str
) -> Trace:
    """Run the forward pass, then the backward pass by the chain rule, node by node."""
    _check(activation, loss, y)
    p = net.as_dict()
    v: dict[str, float] = {"x1": x1, "x2": x2, "y": y}
    g: dict[str, float] = {}

    # Forward: each line uses only values computed above it.
    v["z1"] = p["w11"] * x1 + p["w12"] * x2 + p["b1"]
    v["z2"] = p["w21"] * x1 + p["w22"] * x2 + p["b2"]
    v["h1"], dh1_dz1 = _act(activation, v["z1"])
    v["h2"], dh2_dz2 = _act(activation, v["z2"])
    v["o"] = p["v1"] * v["h1"] + p["v2"] * v["h2"] + p["c"]
    if loss == "mse":
        v["L"] = (v["o"] - y) ** 2
    else:
        v["p"] = 1.0 / (1.0 + math.exp(-v["o"]))
        # log(1 - p) = log σ(-o); softplus form keeps it finite for large |o|.
        v["L"] = _softplus(-v["o"]) * y + _softplus(v["o"]) * (1.0 - y)

    # Backward: each gradient is (gradient of the node above) × (local derivative).
    g["L"] = 1.0
    if loss == "mse":
        g["o"] = g["L"] * 2.0 * (v["o"] - y)
    else:
        prob = v["p"]
        g["p"] = g["L"] * _bce_dp(prob, y)
        g["o"] = g["L"] * (prob - y)  # = dL/dp · p(1 - p), without dividing by p(1 - p)
    g["v1"] = g["o"] * v["h1"]
    g["v2"] = g["o"] * v["h2"]
    g["c"] = g["o"]
    g["h1"] = g["o"] * p["v1"]
    g["h2"] = g["o"] * p["v2"]
    g["z1"] = g["h1"] * dh1_dz1
    g["z2"] = g["h2"] * dh2_dz2
    g["w11"] = g["z1"] * x1
    g["w12"] = g["z1"] * x2
    g["w21"] = g["z2"] * x1
    g["w22"] = g["z2"] * x2
    g["b1"] = g["z1"]
    g["b2"] = g["z2"]
    g["x1"] = g["z1"] * p["w11"] + g["z2"] * p["w21"]
    g["x2"] = g["z1"] * p["w12"] + g["z2"] * p["w22"]
    return Trace(v, g, activation, loss)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _bce_dp(prob: float, y: float) -> float:
    """dL/dp of BCE, -y/p + (1 - y)/(1 - p); inf where p has rounded to 0 or 1."""
    with np.errstate(divide="ignore"):
        return float(-y / np.float64(prob) + (1.0 - y) / np.float64(1.0 - prob))


def autograd_trace(
    net: TinyNet, x1: float, x2: float, y: float, activation: str, loss: str
) -> Trace:
    """Compute the same ``Trace`` with PyTorch autograd (float64), the reference for tests."""
    _check(activation, loss, y)
    params = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in net.as_dict().items()
    }
    inputs = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in (("x1", x1), ("x2", x2))
    }
    target = torch.tensor(y, dtype=torch.float64)
    act = torch.sigmoid if activation == "sigmoid" else torch.tanh

    nodes: dict[str, torch.Tensor] = {}
    nodes["z1"] = params["w11"] * inputs["x1"] + params["w12"] * inputs["x2"] + params["b1"]
    nodes["z2"] = params["w21"] * inputs["x1"] + params["w22"] * inputs["x2"] + params["b2"]
    nodes["h1"] = act(nodes["z1"])
    nodes["h2"] = act(nodes["z2"])
    nodes["o"] = params["v1"] * nodes["h1"] + params["v2"] * nodes["h2"] + params["c"]
    if loss == "mse":
        nodes["L"] = F.mse_loss(nodes["o"], target)
    else:
        nodes["p"] = torch.sigmoid(nodes["o"])
        nodes["L"] = F.binary_cross_entropy_with_logits(nodes["o"], target)
    for tensor in nodes.values():
        tensor.retain_grad()

    nodes["L"].backward()

    values = {"x1": x1, "x2": x2, "y": y} | {k: float(t.detach()) for k, t in nodes.items()}
    on_path = {k: t for k, t in (nodes | params | inputs).items() if t.grad is not None}
    grads = {k: float(t.grad) for k, t in on_path.items()}
    if loss == "bce":
        # p is not on autograd's path to L (the loss reads the logit), so dL/dp comes from
        # the formula checked separately against autograd of F.binary_cross_entropy.
        grads["p"] = _bce_dp(values["p"], y)
    return Trace(values, grads, activation, loss)


def sgd_update(net: TinyNet, trace: Trace, lr: float) -> TinyNet:
    """Return the network after one gradient-descent step: θ ← θ - lr · dL/dθ."""
    if lr <= 0:
        raise LocalizedError("nn_bp.error_lr", lr=lr)
    updates = {name: getattr(net, name) - lr * trace.grads[name] for name in PARAMETERS}
    return replace(net, **updates)


def schedule(loss: str) -> list[tuple[str, tuple[str, ...]]]:
    """Return the lesson's steps: (phase, names that become known), forward then backward.

    Phase is "forward" or "backward". Step 0 shows only the inputs.
    """
    output = ("o", "p", "L") if loss == "bce" else ("o", "L")
    forward = [
        ("forward", ("x1", "x2", "y")),
        ("forward", ("z1", "z2")),
        ("forward", ("h1", "h2")),
    ] + [("forward", (name,)) for name in output]
    backward = [("backward", (name,)) for name in reversed(output)] + [
        ("backward", ("v1", "v2", "c", "h1", "h2")),
        ("backward", ("z1", "z2")),
        ("backward", ("w11", "w12", "w21", "w22", "b1", "b2", "x1", "x2")),
    ]
    return forward + backward
