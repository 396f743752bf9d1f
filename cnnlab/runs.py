"""Finished runs: their curves, config, evaluation and weights, and a short history of them."""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from cnnlab.data import LabData
from cnnlab.errors import LocalizedError
from cnnlab.training import EpochMetrics, StepMetrics, TrainConfig, evaluate

MAX_RUNS = 5


@dataclass
class RunRecord:
    """Everything the lab shows about one run; the model is a CPU copy in eval mode."""

    run_id: int
    label: str  # e.g. "#3 small · Adam · lr 0.004", in the language the run started in
    config: TrainConfig
    status: str  # finished, stopped, diverged or failed
    steps: list[StepMetrics]
    epochs: list[EpochMetrics]
    model: nn.Module | None
    last_finite_loss: float | None = None
    test_predictions: np.ndarray | None = None  # (N_test,) predicted class per test image
    test_labels: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    error: LocalizedError | None = None  # why a failed run failed
    created: float = field(default_factory=time.time)
    # The label in every language, by language code (empty: ``label`` serves them all).
    translations: dict[str, str] = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float | None:
        return self.epochs[-1].test_acc if self.epochs else None

    def confusion_matrix(self) -> np.ndarray | None:
        """Return counts (K, K): rows are true classes, columns predicted classes."""
        if self.test_predictions is None or self.test_labels is None:
            return None
        k = len(self.classes)
        matrix = np.zeros((k, k), dtype=np.int64)
        np.add.at(matrix, (self.test_labels, self.test_predictions), 1)
        return matrix

    def misclassified(
        self, true_class: int | None = None, predicted: int | None = None
    ) -> np.ndarray:
        """Return test indices predicted wrongly, optionally for one confusion-matrix cell."""
        if self.test_predictions is None or self.test_labels is None:
            return np.zeros(0, dtype=np.int64)
        wrong = self.test_predictions != self.test_labels
        if true_class is not None:
            wrong &= self.test_labels == true_class
        if predicted is not None:
            wrong &= self.test_predictions == predicted
        return np.flatnonzero(wrong)

    def metrics_csv(self) -> str:
        """Return the per-step and per-epoch metrics as one CSV table (``kind`` column)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["kind", "epoch", "step", "loss", "lr", "samples_per_s", "seconds",
                         "train_loss", "train_acc", "test_loss", "test_acc"])  # fmt: skip
        for s in self.steps:
            writer.writerow(["step", f"{s.epoch:.4f}", s.step, s.loss, s.lr, s.samples_per_s,
                             s.elapsed, "", "", "", ""])  # fmt: skip
        for e in self.epochs:
            writer.writerow(["epoch", e.epoch, e.step, "", e.lr, e.samples_per_s, e.seconds,
                             e.train_loss, e.train_acc, e.test_loss, e.test_acc])  # fmt: skip
        return buffer.getvalue()

    def config_json(self) -> str:
        return json.dumps(self.config.to_dict(), indent=2, ensure_ascii=False)

    def state_dict_bytes(self) -> bytes:
        """Return the model's ``state_dict`` saved with ``torch.save`` (load it with
        ``torch.load(..., weights_only=True)``)."""
        if self.model is None:
            raise ValueError("this run has no model")
        buffer = io.BytesIO()
        torch.save(self.model.state_dict(), buffer)
        return buffer.getvalue()


def make_record(
    run_id: int,
    label: str,
    config: TrainConfig,
    status: str,
    steps: list[StepMetrics],
    epochs: list[EpochMetrics],
    model: nn.Module | None,
    data: LabData | None,
    last_finite_loss: float | None = None,
) -> RunRecord:
    """Freeze a run: copy the model to the CPU in eval mode and predict the test split."""
    record = RunRecord(run_id, label, config, status, list(steps), list(epochs), None,
                       last_finite_loss)  # fmt: skip
    if model is None or data is None:
        return record
    record.model = copy.deepcopy(model).cpu().eval()
    record.classes = data.classes
    if status != "diverged":
        _, _, predicted = evaluate(record.model, data.x_test.cpu(), data.y_test.cpu())
        record.test_predictions = predicted.numpy()
        record.test_labels = data.y_test.cpu().numpy()
    return record


class RunHistory:
    """The last ``MAX_RUNS`` runs of one session, newest last."""

    def __init__(self, max_runs: int = MAX_RUNS) -> None:
        self._runs: deque[RunRecord] = deque(maxlen=max_runs)
        self._next_id = 1

    def next_id(self) -> int:
        run_id = self._next_id
        self._next_id += 1
        return run_id

    def add(self, record: RunRecord) -> None:
        self._runs.append(record)

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self):
        return iter(self._runs)

    def get(self, run_id: int) -> RunRecord | None:
        return next((r for r in self._runs if r.run_id == run_id), None)

    @property
    def latest(self) -> RunRecord | None:
        return self._runs[-1] if self._runs else None

    def latest_model(self) -> nn.Module | None:
        """Return the model of the newest run that has one, or None."""
        for record in reversed(self._runs):
            if record.model is not None and record.status != "diverged":
                return record.model
        return None
