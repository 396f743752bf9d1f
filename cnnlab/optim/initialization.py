"""Weight initialization on a deep, narrow CNN: statistics at initialization, short training
runs per scheme, and the symmetry problem of zero or constant initialization.

Schemes (every conv and linear weight; biases start at 0):

- ``zeros``: all 0. ``constant``: every weight 1 / fan_in (each filter is a box filter).
- ``small_normal``: N(0, 0.01²). ``large_normal``: N(0, 1).
- ``xavier``: Glorot normal, std = gain · sqrt(2 / (fan_in + fan_out)).
- ``kaiming``: He normal, std = gain / sqrt(fan_in), for ReLU-like activations.

``gain`` is ``nn.init.calculate_gain`` of the activation (sqrt 2 for ReLU, 5/3 for tanh).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import LabData
from cnnlab.jobs import Trial
from cnnlab.optim.study import SubsetBudget
from cnnlab.training import TrainConfig, seeded

SCHEMES = ("zeros", "constant", "small_normal", "large_normal", "xavier", "kaiming")
INIT_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class DeepNarrowCNN(nn.Module):
    """``depth`` 3×3 conv layers of ``width`` channels, no normalization, then one linear
    layer on the flattened feature map (the model expects 28 × 28 inputs). Layers at one third and two thirds of the depth use
    stride 2 (28 → 14 → 7 pixels for MNIST), so the deep layers see the whole digit.

    Input: float32 (N, C, H, W) normalized images; output: logits (N, num_classes).
    """

    def __init__(self, in_channels: int, num_classes: int, depth: int = 8, width: int = 8,
                 activation: str = "relu") -> None:  # fmt: skip
        super().__init__()
        if activation not in INIT_ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {list(INIT_ACTIVATIONS)}"
            )
        if depth < 2 or width < 1:
            raise ValueError(f"depth must be at least 2 and width at least 1, got {depth}, {width}")
        self.activation = activation
        strided = {depth // 3, 2 * depth // 3}
        layers: list[nn.Module] = []
        channels = in_channels
        for index in range(depth):
            stride = 2 if index in strided and index > 0 else 1
            layers += [nn.Conv2d(channels, width, 3, stride=stride, padding=1),
                       INIT_ACTIVATIONS[activation]()]  # fmt: skip
            channels = width
        self.features = nn.Sequential(*layers)
        # The head's input size comes from a dummy forward (28 × 28 MNIST: width · 7 · 7).
        with torch.no_grad():
            flat = self.features(torch.zeros(1, in_channels, 28, 28)).numel()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(flat, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (N, C, H, W) -> (N, width, H/4, W/4)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)  # (N, width, 7, 7) -> (N, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Return (name, module) of every Conv2d and Linear in forward order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def apply_init(model: DeepNarrowCNN, scheme: str) -> DeepNarrowCNN:
    """Initialize every weight of ``model`` with ``scheme`` (see the module doc), in place."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {SCHEMES}")
    gain = nn.init.calculate_gain(model.activation)
    with torch.no_grad():
        for _, layer in weighted_layers(model):
            weight = layer.weight
            fan_in = weight[0].numel()  # in_channels · k · k (or in_features)
            if scheme == "zeros":
                nn.init.zeros_(weight)
            elif scheme == "constant":
                nn.init.constant_(weight, 1.0 / fan_in)
            elif scheme == "small_normal":
                nn.init.normal_(weight, 0.0, 0.01)
            elif scheme == "large_normal":
                nn.init.normal_(weight, 0.0, 1.0)
            elif scheme == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            else:
                nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity=model.activation)
            nn.init.zeros_(layer.bias)
    return model


@dataclass(frozen=True)
class InitStats:
    """Per-layer statistics of one freshly initialized model on one batch."""

    layers: list[str]  # "conv 1", ..., "linear"
    activation_mean: np.ndarray  # (L,) of each layer's output after its activation
    activation_std: np.ndarray  # (L,)
    gradient_std: np.ndarray  # (L,) std of d loss / d weight
    loss: float


def init_statistics(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> InitStats:
    """Run one forward and backward pass of ``model`` on ``x`` (N, C, H, W), labels ``y``.

    Activation statistics are taken after each conv layer's activation (the linear layer's
    logits for the last one). ``model`` keeps no gradients afterwards.
    """
    layers = weighted_layers(model)
    outputs: list[torch.Tensor] = []
    conv_count = 0
    names = []
    handles = []
    for name, layer in layers:
        if isinstance(layer, nn.Conv2d):
            conv_count += 1
            names.append(f"conv {conv_count}")
            activation = model.get_submodule(_next_sibling(model, name))
            handles.append(
                activation.register_forward_hook(lambda m, i, o: outputs.append(o.detach()))
            )
        else:
            names.append("linear")
            handles.append(layer.register_forward_hook(lambda m, i, o: outputs.append(o.detach())))
    try:
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    gradients = [layer.weight.grad.detach().std().item() for _, layer in layers]
    model.zero_grad(set_to_none=True)
    return InitStats(
        layers=names,
        activation_mean=np.array([o.mean().item() for o in outputs]),
        activation_std=np.array([o.std().item() for o in outputs]),
        gradient_std=np.array(gradients),
        loss=loss.item(),
    )


def _next_sibling(model: nn.Module, name: str) -> str:
    # "features.4" -> "features.5": the activation right after a conv in ``features``.
    parent, index = name.rsplit(".", 1)
    return f"{parent}.{int(index) + 1}"


def scheme_statistics(
    data: LabData, schemes: tuple[str, ...], depth: int, width: int, activation: str,
    batch: int = 256, seed: int = 0,
) -> dict[str, InitStats]:  # fmt: skip
    """Return ``init_statistics`` of a fresh ``DeepNarrowCNN`` per scheme, on one test batch."""
    x, y = data.x_test[:batch], data.y_test[:batch]
    stats = {}
    for scheme in schemes:
        model = seeded(
            seed,
            lambda: DeepNarrowCNN(data.in_channels, data.num_classes, depth, width, activation),
        )
        stats[scheme] = init_statistics(apply_init(model, scheme), x, y)
    return stats


# --- symmetry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterSymmetry:
    layer: str  # e.g. "conv 3"
    filters: int  # output channels
    max_pairwise_diff: float  # max over filter pairs (i, j) of max |W_i − W_j|
    weight_scale: float  # max |W| in the layer, to read the difference against

    @property
    def identical(self) -> bool:
        """True when every filter equals every other one within float32 rounding."""
        return self.max_pairwise_diff <= SYMMETRY_TOLERANCE * max(1.0, self.weight_scale)


SYMMETRY_TOLERANCE = 1e-6  # relative to the largest weight; float32 has ~7 significant digits


def filter_symmetry(model: nn.Module) -> list[FilterSymmetry]:
    """Measure, for each conv layer, how different its filters are from each other.

    max over pairs i, j of max |W_i − W_j| equals, element by element, the largest value
    across filters minus the smallest one, so no pairs need to be formed.
    """
    rows = []
    for number, (_, layer) in enumerate(
        (n, m) for n, m in weighted_layers(model) if isinstance(m, nn.Conv2d)
    ):
        weight = layer.weight.detach().float()  # (C_out, C_in, k, k)
        spread = (weight.amax(dim=0) - weight.amin(dim=0)).max().item()
        rows.append(
            FilterSymmetry(f"conv {number + 1}", weight.shape[0], spread, weight.abs().max().item())
        )
    return rows


def filter_grid(model: nn.Module, layer_index: int = 0, max_filters: int = 16) -> np.ndarray:
    """Return the filters of conv layer ``layer_index`` (first input channel) side by side:
    a float array (k, F·(k+1) − 1) with NaN columns between filters."""
    convs = [m for _, m in weighted_layers(model) if isinstance(m, nn.Conv2d)]
    weight = convs[layer_index].weight.detach()[:max_filters, 0].cpu().numpy()  # (F, k, k)
    k = weight.shape[-1]
    grid = np.full((k, weight.shape[0] * (k + 1) - 1), np.nan)
    for index, kernel in enumerate(weight):
        grid[:, index * (k + 1) : index * (k + 1) + k] = kernel
    return grid


# --- the comparison ------------------------------------------------------------------------


@dataclass(frozen=True)
class InitStudy(SubsetBudget):
    depth: int = 8
    width: int = 8
    activation: str = "relu"
    subset: int = 1000
    epochs: int = 3
    batch_size: int = 64
    lr: float = 0.05
    seed: int = 0


def init_trials(study: InitStudy, schemes: list[str], labels: dict[str, str]) -> list[Trial]:
    """Return one run per scheme: the same deep narrow CNN and data, SGD with momentum.

    SGD keeps the comparison about the starting point: Adam rescales each parameter's step
    and would hide part of a bad initialization's effect.
    """
    config = TrainConfig(optimizer="sgd", lr=study.lr, batch_size=study.batch_size,
                         epochs=study.epochs, seed=study.seed)  # fmt: skip

    def subset(data: LabData) -> LabData:
        return data.subset_train(study.subset, seed=study.seed)

    def factory(scheme: str):
        def build(data: LabData) -> nn.Module:
            model = DeepNarrowCNN(data.in_channels, data.num_classes, study.depth, study.width,
                                  study.activation)  # fmt: skip
            return apply_init(model, scheme)

        return build

    return [
        Trial(labels[s], config, model_factory=factory(s), prepare_data=subset) for s in schemes
    ]
