"""Regularization lesson: each remedy changes exactly its setting, and the runs finish."""

import math

import pytest
import torch
from optim_support import tiny_mnist

from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.optim.augment import BatchAugment
from cnnlab.optim.regularization import (
    REMEDIES,
    RegularizationStudy,
    regularization_trials,
    weight_norm,
)

LABELS = {name: name for name in (*REMEDIES, "baseline", "combined")}


def test_baseline_has_no_remedy():
    config = RegularizationStudy().config(set())
    assert config.weight_decay == 0.0
    assert config.label_smoothing == 0.0
    assert config.validation_size == 0
    assert config.early_stopping_patience == 0
    assert config.model.head_dropout == 0.0
    assert all(block.dropout == 0.0 for block in config.model.blocks)


def test_each_remedy_sets_its_field():
    study = RegularizationStudy(weight_decay=0.3, dropout=0.4, label_smoothing=0.2, patience=2)
    assert study.config({"weight_decay"}).weight_decay == 0.3
    assert study.config({"label_smoothing"}).label_smoothing == 0.2
    dropout = study.config({"dropout"}).model
    assert dropout.head_dropout == 0.4
    assert all(block.dropout == pytest.approx(0.2) for block in dropout.blocks)
    early = study.config({"early_stopping"})
    assert early.early_stopping_patience == 2
    assert early.validation_size == 60


def test_unknown_remedy_rejected():
    with pytest.raises(ValueError, match="unknown remedies"):
        RegularizationStudy().config({"magic"})


def test_trials_baseline_each_and_combined():
    trials = regularization_trials(RegularizationStudy(), ["dropout", "augmentation"], True, LABELS)
    assert [t.label for t in trials] == ["baseline", "dropout", "augmentation", "combined"]
    assert trials[0].augment is None
    assert isinstance(trials[2].augment, BatchAugment)
    assert isinstance(trials[3].augment, BatchAugment)
    assert trials[3].config.model.head_dropout > 0


def test_combined_needs_two_remedies():
    trials = regularization_trials(RegularizationStudy(), ["dropout"], True, LABELS)
    assert [t.label for t in trials] == ["baseline", "dropout"]


def test_same_budget_for_every_run():
    trials = regularization_trials(RegularizationStudy(), list(REMEDIES), True, LABELS)
    assert {t.config.epochs for t in trials} == {30}
    assert {t.config.batch_size for t in trials} == {50}
    assert {t.config.seed for t in trials} == {0}


def test_weight_norm_matches_torch():
    model = torch.nn.Linear(3, 2)
    expected = torch.cat([p.flatten() for p in model.parameters()]).norm().item()
    assert weight_norm(model) == pytest.approx(expected)


def test_remedy_runs_finish():
    data = tiny_mnist(200)
    study = RegularizationStudy(subset=100, epochs=3, hidden_units=16, patience=1)
    trials = regularization_trials(study, ["weight_decay", "early_stopping"], False, LABELS)
    job = TrainingJob(trials, lambda: data, JobSlots(1)).start()
    job.join(120)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    assert [r.status for r in snapshot.runs] == ["finished"] * 3
    early = snapshot.runs[2].epochs
    assert all(e.val_loss is not None and math.isfinite(e.val_loss) for e in early)
    norms = [weight_norm(result.model) for result in job.results]
    assert norms[1] < norms[0]
