"""Learning-rate lesson: range-test analysis, logged LR vs designed schedules."""

import math

import numpy as np
import pytest
from optim_support import tiny_config, tiny_mnist

from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.optim.lr import (
    RangeTestStudy,
    ScheduleStudy,
    analyze_range_test,
    designed_curves,
    max_lr_deviation,
    range_test_trial,
    schedule_trials,
    snap_to,
)
from cnnlab.schedules import LR_RANGE_TEST, SCHEDULES, schedule_curve
from cnnlab.training import StepMetrics, planned_steps, train


def synthetic_sweep(center: float = -3.0, steps: int = 200):
    """Loss falls like a tanh step centred at log10(lr) = center, then blows up past 10**-0.5."""
    rates = list(np.logspace(-6, 0, steps))
    losses = [2.3 - 1.0 * math.tanh(2 * (math.log10(r) - center)) for r in rates]
    losses = [
        loss + (50 * (math.log10(r) + 0.5) if r > 10**-0.5 else 0)
        for loss, r in zip(losses, rates, strict=True)
    ]
    return rates, losses


def test_steepest_descent_found():
    rates, losses = synthetic_sweep(-3.0)
    result = analyze_range_test(rates, losses, smoothing=0.0)
    assert result.steepest_lr == pytest.approx(1e-3, rel=0.1)


def test_smoothing_lags_the_suggestion():
    rates, losses = synthetic_sweep(-3.0)
    result = analyze_range_test(rates, losses, smoothing=0.9)
    assert 1e-3 <= result.steepest_lr <= 10**-2.5


def test_sweep_cut_at_divergence():
    rates, losses = synthetic_sweep(-3.0)
    result = analyze_range_test(rates, losses, smoothing=0.0)
    assert result.cut < len(rates)
    assert max(result.smoothed) <= 4 * min(result.smoothed)
    assert result.min_loss_lr <= 10**-0.5
    assert result.min_over_10 == pytest.approx(result.min_loss_lr / 10)


def test_cut_searched_after_minimum():
    # Starts at 2.3, falls to 0.3, explodes to 500 and settles back at chance level.
    rates = list(np.logspace(-6, 0, 100))
    losses = [2.3] * 30 + list(np.linspace(2.3, 0.3, 40)) + [500.0] * 3 + [2.3] * 27
    result = analyze_range_test(rates, losses, smoothing=0.0)
    assert result.cut == 70
    assert result.steepest_lr is not None
    assert result.min_loss_lr == pytest.approx(rates[69])


def test_range_analysis_ignores_nan():
    rates, losses = synthetic_sweep(-3.0)
    losses[-1] = float("nan")
    result = analyze_range_test(rates, losses)
    assert all(math.isfinite(loss) for loss in result.losses)


def test_range_analysis_too_short():
    result = analyze_range_test([1e-4, 1e-3], [2.0, 1.0])
    assert result.steepest_lr is None


def test_snap_to_log_scale():
    assert snap_to(0.0042, (1e-3, 3e-3, 1e-2)) == 3e-3
    assert snap_to(0.0075, (1e-3, 3e-3, 1e-2)) == 1e-2


@pytest.mark.parametrize("schedule", [*SCHEDULES, LR_RANGE_TEST])
def test_logged_lr_equals_designed_curve(schedule):
    data = tiny_mnist(200)
    config = tiny_config(schedule=schedule, lr=0.01, epochs=2, max_steps=None, batch_size=32)
    total = planned_steps(config, len(data.x_train))
    logged = []
    train(config, data, callback=lambda m: logged.append(m) if isinstance(m, StepMetrics) else None)
    designed = schedule_curve(schedule, total, 0.01)
    assert len(logged) == total == 14
    for metrics in logged:
        assert metrics.lr == pytest.approx(designed[metrics.step - 1], rel=1e-9, abs=1e-15)


def test_max_lr_deviation_zero_for_exact_log():
    designed = [0.1, 0.05, 0.01]
    steps = [StepMetrics(i + 1, 0.0, 1.0, lr, 1.0, 0.0) for i, lr in enumerate(designed)]
    assert max_lr_deviation(steps, designed) == 0.0
    assert max_lr_deviation(steps, designed[:2]) == math.inf


def test_designed_curves_have_planned_length():
    study = ScheduleStudy(epochs=2, subset=100, batch_size=32)
    curves = designed_curves(list(SCHEDULES), study.steps, study.base_lr)
    assert set(curves) == set(SCHEDULES)
    assert all(len(c) == study.steps == 8 for c in curves.values())


def test_schedule_comparison_logs_designed_rates():
    data = tiny_mnist(200)
    study = ScheduleStudy(epochs=1, subset=64, batch_size=32)
    names = ["cosine", "onecycle"]
    trials = schedule_trials(study, names, {n: n for n in names})
    for trial in trials:
        trial.config.model.blocks = trial.config.model.blocks[:1]
    job = TrainingJob(trials, lambda: data, JobSlots(1)).start()
    job.join(60)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    curves = designed_curves(names, study.steps, study.base_lr)
    for name, run in zip(names, snapshot.runs, strict=True):
        assert len(run.steps) == study.steps
        assert max_lr_deviation(run.steps, curves[name]) < 1e-12


def test_range_trial_sweeps_to_end_lr():
    study = RangeTestStudy(start_lr=1e-5, end_lr=1.0, steps=10, batch_size=32)
    trial = range_test_trial(study, "range")
    trial.config.model.blocks = trial.config.model.blocks[:1]
    logged = []
    train(
        trial.config,
        tiny_mnist(200),
        callback=lambda m: logged.append(m) if isinstance(m, StepMetrics) else None,
    )
    assert len(logged) == 10
    assert logged[0].lr == pytest.approx(1e-5)
    assert logged[-1].lr == pytest.approx(1.0)
