"""Learning rates: the LR range test and a comparison of schedules through the shared trainer.

The range test trains for a few hundred steps while the learning rate grows exponentially
(``schedules.LR_RANGE_TEST``) and reads the loss at each rate. The suggested rate is where
the smoothed loss falls fastest per decade of learning rate ("steepest descent"), and the
page also shows the more cautious "rate at the minimum loss, divided by 10".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnlab.jobs import Trial
from cnnlab.models import preset
from cnnlab.optim.study import SubsetBudget
from cnnlab.plots import smooth
from cnnlab.schedules import LR_RANGE_TEST, schedule_curve
from cnnlab.training import StepMetrics, TrainConfig

DIVERGENCE_FACTOR = 4.0  # the sweep is cut where the smoothed loss exceeds 4 × its minimum
SMOOTHING = 0.9  # EMA weight of the loss curve (as the lab's loss charts)
SKIP_START = 0.1  # the first 10 % of the sweep is too noisy to pick a slope from


@dataclass(frozen=True)
class RangeTestStudy:
    start_lr: float = 1e-6
    end_lr: float = 3.0
    steps: int = 200
    optimizer: str = "sgd"
    batch_size: int = 64
    seed: int = 0

    def config(self) -> TrainConfig:
        # Enough epochs that max_steps, not the data, ends the sweep (4,000 MNIST-5k images
        # give 63 batches per epoch).
        return TrainConfig(model=preset("small"), optimizer=self.optimizer, lr=self.end_lr,
                           lr_start=self.start_lr, schedule=LR_RANGE_TEST,
                           batch_size=self.batch_size, epochs=1000, max_steps=self.steps,
                           seed=self.seed)  # fmt: skip


def range_test_trial(study: RangeTestStudy, label: str) -> Trial:
    """Return the one trial of the range test (the ``small`` CNN on the full data set)."""
    return Trial(label, study.config())


@dataclass(frozen=True)
class RangeTestResult:
    rates: list[float]  # learning rate of each step, up to the cut
    losses: list[float]  # training loss of each step
    smoothed: list[float]  # EMA of the losses (bias-corrected)
    steepest_lr: float | None  # rate where the smoothed loss falls fastest per log-rate
    min_loss_lr: float | None  # rate at the smoothed minimum
    cut: int  # number of steps kept (the sweep after divergence is dropped)

    @property
    def min_over_10(self) -> float | None:
        return self.min_loss_lr / 10 if self.min_loss_lr is not None else None


def analyze_range_test(
    rates: list[float], losses: list[float], smoothing: float = SMOOTHING
) -> RangeTestResult:
    """Smooth the losses, cut the sweep where it diverges, and find both suggestions.

    The sweep is cut at the first step after the minimum where the smoothed loss exceeds
    ``DIVERGENCE_FACTOR`` times that minimum. Rule for ``steepest_lr``: the step after the
    first ``SKIP_START`` of the kept sweep where
    d(smoothed loss) / d(log lr) is most negative (a central difference). Because the EMA
    lags, the suggestion sits a few steps later than the steepest point of the raw curve.
    Returns ``None`` suggestions when fewer than 5 finite steps are left.
    """
    finite = [i for i, loss in enumerate(losses) if math.isfinite(loss)]
    rates_kept = [rates[i] for i in finite]
    losses_kept = [losses[i] for i in finite]
    smoothed = smooth(losses_kept, smoothing)
    if len(finite) < 5:
        return RangeTestResult(rates_kept, losses_kept, smoothed, None, None, len(finite))

    # The cut is searched after the minimum: before it, the loss may still be far above it.
    minimum = int(np.argmin(smoothed))
    limit = DIVERGENCE_FACTOR * smoothed[minimum]
    cut = next((i for i in range(minimum, len(smoothed)) if smoothed[i] > limit), len(smoothed))
    rates_kept, losses_kept, smoothed = rates_kept[:cut], losses_kept[:cut], smoothed[:cut]

    log_rates = np.log10(rates_kept)
    slopes = np.gradient(np.asarray(smoothed), log_rates)  # loss change per decade
    start = max(1, int(len(slopes) * SKIP_START))
    steepest = start + int(np.argmin(slopes[start:])) if start < len(slopes) else None
    return RangeTestResult(
        rates=rates_kept,
        losses=losses_kept,
        smoothed=smoothed,
        steepest_lr=rates_kept[steepest] if steepest is not None else None,
        min_loss_lr=rates_kept[minimum],
        cut=cut,
    )


def snap_to(value: float, options: tuple[float, ...]) -> float:
    """Return the option nearest to ``value`` on a log scale."""
    return min(options, key=lambda option: abs(math.log(option) - math.log(value)))


# --- schedules --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleStudy(SubsetBudget):
    """Schedules compared on one budget; ``steps`` is also each designed curve's length."""

    base_lr: float = 3e-3
    epochs: int = 3
    subset: int = 1000
    batch_size: int = 64
    optimizer: str = "adam"
    seed: int = 0

    def config(self, schedule: str) -> TrainConfig:
        return TrainConfig(model=preset("small"), optimizer=self.optimizer, lr=self.base_lr,
                           batch_size=self.batch_size, epochs=self.epochs, schedule=schedule,
                           seed=self.seed)  # fmt: skip


def schedule_trials(study: ScheduleStudy, names: list[str], labels: dict[str, str]) -> list[Trial]:
    """Return one trial per schedule in ``names``, identical otherwise. ``labels``: name ->
    display name."""

    def subset(data):
        return data.subset_train(study.subset, seed=study.seed)

    return [Trial(labels[name], study.config(name), prepare_data=subset) for name in names]


def designed_curves(names: list[str], steps: int, base_lr: float) -> dict[str, list[float]]:
    """Return each schedule's designed learning rate per step (``schedule_curve``)."""
    return {name: schedule_curve(name, steps, base_lr) for name in names}


def max_lr_deviation(steps: list[StepMetrics], designed: list[float]) -> float:
    """Return max |logged rate − designed rate| over the logged steps (inf if a step is
    beyond the designed curve)."""
    deviation = 0.0
    for metrics in steps:
        if metrics.step > len(designed):
            return math.inf
        deviation = max(deviation, abs(metrics.lr - designed[metrics.step - 1]))
    return deviation
