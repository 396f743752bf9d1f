"""Regularization: an overfitting setup and the remedies, one at a time or combined.

The setup trains a CNN with a wide hidden layer (about 400k parameters) on a few hundred
MNIST digits for many epochs, so training accuracy reaches ~100 % while test accuracy
stays well below. Each remedy is one run on the same data, seed and step budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn

from cnnlab.data import LabData
from cnnlab.jobs import Trial
from cnnlab.models import CNNConfig, preset
from cnnlab.optim.augment import BatchAugment, BatchAugmentConfig
from cnnlab.optim.study import SubsetBudget
from cnnlab.training import TrainConfig

REMEDIES = ("weight_decay", "dropout", "label_smoothing", "augmentation", "early_stopping")


@dataclass(frozen=True)
class RegularizationStudy(SubsetBudget):
    subset: int = 300  # training images (class-balanced)
    epochs: int = 30
    batch_size: int = 50
    lr: float = 1e-3
    hidden_units: int = 256  # the wide layer that lets the model memorize
    weight_decay: float = 0.5  # AdamW's decoupled decay, for the weight-decay remedy
    dropout: float = 0.5  # in the head (after the hidden layer); the conv blocks get half
    label_smoothing: float = 0.1
    patience: int = 3  # early stopping: epochs without a new validation-loss minimum
    validation_fraction: float = 0.2  # of the subset, held out for early stopping only
    seed: int = 0

    @property
    def validation_size(self) -> int:
        return max(10, round(self.subset * self.validation_fraction))

    def model(self, dropout: bool) -> CNNConfig:
        config = preset("small")
        config = replace(config, hidden_units=self.hidden_units)
        if not dropout:
            return config
        blocks = [replace(block, dropout=self.dropout / 2) for block in config.blocks]
        return replace(config, blocks=blocks, head_dropout=self.dropout)

    def config(self, remedies: set[str]) -> TrainConfig:
        """Return the baseline config with ``remedies`` (names from ``REMEDIES``) switched on.

        The optimizer is AdamW everywhere, so only the remedy changes between runs.
        """
        unknown = remedies - set(REMEDIES)
        if unknown:
            raise ValueError(f"unknown remedies {sorted(unknown)}; expected among {REMEDIES}")
        early = "early_stopping" in remedies
        return TrainConfig(
            model=self.model("dropout" in remedies),
            optimizer="adamw",
            lr=self.lr,
            weight_decay=self.weight_decay if "weight_decay" in remedies else 0.0,
            label_smoothing=self.label_smoothing if "label_smoothing" in remedies else 0.0,
            batch_size=self.batch_size,
            epochs=self.epochs,
            validation_size=self.validation_size if early else 0,
            early_stopping_patience=self.patience if early else 0,
            seed=self.seed,
        )


def regularization_trials(
    study: RegularizationStudy, remedies: list[str], combined: bool, labels: dict[str, str]
) -> list[Trial]:
    """Return the baseline, one trial per remedy, and (if ``combined``) all of them at once.

    ``labels`` maps "baseline", "combined" and each remedy name to a display name.
    """

    def subset(data: LabData) -> LabData:
        return data.subset_train(study.subset, seed=study.seed)

    def trial(label: str, chosen: set[str]) -> Trial:
        augment = BatchAugment(BatchAugmentConfig()) if "augmentation" in chosen else None
        return Trial(label, study.config(chosen), prepare_data=subset, augment=augment)

    trials = [trial(labels["baseline"], set())]
    trials += [trial(labels[name], {name}) for name in remedies]
    if combined and len(remedies) > 1:
        trials.append(trial(labels["combined"], set(remedies)))
    return trials


def weight_norm(model: nn.Module) -> float:
    """Return the L2 norm of all of ``model``'s parameters together."""
    with torch.no_grad():
        return math.sqrt(sum(float((p.float() ** 2).sum()) for p in model.parameters()))
