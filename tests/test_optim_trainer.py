"""Trainer options the optimization lessons rely on: augment, validation, lr groups."""

import math

import pytest
import torch
from optim_support import tiny_config, tiny_mnist

from cnnlab.jobs import JobSlots, TrainingJob, Trial
from cnnlab.schedules import LR_RANGE_TEST, make_scheduler, schedule_curve
from cnnlab.training import (
    EpochMetrics,
    StepMetrics,
    parameter_groups,
    planned_steps,
    split_validation,
    train,
)


def test_augment_sees_every_training_batch():
    shapes = []

    def augment(x, generator):
        shapes.append(tuple(x.shape))
        return x

    train(tiny_config(max_steps=4), tiny_mnist(), augment=augment)
    assert len(shapes) == 4
    assert shapes[0] == (32, 1, 28, 28)


def test_augment_changes_the_trained_model():
    data = tiny_mnist()
    plain = train(tiny_config(), data).model
    flipped = train(tiny_config(), data, augment=lambda x, g: x.flip(-1)).model
    assert not torch.equal(plain.head[-1].weight, flipped.head[-1].weight)


def test_split_validation_is_class_balanced():
    data = tiny_mnist(200)
    rest, validation = split_validation(data, 50, seed=0)
    assert len(rest.y_train) == 150
    assert len(validation.y_test) == 50
    assert torch.bincount(validation.y_test).tolist() == [5] * 10


def test_validation_loss_reported_each_epoch():
    epochs = []
    config = tiny_config(validation_size=40, epochs=2, max_steps=None)
    train(
        config,
        tiny_mnist(200),
        callback=lambda m: epochs.append(m) if isinstance(m, EpochMetrics) else None,
    )
    assert len(epochs) == 2
    assert all(e.val_loss is not None and math.isfinite(e.val_loss) for e in epochs)
    assert epochs[-1].step == planned_steps(config, 200)


def test_early_stopping_ends_run_when_validation_stalls():
    # A learning rate of ~0 keeps the validation loss flat, so patience 1 stops after epoch 2.
    config = tiny_config(lr=1e-12, validation_size=40, early_stopping_patience=1, epochs=6,
                         max_steps=None)  # fmt: skip
    result = train(config, tiny_mnist(200))
    assert result.status == "finished"
    assert result.early_stopped_epoch == 2
    assert result.final.epoch == 2


def test_early_stopping_requires_validation_split():
    with pytest.raises(ValueError, match="validation_size"):
        train(tiny_config(early_stopping_patience=2), tiny_mnist())


def test_parameter_groups_scale_learning_rates():
    model = torch.nn.Sequential()
    model.add_module("features", torch.nn.Linear(3, 3))
    model.add_module("head", torch.nn.Linear(3, 2))
    groups = parameter_groups(model, {"features": 0.1}, lr=0.01)
    assert [g["name"] for g in groups] == ["default", "features"]
    assert groups[0]["lr"] == pytest.approx(0.01)
    assert groups[1]["lr"] == pytest.approx(0.001)
    assert sum(len(g["params"]) for g in groups) == 4


def test_parameter_groups_reject_unknown_name():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="features"):
        parameter_groups(model, {"features": 0.1}, lr=0.01)


def test_lr_multipliers_reach_the_optimizer():
    seen = []

    def hook(model, step):
        seen.append(step)

    steps = []
    config = tiny_config(lr=0.01, lr_multipliers={"features": 0.0})
    data = tiny_mnist()
    result = train(config, data, step_hook=hook,
                   callback=lambda m: steps.append(m) if isinstance(m, StepMetrics) else None)  # fmt: skip
    # Group 0 (the head) logs the base rate; the features, at rate 0, never move.
    assert steps[0].lr == pytest.approx(0.01)
    fresh = train(tiny_config(lr=0.01, max_steps=1, lr_multipliers={"features": 0.0}), data).model
    assert torch.equal(result.model.features[0].conv.weight, fresh.features[0].conv.weight)


def test_onecycle_keeps_group_ratios():
    model = torch.nn.Sequential()
    model.add_module("features", torch.nn.Linear(2, 2))
    model.add_module("head", torch.nn.Linear(2, 2))
    optimizer = torch.optim.SGD(parameter_groups(model, {"features": 0.1}, lr=1.0), lr=1.0)
    scheduler = make_scheduler("onecycle", optimizer, 20, 1.0)
    peak = [0.0, 0.0]
    for _ in range(20):
        peak = [max(p, g["lr"]) for p, g in zip(peak, optimizer.param_groups, strict=True)]
        optimizer.step()
        scheduler.step()
    assert peak[0] == pytest.approx(1.0, rel=1e-3)
    assert peak[1] == pytest.approx(0.1, rel=1e-3)


def test_range_test_curve_grows_exponentially():
    rates = schedule_curve(LR_RANGE_TEST, 11, 1.0, start_lr=1e-5)
    assert rates[0] == pytest.approx(1e-5)
    assert rates[-1] == pytest.approx(1.0)
    assert rates[5] == pytest.approx(10**-2.5)


def test_range_test_rejects_start_above_end():
    with pytest.raises(ValueError, match="start_lr"):
        schedule_curve(LR_RANGE_TEST, 10, 0.01, start_lr=0.1)


def test_job_passes_augment_to_trainer():
    calls = []

    def augment(x, generator):
        calls.append(1)
        return x

    data = tiny_mnist()
    job = TrainingJob([Trial("a", tiny_config(max_steps=3), augment=augment)], lambda: data,
                      JobSlots(1)).start()  # fmt: skip
    job.join(30)
    assert job.snapshot().state == "finished"
    assert len(calls) == 3


@pytest.mark.parametrize("total", range(1, 10))
def test_onecycle_short_runs_do_not_crash(total):
    rates = schedule_curve("onecycle", total, 1.0)
    assert len(rates) == total
    assert all(math.isfinite(rate) for rate in rates)


def test_job_keeps_each_trials_prepared_data():
    data = tiny_mnist()
    half = Trial("half", tiny_config(max_steps=1), prepare_data=lambda d: d.subset_train(50))
    job = TrainingJob(
        [Trial("all", tiny_config(max_steps=1)), half], lambda: data, JobSlots(1)
    ).start()
    job.join(30)
    assert job.trial_data[0] is job.data
    assert len(job.trial_data[1].y_train) == 50
