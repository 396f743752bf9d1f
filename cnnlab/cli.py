"""Command line: ``python -m cnnlab train ...`` trains headless with the lab's backend.

One JSON object per epoch goes to standard output; logs go to standard error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace

import torch

from cnnlab.datasets import DATASETS, load_dataset
from cnnlab.devices import DEVICE_CHOICES, configure_threads, describe_device, pick_device
from cnnlab.errors import LocalizedError
from cnnlab.models import PRESETS, preset
from cnnlab.schedules import SCHEDULES
from cnnlab.training import OPTIMIZERS, EpochMetrics, TrainConfig, recipe_99, train

log = logging.getLogger("cnnlab.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cnnlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser(
        "train",
        help="train a small CNN and print one JSON object per epoch",
        description="Train a small CNN headless. Each epoch prints one JSON line with epoch, "
        "step, train_loss, train_acc, test_loss, test_acc, lr, samples_per_s and seconds.",
    )
    add = train_parser.add_argument
    add("--dataset", choices=DATASETS, default="mnist-5k",
        help="training data; mnist, fashion-mnist and cifar10 are downloaded into "
        "--data-dir on first use (default: mnist-5k)")  # fmt: skip
    add("--data-dir", default=None,
        help="folder for downloaded datasets (default: $CNNLAB_DATA_DIR or ~/.cache/cnnlab)")  # fmt: skip
    add("--recipe", choices=("none", "99"), default="none",
        help="start from a preset recipe: '99' is BatchNorm + shift augmentation + label "
        "smoothing + one-cycle, "
        "about 99 %% test accuracy on mnist-5k; options given explicitly override it "
        "(default: none)")  # fmt: skip
    add(
        "--model",
        choices=PRESETS,
        default=None,
        help="model preset (default: small, or the recipe's)",
    )
    add(
        "--epochs",
        type=int,
        default=None,
        help="number of passes over the training split (default: 3)",
    )
    add("--batch-size", type=int, default=None, help="samples per optimizer step (default: 64)")
    add("--optimizer", choices=OPTIMIZERS, default=None, help="optimizer (default: adam)")
    add("--lr", type=float, default=None, help="(peak) learning rate (default: 0.004)")
    add("--weight-decay", type=float, default=None, help="L2 weight decay (default: 0)")
    add(
        "--schedule",
        choices=SCHEDULES,
        default=None,
        help="learning-rate schedule, stepped per batch (default: constant)",
    )
    add("--shift", type=int, default=None, help="random shift augmentation in pixels (default: 0)")
    add(
        "--label-smoothing",
        type=float,
        default=None,
        help="label smoothing of the cross-entropy (default: 0)",
    )
    add(
        "--seed",
        type=int,
        default=0,
        help="seed for the split, the initial weights and the batch order (default: 0)",
    )
    add(
        "--device",
        choices=DEVICE_CHOICES,
        default="auto",
        help="auto picks CUDA, then Apple MPS, then CPU (default: auto)",
    )
    add("--amp", action="store_true", help="mixed precision (CUDA only; ignored elsewhere)")
    add(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many optimizer steps (default: no limit)",
    )
    add("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    add(
        "--save",
        default=None,
        help="write the trained model's state_dict to this file (default: not saved)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Combine the recipe (if any) with the options given explicitly."""
    config = recipe_99() if args.recipe == "99" else TrainConfig()
    overrides = {
        "epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer,
        "lr": args.lr, "weight_decay": args.weight_decay, "schedule": args.schedule,
        "shift_augment": args.shift, "label_smoothing": args.label_smoothing,
    }  # fmt: skip
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if args.model is not None:
        config = replace(config, model=preset(args.model))
    return replace(config, dataset=args.dataset, seed=args.seed, device=args.device,
                   amp=args.amp, max_steps=args.max_steps)  # fmt: skip


def _print_epoch(metrics) -> None:
    if isinstance(metrics, EpochMetrics):
        row = {
            "epoch": metrics.epoch, "step": metrics.step,
            "train_loss": round(metrics.train_loss, 5), "train_acc": round(metrics.train_acc, 5),
            "test_loss": round(metrics.test_loss, 5), "test_acc": round(metrics.test_acc, 5),
            "lr": metrics.lr, "samples_per_s": round(metrics.samples_per_s, 1),
            "seconds": round(metrics.seconds, 3),
        }  # fmt: skip
        print(json.dumps(row), flush=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    configure_threads(args.threads)
    try:
        config = config_from_args(args)
        device = pick_device(config.device)
        info = describe_device(device)
        log.info("device: %s (%s), %d CPU threads", info.type, info.name, torch.get_num_threads())
        data = load_dataset(config.dataset, seed=config.seed, root=args.data_dir)
        result = train(config, data, callback=_print_epoch)
    except (LocalizedError, ValueError) as err:
        log.error("%s", err)
        return 2
    if result.status == "diverged":
        log.error("training diverged (the loss became NaN or infinite; last finite loss %s); "
                  "try a smaller --lr", result.last_finite_loss)  # fmt: skip
        return 1
    if args.save:
        torch.save(result.model.state_dict(), args.save)
        log.info("saved the state_dict to %s", args.save)
    return 0
