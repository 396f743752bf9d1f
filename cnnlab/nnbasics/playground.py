"""A 2-D classification playground: toy datasets, a small MLP, and stepwise training.

Points are float32 tensors of shape (N, 2) with coordinates roughly in [-1, 1]; labels are
float32 tensors of shape (N,) with values 0 or 1. ``Playground`` owns one model and its
optimizer, so a page can keep it in session state and train it a few steps at a time.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import LocalizedError

log = logging.getLogger(__name__)

DATASETS = ("circles", "xor", "spirals", "blobs")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
GRID_LIMIT = 1.5  # the decision-boundary grid spans [-GRID_LIMIT, GRID_LIMIT]²


@dataclass(frozen=True)
class Dataset2D:
    """A binary 2-D dataset split into training and test points."""

    x_train: torch.Tensor  # (N_train, 2) float32
    y_train: torch.Tensor  # (N_train,) float32 in {0, 1}
    x_test: torch.Tensor  # (N_test, 2) float32
    y_test: torch.Tensor  # (N_test,) float32 in {0, 1}


def _points(name: str, n: int, noise: float, rng: np.random.Generator) -> tuple:
    """Return (points (n, 2), labels (n,)) for dataset ``name`` before the split."""
    half = n // 2
    labels = np.concatenate([np.zeros(half), np.ones(n - half)])
    if name == "circles":
        radius = np.concatenate([rng.uniform(0.0, 0.45, half), rng.uniform(0.7, 1.0, n - half)])
        angle = rng.uniform(0, 2 * math.pi, n)
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    elif name == "xor":
        points = rng.uniform(-1, 1, size=(n, 2))
        # Keep points off the axes so the four quadrants are separable without noise.
        points += np.sign(points) * 0.05
        labels = (points[:, 0] * points[:, 1] < 0).astype(np.float64)
    elif name == "spirals":
        t = np.sqrt(rng.uniform(0.02, 1.0, n)) * 2.5 * math.pi  # (n,) angle along the arm
        arm = labels * math.pi  # the second class is the first arm turned by 180°
        radius = t / (2.5 * math.pi)
        points = np.stack([radius * np.cos(t + arm), radius * np.sin(t + arm)], axis=1)
    elif name == "blobs":
        centres = np.where(labels[:, None] == 0, -0.5, 0.5)  # (n, 1) -> broadcast to (n, 2)
        points = centres + rng.normal(0, 0.2, size=(n, 2))
    else:
        raise LocalizedError("nn_pg.error_dataset", name=name, known=", ".join(DATASETS))
    points = points + rng.normal(0, noise, size=(n, 2))
    return points, labels


def make_dataset(
    name: str, n: int = 400, noise: float = 0.05, test_share: float = 0.3, seed: int = 0
) -> Dataset2D:
    """Generate dataset ``name`` with Gaussian noise of std ``noise`` and a random split.

    ``test_share`` in [0.1, 0.9] of the ``n`` points go to the test set.
    """
    if not 0.1 <= test_share <= 0.9:
        raise LocalizedError("nn_pg.error_test_share", share=test_share)
    if noise < 0:
        raise LocalizedError("nn_pg.error_noise", noise=noise)
    rng = np.random.default_rng(seed)
    points, labels = _points(name, n, noise, rng)

    order = rng.permutation(n)
    n_test = int(round(n * test_share))
    test, train = order[:n_test], order[n_test:]

    def as_tensor(array: np.ndarray) -> torch.Tensor:
        return torch.tensor(array, dtype=torch.float32)

    return Dataset2D(
        as_tensor(points[train]),
        as_tensor(labels[train]),
        as_tensor(points[test]),
        as_tensor(labels[test]),
    )


@dataclass(frozen=True)
class PlaygroundConfig:
    """Everything that defines a playground run; equal configs train identically."""

    dataset: str = "circles"
    noise: float = 0.05  # std of the Gaussian noise added to every point
    test_share: float = 0.3  # share of points held out for the test loss
    layers: int = 2  # hidden layers (0 is logistic regression)
    neurons: int = 8  # neurons per hidden layer
    activation: str = "tanh"
    lr: float = 0.3  # SGD learning rate
    batch_size: int = 16
    l2: float = 0.0  # L2 penalty λ on weights (not biases), applied as SGD weight decay
    seed: int = 0  # seeds the data, the initial weights and the batch order


def reset_parameters(model: nn.Module, generator: torch.Generator) -> None:
    """Draw every ``nn.Linear``'s weight and bias from U(-1/√fan_in, 1/√fan_in).

    This is PyTorch's default ``nn.Linear`` initialization, drawn from ``generator`` instead
    of the global random state, so a seed reproduces the network without touching it.
    """
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features)
                for parameter in (layer.weight, layer.bias):
                    uniform = torch.rand(parameter.shape, generator=generator)
                    parameter.copy_((uniform * 2 - 1) * bound)


def build_mlp(layers: int, neurons: int, activation: str, seed: int = 0) -> nn.Sequential:
    """Return an MLP (N, 2) -> (N, 1) of logits with ``layers`` hidden layers.

    The weights come from ``reset_parameters`` with a generator seeded by ``seed``.
    """
    if activation not in ACTIVATIONS:
        raise LocalizedError("nn_pg.error_activation", name=activation)
    if not 0 <= layers <= 6 or not 1 <= neurons <= 16:
        raise LocalizedError("nn_pg.error_shape", layers=layers, neurons=neurons)
    modules: list[nn.Module] = []
    width = 2
    for _ in range(layers):
        # skip_init leaves the global random state alone; reset_parameters fills the weights.
        modules.append(torch.nn.utils.skip_init(nn.Linear, width, neurons))
        if activation == "tanh":
            modules.append(nn.Tanh())
        elif activation == "relu":
            modules.append(nn.ReLU())
        elif activation == "sigmoid":
            modules.append(nn.Sigmoid())
        width = neurons
    modules.append(torch.nn.utils.skip_init(nn.Linear, width, 1))
    model = nn.Sequential(*modules)
    reset_parameters(model, torch.Generator().manual_seed(seed))
    return model


class Playground:
    """One model, its optimizer and its data, trained a few steps at a time.

    Not thread-safe: one page session drives it from its own script thread.
    """

    def __init__(self, config: PlaygroundConfig) -> None:
        self.config = config
        self.data = make_dataset(
            config.dataset, noise=config.noise, test_share=config.test_share, seed=config.seed
        )
        self.model = build_mlp(config.layers, config.neurons, config.activation, config.seed)
        self.optimizer = torch.optim.SGD(self._param_groups(config.l2), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.history: list[tuple[int, float, float]] = []  # (step, train loss, test loss)
        self._record()

    def _param_groups(self, l2: float) -> list[dict]:
        weights = [p for name, p in self.model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in self.model.named_parameters() if name.endswith("bias")]
        return [{"params": weights, "weight_decay": l2}, {"params": biases, "weight_decay": 0.0}]

    def set_hyperparameters(self, lr: float, batch_size: int, l2: float) -> None:
        """Change learning rate, batch size and L2 without restarting training."""
        if lr <= 0 or batch_size < 1 or l2 < 0:
            raise LocalizedError("nn_pg.error_hyper", lr=lr, batch=batch_size, l2=l2)
        weights, biases = self.optimizer.param_groups
        weights["lr"] = biases["lr"] = lr
        weights["weight_decay"] = l2
        self.config = dataclasses.replace(self.config, lr=lr, batch_size=batch_size, l2=l2)

    def train_steps(self, steps: int) -> None:
        """Run ``steps`` SGD steps on random mini-batches, then record the losses once."""
        n = self.data.x_train.shape[0]
        batch_size = min(self.config.batch_size, n)
        self.model.train()
        for _ in range(steps):
            index = torch.randint(0, n, (batch_size,), generator=self.generator)
            logits = self.model(self.data.x_train[index]).squeeze(1)  # (B, 1) -> (B,)
            loss = F.binary_cross_entropy_with_logits(logits, self.data.y_train[index])

            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()

            self.step += 1
        self._record()

    @torch.inference_mode()
    def losses(self) -> tuple[float, float]:
        """Return (train loss, test loss): mean binary cross-entropy, without the L2 term."""

        def bce(x: torch.Tensor, y: torch.Tensor) -> float:
            logits = self.model(x).squeeze(1)
            return float(F.binary_cross_entropy_with_logits(logits, y))

        return bce(self.data.x_train, self.data.y_train), bce(self.data.x_test, self.data.y_test)

    @torch.inference_mode()
    def accuracy(self) -> tuple[float, float]:
        """Return (train accuracy, test accuracy) in [0, 1] at threshold p = 0.5."""

        def acc(x: torch.Tensor, y: torch.Tensor) -> float:
            return float(((self.model(x).squeeze(1) > 0).float() == y).float().mean())

        return acc(self.data.x_train, self.data.y_train), acc(self.data.x_test, self.data.y_test)

    def _record(self) -> None:
        train_loss, test_loss = self.losses()
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            log.warning("playground loss is not finite at step %d", self.step)
        self.history.append((self.step, train_loss, test_loss))

    @torch.inference_mode()
    def decision_grid(self, resolution: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """Return (axis (R,), probabilities (R, R)) of class 1 over [-1.5, 1.5]².

        Row i of the probabilities is y = axis[i], column j is x = axis[j]; values in [0, 1].
        """
        axis = np.linspace(-GRID_LIMIT, GRID_LIMIT, resolution, dtype=np.float32)
        xx, yy = np.meshgrid(axis, axis)  # (R, R) each
        points = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))  # (R², 2)
        probs = torch.sigmoid(self.model(points)).reshape(resolution, resolution)
        return axis, probs.numpy()


def same_run(a: PlaygroundConfig, b: PlaygroundConfig) -> bool:
    """Return whether ``a`` and ``b`` share data and architecture (training can continue)."""
    keep = ("lr", "batch_size", "l2")
    return {k: v for k, v in a.__dict__.items() if k not in keep} == {
        k: v for k, v in b.__dict__.items() if k not in keep
    }
