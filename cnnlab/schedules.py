"""Learning-rate schedules, stepped once per batch, and their designed curves."""

from __future__ import annotations

import math

import torch
from torch.optim import lr_scheduler

SCHEDULES = ("constant", "step", "exponential", "cosine", "onecycle", "warmup_cosine")
# The learning-rate range test's sweep. Kept out of SCHEDULES because it is a probe, not a
# schedule to train a model with (the lab offers only SCHEDULES).
LR_RANGE_TEST = "lr_range_test"
RANGE_TEST_START_FACTOR = 1e-5  # default first learning rate of the sweep, relative to base_lr


def make_scheduler(
    name: str,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    base_lr: float,
    start_lr: float | None = None,
) -> lr_scheduler.LRScheduler:
    """Return a per-step scheduler for ``name`` over ``total_steps`` optimizer steps.

    Every schedule scales each parameter group's own initial learning rate, so groups with
    different rates (discriminative fine-tuning) keep their ratios.

    - ``constant``: ``base_lr`` throughout.
    - ``step``: divide by 10 at 50 % and 75 % of training.
    - ``exponential``: decay smoothly to 1 % of ``base_lr`` at the end.
    - ``cosine``: cosine decay from ``base_lr`` to 0.
    - ``onecycle``: ``OneCycleLR`` peaking at ``base_lr`` after 25 % of the steps (runs
      under 6 steps peak later).
    - ``warmup_cosine``: linear warm-up over the first 10 % of steps, then cosine to 0.
    - ``lr_range_test``: exponential growth from ``start_lr`` (default ``base_lr`` × 1e-5)
      at the first step to ``base_lr`` at the last one.
    """
    total_steps = max(1, total_steps)
    if name == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if name == "step":
        milestones = [int(total_steps * 0.5), int(total_steps * 0.75)]
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    if name == "exponential":
        gamma = 0.01 ** (1 / total_steps)
        return lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "onecycle":
        # OneCycleLR raises if stepped more than total_steps times; the trainer steps it
        # exactly once per optimizer step.
        peaks = [group["lr"] for group in optimizer.param_groups]  # base_lr for one group
        # OneCycleLR divides by zero when its warm-up phase ends exactly at step 0
        # (pct_start * total_steps == 1), so runs under 6 steps get a longer warm-up.
        pct_start = max(0.25, min(0.75, 1.5 / total_steps))
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=peaks, total_steps=total_steps, pct_start=pct_start
        )
    if name == "warmup_cosine":
        warmup = max(1, int(total_steps * 0.1))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, total_steps - warmup)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        return lr_scheduler.LambdaLR(optimizer, factor)
    if name == LR_RANGE_TEST:
        start = start_lr if start_lr is not None else base_lr * RANGE_TEST_START_FACTOR
        if not 0 < start <= base_lr:
            raise ValueError(f"start_lr must be in (0, base_lr={base_lr}], got {start}")
        ratio = base_lr / start
        last = max(1, total_steps - 1)
        return lr_scheduler.LambdaLR(
            optimizer, lambda step: ratio ** (min(step, last) / last - 1.0)
        )
    raise ValueError(f"unknown schedule {name!r}; expected one of {SCHEDULES + (LR_RANGE_TEST,)}")


def schedule_curve(
    name: str, total_steps: int, base_lr: float, start_lr: float | None = None
) -> list[float]:
    """Return the learning rate used at each of ``total_steps`` steps, as designed."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(name, optimizer, total_steps, base_lr, start_lr)
    rates = []
    for _ in range(total_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates
