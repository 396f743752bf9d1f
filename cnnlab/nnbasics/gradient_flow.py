"""Gradient flow through a deep plain MLP: per-layer activation statistics and gradient norms.

A network of ``depth`` hidden layers (Linear → optional norm → activation, with an optional
residual connection) is trained for a fixed number of SGD steps. Every step records, for
each layer, the mean and standard deviation of its output and the L2 norm of its weight
gradient, plus the total gradient norm before and after clipping and the norm of the update.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.playground import make_dataset
from cnnlab.paths import MNIST_5K_PATH

log = logging.getLogger(__name__)

DATASETS = ("spirals", "mnist")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
INITS = ("small_normal", "large_normal", "xavier", "kaiming")
NORMS = ("none", "batchnorm", "layernorm")
SMALL_STD = 0.05  # "small normal" init: N(0, 0.05²) whatever the layer width
LARGE_STD = 1.0  # "large normal" init: N(0, 1), far above Xavier's 1/√fan_in for fan_in > 1
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the usual MNIST pixel statistics after /255


@dataclass(frozen=True)
class FlowConfig:
    """One gradient-flow experiment."""

    dataset: str = "spirals"
    depth: int = 20  # hidden layers, each Linear(width, width) except the first
    width: int = 32
    activation: str = "sigmoid"
    init: str = "small_normal"
    norm: str = "none"
    residual: bool = False  # h ← h + block(h) for hidden layers 2..depth
    clip_norm: float = 0.0  # max total gradient norm; 0 turns clipping off
    lr: float = 0.05  # plain SGD without momentum, so the update is exactly lr · gradient
    steps: int = 60
    batch_size: int = 64
    seed: int = 0


@dataclass(frozen=True)
class FlowData:
    """Flattened inputs and class labels for the flow experiments."""

    x: torch.Tensor  # (N, D) float32, D = 2 (spirals) or 784 (MNIST, normalized)
    y: torch.Tensor  # (N,) int64 class indices
    classes: int


def load_flow_data(name: str, seed: int = 0) -> FlowData:
    """Load dataset ``name``: 2-D spirals (1000 points) or the 5000 shipped MNIST digits.

    MNIST images (uint8, 28×28) are scaled to [0, 1], normalized with the usual MNIST mean
    and std, and flattened to 784 values.
    """
    if name == "spirals":
        data = make_dataset("spirals", n=1000, noise=0.05, test_share=0.1, seed=seed)
        return FlowData(data.x_train, data.y_train.long(), 2)
    if name == "mnist":
        with np.load(MNIST_5K_PATH) as archive:
            images, labels = archive["images"], archive["labels"]
        x = torch.from_numpy(images).float().div(255.0).sub(MNIST_MEAN).div(MNIST_STD)
        x = x.flatten(1)  # (N, 28, 28) -> (N, 784)
        return FlowData(x, torch.from_numpy(labels).long(), 10)
    raise LocalizedError("nn_gf.error_dataset", name=name, known=", ".join(DATASETS))


def _activation(name: str) -> nn.Module:
    modules = {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "gelu": nn.GELU,
    }
    if name not in modules:
        raise LocalizedError("nn_gf.error_activation", name=name, known=", ".join(modules))
    return modules[name]()


def _norm(name: str, width: int) -> nn.Module:
    if name == "batchnorm":
        return nn.BatchNorm1d(width)
    if name == "layernorm":
        return nn.LayerNorm(width)
    if name == "none":
        return nn.Identity()
    raise LocalizedError("nn_gf.error_norm", name=name, known=", ".join(NORMS))


class DeepMLP(nn.Module):
    """``depth`` hidden layers, then a linear head.

    A plain layer is Linear → norm → activation. With ``residual``, layers 2..depth are
    pre-activation residual blocks, h + Linear(activation(norm(h))) (the order of He et al.
    2016, "Identity Mappings in Deep Residual Networks"), so the identity path carries both
    the signal and its gradient unchanged. ``forward`` returns the logits (N, classes) and
    the output of every hidden layer, a list of ``depth`` tensors of shape (N, width).
    The linear layers start uninitialized, so build the network with ``build_model``.
    """

    def __init__(self, in_features: int, classes: int, config: FlowConfig) -> None:
        super().__init__()
        self.residual = config.residual
        widths = [in_features] + [config.width] * config.depth
        # skip_init leaves the global random state alone; init_weights fills every weight.
        self.linears = nn.ModuleList(
            torch.nn.utils.skip_init(nn.Linear, a, b) for a, b in itertools.pairwise(widths)
        )
        self.norms = nn.ModuleList(_norm(config.norm, config.width) for _ in self.linears)
        self.acts = nn.ModuleList(_activation(config.activation) for _ in self.linears)
        self.head = torch.nn.utils.skip_init(nn.Linear, config.width, classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        hidden = []
        h = x
        for index, (linear, norm, act) in enumerate(
            zip(self.linears, self.norms, self.acts, strict=True)
        ):
            # The first layer changes the width, so it has no identity path.
            if not self.residual or index == 0:
                h = act(norm(linear(h)))  # (N, D or width) -> (N, width)
                hidden.append(h)
                continue
            h = h + linear(act(norm(h)))  # (N, width) -> (N, width)
            hidden.append(h)
        return self.head(h), hidden

    def weight_layers(self) -> list[nn.Linear]:
        """Return the linear layers whose gradient norms are tracked, input side first."""
        return [*self.linears, self.head]


def init_weights(model: DeepMLP, init: str, generator: torch.Generator) -> None:
    """Initialize every linear weight by scheme ``init`` and set biases to zero.

    small_normal: N(0, 0.05²); large_normal: N(0, 1); xavier: N(0, 2 / (fan_in + fan_out));
    kaiming: N(0, 2 / fan_in), He et al. 2015's choice for ReLU.
    """
    if init not in INITS:
        raise LocalizedError("nn_gf.error_init", name=init, known=", ".join(INITS))
    with torch.no_grad():
        for layer in model.weight_layers():
            fan_out, fan_in = layer.weight.shape
            if init == "small_normal":
                std = SMALL_STD
            elif init == "large_normal":
                std = LARGE_STD
            elif init == "xavier":
                std = math.sqrt(2.0 / (fan_in + fan_out))
            else:
                std = math.sqrt(2.0 / fan_in)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * std)
            layer.bias.zero_()


def build_model(config: FlowConfig, data: FlowData) -> DeepMLP:
    """Return a freshly initialized ``DeepMLP`` for ``data``, reproducible from the seed."""
    if not 1 <= config.depth <= 60:
        raise LocalizedError("nn_gf.error_depth", depth=config.depth)
    model = DeepMLP(data.x.shape[1], data.classes, config)
    init_weights(model, config.init, torch.Generator().manual_seed(config.seed))
    return model


@dataclass
class FlowHistory:
    """Per-step measurements; row s of every array is step s (row 0 is the initialization).

    Layer columns run from the input side (column 0) to the head (last column).
    """

    act_mean: list[np.ndarray] = field(default_factory=list)  # (depth,) per step
    act_std: list[np.ndarray] = field(default_factory=list)  # (depth,) per step
    grad_norm: list[np.ndarray] = field(default_factory=list)  # (depth + 1,) weight grads
    loss: list[float] = field(default_factory=list)
    total_norm: list[float] = field(default_factory=list)  # all gradients, before clipping
    clipped_norm: list[float] = field(default_factory=list)  # after clipping
    update_norm: list[float] = field(default_factory=list)  # ||θ_new - θ_old||, nan at init

    def as_arrays(self) -> dict[str, np.ndarray]:
        """Return every field stacked: (steps, layers) or (steps,) float64 arrays."""
        return {name: np.asarray(value, dtype=np.float64) for name, value in self.__dict__.items()}


def _measure(
    model: DeepMLP, x: torch.Tensor, y: torch.Tensor, history: FlowHistory
) -> torch.Tensor:
    """Forward and backward one batch, append the per-layer statistics, return the loss."""
    logits, hidden = model(x)
    loss = F.cross_entropy(logits, y)

    model.zero_grad(set_to_none=True)
    loss.backward()

    with torch.no_grad():
        history.act_mean.append(np.array([float(h.mean()) for h in hidden]))
        history.act_std.append(np.array([float(h.std()) for h in hidden]))
        # float64, because squaring float32 gradients below ~1e-19 underflows to 0.
        history.grad_norm.append(
            np.array([float(layer.weight.grad.double().norm()) for layer in model.weight_layers()])
        )
    history.loss.append(float(loss.detach()))
    return loss


def _total_norm(parameters: list[torch.Tensor]) -> float:
    """Return the L2 norm of all gradients together, in float64."""
    return float(
        torch.linalg.vector_norm(torch.stack([p.grad.double().norm() for p in parameters]))
    )


def run_flow(config: FlowConfig, data: FlowData) -> FlowHistory:
    """Measure the network at initialization, then train ``config.steps`` SGD steps.

    Returns ``steps + 1`` rows: row 0 is the initialization (no update, so its update norm
    is nan), row s > 0 measures the batch of step s before its update is applied. With
    clipping on, the update norm is at most lr × clip_norm.
    """
    if config.clip_norm < 0:
        raise LocalizedError("nn_gf.error_clip", clip=config.clip_norm)
    model = build_model(config, data)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed + 1)
    history = FlowHistory()
    n = data.x.shape[0]

    for step in range(config.steps + 1):
        index = torch.randint(0, n, (min(config.batch_size, n),), generator=generator)
        _measure(model, data.x[index], data.y[index], history)
        parameters = [p for p in model.parameters() if p.grad is not None]
        total = _total_norm(parameters)
        history.total_norm.append(total)
        if step == 0:
            history.clipped_norm.append(total)
            history.update_norm.append(float("nan"))
            continue

        if config.clip_norm > 0:
            # Returns the norm before clipping; the gradients are scaled in place.
            nn.utils.clip_grad_norm_(parameters, config.clip_norm)
        clipped = _total_norm(parameters)
        before = [p.detach().clone() for p in parameters]
        optimizer.step()

        update = torch.stack(
            [(p.detach() - b).double().norm() for p, b in zip(parameters, before, strict=True)]
        )
        history.clipped_norm.append(clipped)
        history.update_norm.append(float(torch.linalg.vector_norm(update)))

    if not math.isfinite(history.loss[-1]):
        log.info("gradient-flow run diverged: %s", config)
    return history
