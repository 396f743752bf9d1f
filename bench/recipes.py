"""Time to accuracy on MNIST-5k: the lab's quick start and its 99 % recipe.

Prints, for each recipe, the training seconds (evaluation excluded) at which the test
accuracy first reached 95 % and 99 %, and the final accuracy. The reference is the
compute-only time of the same number of steps, measured in the same run.
Usage: ``python bench/recipes.py [--threads N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnlab.data import load_mnist_5k  # noqa: E402
from cnnlab.training import EpochMetrics, TrainConfig, init_model, recipe_99, train  # noqa: E402


def first_time_at(epochs: list[EpochMetrics], threshold: float) -> str:
    hit = next((e for e in epochs if e.test_acc >= threshold), None)
    return f"{hit.seconds:6.1f} s (epoch {hit.epoch})" if hit else "  not reached"


def compute_only_seconds(config: TrainConfig, data, steps: int) -> float:
    model = init_model(config, data)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    x, y = data.x_train[: config.batch_size], data.y_train[: config.batch_size]
    started = time.perf_counter()
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def collector(store: list[EpochMetrics]):
    return lambda m: store.append(m) if isinstance(m, EpochMetrics) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    data = load_mnist_5k()
    for name, config in (("quick start (small, 3 epochs)", TrainConfig(device="cpu")),
                         ("99 % recipe", recipe_99())):  # fmt: skip
        epochs: list[EpochMetrics] = []
        result = train(config, data, callback=collector(epochs))
        reference = compute_only_seconds(config, data, result.steps)
        print(f"{name}: 95 % at {first_time_at(epochs, 0.95)}, 99 % at {first_time_at(epochs, 0.99)}, "
              f"final {100 * epochs[-1].test_acc:.2f} % after {epochs[-1].seconds:.1f} s; "
              f"compute-only for the same {result.steps} steps {reference:.1f} s "
              f"(ratio {epochs[-1].seconds / reference:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
