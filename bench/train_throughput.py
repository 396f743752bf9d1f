"""Training throughput of cnnlab's trainer against two references, measured in one run.

- trainer: ``cnnlab.training.train`` on MNIST-5k (tensors in memory, index-sliced batches);
- tutorial: the classic loop, a ``Dataset`` that turns each sample into a PIL image and
  back with ``ToTensor`` + ``Normalize``, fed through a ``DataLoader``;
- compute-only: forward, backward and optimizer step on one repeated batch (no data work).

All three use the same model (the lab's ``small`` preset), Adam and batch size 64.
Usage: ``python bench/train_throughput.py [--epochs 2] [--threads N]``.
Targets on 2 CPU cores: trainer >= 0.9 x compute-only and >= 1.5 x tutorial.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnlab.data import load_mnist_5k, stratified_split  # noqa: E402
from cnnlab.models import build_model, preset  # noqa: E402
from cnnlab.paths import MNIST_5K_PATH  # noqa: E402
from cnnlab.training import EpochMetrics, TrainConfig, train  # noqa: E402

BATCH = 64


class PilDigits(Dataset):
    """The tutorial way: one PIL conversion and one ToTensor + Normalize per sample."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels
        self.transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def step(model, optimizer, x, y) -> None:
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def tutorial_samples_per_s(epochs: int) -> float:
    with np.load(MNIST_5K_PATH) as archive:
        images, labels = archive["images"], archive["labels"].astype(np.int64)
    train_index, _ = stratified_split(labels, 1000, seed=0)
    loader = DataLoader(PilDigits(images[train_index], labels[train_index]), batch_size=BATCH,
                        shuffle=True)  # fmt: skip
    torch.manual_seed(0)
    model = build_model(preset("small"))
    optimizer = torch.optim.Adam(model.parameters(), lr=TrainConfig().lr)
    seen, started = 0, time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            step(model, optimizer, x, y)
            seen += len(y)
    return seen / (time.perf_counter() - started)


def compute_only_samples_per_s(steps: int) -> float:
    data = load_mnist_5k()
    x, y = data.x_train[:BATCH], data.y_train[:BATCH]
    torch.manual_seed(0)
    model = build_model(preset("small"))
    optimizer = torch.optim.Adam(model.parameters(), lr=TrainConfig().lr)
    for _ in range(5):  # warm-up
        step(model, optimizer, x, y)
    started = time.perf_counter()
    for _ in range(steps):
        step(model, optimizer, x, y)
    return steps * BATCH / (time.perf_counter() - started)


def trainer_samples_per_s(epochs: int) -> tuple[float, float]:
    """Return (samples/s over whole epochs including batching, final test accuracy)."""
    data = load_mnist_5k()
    epoch_metrics = []
    config = TrainConfig(epochs=epochs, batch_size=BATCH, device="cpu")
    started = time.perf_counter()
    train(
        config,
        data,
        callback=lambda m: epoch_metrics.append(m) if isinstance(m, EpochMetrics) else None,
    )
    total = time.perf_counter() - started
    # Wall time includes evaluation after each epoch; count only training time for samples/s.
    train_time = epoch_metrics[-1].seconds
    print(f"trainer: {epochs} epochs in {total:.1f} s wall ({train_time:.1f} s training)")
    return epochs * len(data.x_train) / train_time, epoch_metrics[-1].test_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=2, help="epochs for trainer and tutorial (default: 2)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}")

    trainer, accuracy = trainer_samples_per_s(args.epochs)
    compute = compute_only_samples_per_s(steps=63 * args.epochs)
    tutorial = tutorial_samples_per_s(args.epochs)
    print(f"trainer      {trainer:9.0f} samples/s  (test accuracy {100 * accuracy:.1f} %)")
    print(f"compute-only {compute:9.0f} samples/s")
    print(f"tutorial     {tutorial:9.0f} samples/s")
    print(f"trainer / compute-only = {trainer / compute:.2f}  (target >= 0.9)")
    print(f"trainer / tutorial     = {trainer / tutorial:.2f}  (target >= 1.5)")


if __name__ == "__main__":
    main()
