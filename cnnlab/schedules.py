"""Learning-rate schedules, stepped once per batch, and their designed curves."""

from __future__ import annotations

import math

import torch
from torch.optim import lr_scheduler

SCHEDULES = ("constant", "step", "exponential", "cosine", "onecycle", "warmup_cosine")


def make_scheduler(
    name: str, optimizer: torch.optim.Optimizer, total_steps: int, base_lr: float
) -> lr_scheduler.LRScheduler:
    """Return a per-step scheduler for ``name`` over ``total_steps`` optimizer steps.

    - ``constant``: ``base_lr`` throughout.
    - ``step``: divide by 10 at 50 % and 75 % of training.
    - ``exponential``: decay smoothly to 1 % of ``base_lr`` at the end.
    - ``cosine``: cosine decay from ``base_lr`` to 0.
    - ``onecycle``: ``OneCycleLR`` peaking at ``base_lr`` after 25 % of the steps.
    - ``warmup_cosine``: linear warm-up over the first 10 % of steps, then cosine to 0.
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
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=base_lr, total_steps=total_steps, pct_start=0.25
        )
    if name == "warmup_cosine":
        warmup = max(1, int(total_steps * 0.1))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, total_steps - warmup)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        return lr_scheduler.LambdaLR(optimizer, factor)
    raise ValueError(f"unknown schedule {name!r}; expected one of {SCHEDULES}")


def schedule_curve(name: str, total_steps: int, base_lr: float) -> list[float]:
    """Return the learning rate used at each of ``total_steps`` steps, as designed."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(name, optimizer, total_steps, base_lr)
    rates = []
    for _ in range(total_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates
