"""Activation functions, their derivatives from autograd, and where their gradients die.

All arrays are float64 NumPy arrays of any shape unless a docstring states otherwise. The
functions compute in float64, so the plotted derivative is exact to the shown digits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError

log = logging.getLogger(__name__)

LEAKY_SLOPE = 0.01  # torch's default negative_slope for leaky_relu
ELU_ALPHA = 1.0  # torch's default alpha for elu


@dataclass(frozen=True)
class ActivationSpec:
    """One activation function: its torch callable and its formula in LaTeX."""

    name: str  # stable id used in URLs and keys, e.g. "leaky_relu"
    label: str  # display name, the same in both languages, e.g. "Leaky ReLU"
    fn: Callable[[torch.Tensor], torch.Tensor]
    formula: str  # LaTeX of f(x)
    derivative: str  # LaTeX of f'(x)


ACTIVATIONS: dict[str, ActivationSpec] = {
    "sigmoid": ActivationSpec(
        "sigmoid",
        "sigmoid",
        torch.sigmoid,
        r"\sigma(x) = \frac{1}{1 + e^{-x}}",
        r"\sigma'(x) = \sigma(x)\,(1 - \sigma(x))",
    ),
    "tanh": ActivationSpec(
        "tanh",
        "tanh",
        torch.tanh,
        r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
        r"\tanh'(x) = 1 - \tanh^2(x)",
    ),
    "relu": ActivationSpec(
        "relu",
        "ReLU",
        F.relu,
        r"\mathrm{ReLU}(x) = \max(0, x)",
        r"\mathrm{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}",
    ),
    "leaky_relu": ActivationSpec(
        "leaky_relu",
        "Leaky ReLU",
        lambda x: F.leaky_relu(x, LEAKY_SLOPE),
        r"\mathrm{LeakyReLU}(x) = \begin{cases} x & x > 0 \\ 0.01\,x & x \le 0 \end{cases}",
        r"\mathrm{LeakyReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0.01 & x \le 0 \end{cases}",
    ),
    "elu": ActivationSpec(
        "elu",
        "ELU",
        lambda x: F.elu(x, ELU_ALPHA),
        r"\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ e^{x} - 1 & x \le 0 \end{cases}",
        r"\mathrm{ELU}'(x) = \begin{cases} 1 & x > 0 \\ e^{x} & x \le 0 \end{cases}",
    ),
    "gelu": ActivationSpec(
        "gelu",
        "GELU",
        F.gelu,
        r"\mathrm{GELU}(x) = x\,\Phi(x),\quad \Phi(x) = \tfrac{1}{2}\left(1 + "
        r"\mathrm{erf}(x/\sqrt{2})\right)",
        r"\mathrm{GELU}'(x) = \Phi(x) + x\,\varphi(x),\quad "
        r"\varphi(x) = \tfrac{1}{\sqrt{2\pi}} e^{-x^2/2}",
    ),
    "silu": ActivationSpec(
        "silu",
        "SiLU (Swish)",
        F.silu,
        r"\mathrm{SiLU}(x) = x\,\sigma(x)",
        r"\mathrm{SiLU}'(x) = \sigma(x)\,\bigl(1 + x\,(1 - \sigma(x))\bigr)",
    ),
    "softplus": ActivationSpec(
        "softplus",
        "Softplus",
        F.softplus,
        r"\mathrm{Softplus}(x) = \ln(1 + e^{x})",
        r"\mathrm{Softplus}'(x) = \sigma(x)",
    ),
}


def get_activation(name: str) -> ActivationSpec:
    """Return the spec of ``name``; raise ``LocalizedError`` for an unknown name."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise LocalizedError(
            "nn_act.error_unknown", name=name, known=", ".join(ACTIVATIONS)
        ) from None


def value_and_grad(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate activation ``name`` and its derivative f'(x) with autograd.

    ``x`` is any shape; both outputs have that shape and dtype float64. The derivative is
    elementwise, so summing the outputs before ``backward()`` gives f'(x) at every point.
    At a kink (ReLU at 0) the value is PyTorch's choice, 0.
    """
    spec = get_activation(name)
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)

    outputs = spec.fn(inputs)
    (grads,) = torch.autograd.grad(outputs.sum(), inputs)

    return outputs.detach().numpy(), grads.numpy()


def closed_form_derivative(name: str, x: np.ndarray) -> np.ndarray:
    """Return f'(x) from the textbook formula shown on screen (float64, shape of ``x``).

    This is the hand-written counterpart of ``value_and_grad``; tests check both agree.
    """
    x = np.asarray(x, dtype=np.float64)
    sig = 1.0 / (1.0 + np.exp(-x))
    if name == "sigmoid":
        return sig * (1.0 - sig)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, LEAKY_SLOPE)
    if name == "elu":
        return np.where(x > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(x, 0.0)))
    if name == "gelu":
        cdf = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)
        return cdf + x * pdf
    if name == "silu":
        return sig * (1.0 + x * (1.0 - sig))
    if name == "softplus":
        return sig
    raise LocalizedError("nn_act.error_unknown", name=name, known=", ".join(ACTIVATIONS))


def saturation_intervals(
    x: np.ndarray, grad: np.ndarray, threshold: float
) -> list[tuple[float, float]]:
    """Return the x-intervals where |f'(x)| < ``threshold``, for shading on the plot.

    ``x`` is sorted ascending, shape (N,); ``grad`` has the same shape. Each interval runs
    from the first to the last sample of a run of saturated points.
    """
    saturated = np.abs(grad) < threshold
    intervals: list[tuple[float, float]] = []
    start = None
    for index, flag in enumerate(saturated):
        if flag and start is None:
            start = index
        if not flag and start is not None:
            intervals.append((float(x[start]), float(x[index - 1])))
            start = None
    if start is not None:
        intervals.append((float(x[start]), float(x[-1])))
    return intervals


@dataclass(frozen=True)
class PushedDistribution:
    """Inputs drawn from N(mean, std²) and what the activation makes of them."""

    inputs: np.ndarray  # (N,) float64
    outputs: np.ndarray  # (N,) float64, f(inputs)
    grads: np.ndarray  # (N,) float64, f'(inputs)
    dead_share: float  # share of inputs with |f'| < threshold, in [0, 1]


def push_distribution(
    name: str, mean: float, std: float, threshold: float, n: int = 5000, seed: int = 0
) -> PushedDistribution:
    """Draw ``n`` inputs from N(mean, std²), pass them through ``name``, and measure f'.

    ``dead_share`` counts inputs whose local gradient magnitude is below ``threshold``:
    a gradient that arrives there is multiplied by almost zero on its way back.
    """
    if std <= 0:
        raise LocalizedError("nn_act.error_std", std=std)
    rng = np.random.default_rng(seed)
    inputs = rng.normal(mean, std, size=n)

    outputs, grads = value_and_grad(name, inputs)

    dead_share = float(np.mean(np.abs(grads) < threshold))
    return PushedDistribution(inputs, outputs, grads, dead_share)


@dataclass(frozen=True)
class DeadReluResult:
    """How many ReLU units of a linear layer never activate on a batch."""

    active_rate: np.ndarray  # (out_features,) share of samples where each unit is > 0
    dead_share: float  # share of units with active_rate == 0, in [0, 1]
    pre_activation_mean: float  # mean of W x + b over the batch and units


def dead_relu_share(
    bias: float, in_features: int = 16, out_features: int = 64, batch: int = 256, seed: int = 0
) -> DeadReluResult:
    """Measure dead ReLU units in ``relu(Linear(in_features, out_features)(x))``.

    Inputs are a batch of shape (batch, in_features) from N(0, 1). Weights follow PyTorch's
    default ``nn.Linear`` initialization, U(-1/√in, 1/√in), and every bias is ``bias``.
    A unit is dead on this batch when its pre-activation is ≤ 0 for every sample. Its output
    and its gradient are then 0, so gradient descent cannot revive it.
    """
    generator = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(in_features)  # PyTorch's default nn.Linear weight range

    weight = (torch.rand(out_features, in_features, generator=generator) * 2 - 1) * bound
    inputs = torch.randn(batch, in_features, generator=generator)
    pre = inputs @ weight.T + bias  # (batch, in_features) -> (batch, out_features)

    active_rate = (pre > 0).double().mean(dim=0).numpy()
    dead_share = float(np.mean(active_rate == 0))
    return DeadReluResult(active_rate, dead_share, float(pre.mean()))


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Return softmax(logits / T) computed stably (float64, shape (K,), sums to 1).

    A temperature above 1 flattens the distribution, below 1 sharpens it toward argmax.
    """
    if temperature <= 0:
        raise LocalizedError("nn_act.error_temperature", temperature=temperature)
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    shifted = scaled - scaled.max()
    exps = np.exp(shifted)
    return exps / exps.sum()
