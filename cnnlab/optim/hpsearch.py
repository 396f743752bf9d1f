"""Hyper-parameter search with Optuna, in a background thread that holds one training slot.

Each Optuna trial trains the lab's CNN on a small subset for a few epochs and reports the
test accuracy after every epoch, so a ``MedianPruner`` can stop trials that fall behind the
median of earlier trials at the same epoch. ``HyperSearchJob`` mirrors ``TrainingJob``:
``start``/``stop``, ``touch``/``mark_orphaned``, and ``snapshot()`` for the page.

NOTE: trials are chosen and pruned on the test split, so the best trial's test accuracy is
an optimistic estimate; a separate validation split would give an unbiased one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from cnnlab.data import LabData
from cnnlab.errors import LocalizedError
from cnnlab.jobs import JobCancelled, JobSlots, OrphanClock
from cnnlab.models import preset
from cnnlab.training import EpochMetrics, RunControl, StepMetrics, TrainConfig, planned_steps, train

log = logging.getLogger(__name__)

# Values the search may pick. Each is also an option of the training lab's widgets, so the
# best configuration can be sent to the lab unchanged.
LEARNING_RATES = (3e-4, 1e-3, 2e-3, 4e-3, 1e-2)
WEIGHT_DECAYS = (0.0, 1e-4, 5e-4, 1e-3)
BATCH_SIZES = (32, 64, 128)
WIDTHS = ("tiny", "small", "medium")  # model presets of growing width


@dataclass(frozen=True)
class SearchConfig:
    n_trials: int = 10
    epochs: int = 3  # per trial; one pruning check after each
    subset: int = 1000  # training images (class-balanced)
    pruning: bool = True
    seed: int = 0  # seeds the sampler and every trial's training

    def train_config(self, params: dict[str, Any]) -> TrainConfig:
        """Return the training run of one trial's ``params``."""
        return TrainConfig(model=preset(params["width"]), optimizer="adam", lr=params["lr"],
                           weight_decay=params["weight_decay"], batch_size=params["batch_size"],
                           epochs=self.epochs, seed=self.seed)  # fmt: skip


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    """Draw one configuration (categorical choices, so every value is a lab option)."""
    return {
        "lr": trial.suggest_categorical("lr", LEARNING_RATES),
        "weight_decay": trial.suggest_categorical("weight_decay", WEIGHT_DECAYS),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
        "width": trial.suggest_categorical("width", WIDTHS),
    }


@dataclass
class TrialRow:
    number: int  # Optuna's 0-based trial number
    params: dict[str, Any]
    state: str  # running, complete, pruned, stopped, failed
    value: float | None = None  # final test accuracy in [0, 1]
    accuracies: list[float] = field(default_factory=list)  # test accuracy after each epoch
    seconds: float = 0.0


@dataclass
class SearchSnapshot:
    state: str  # queued, running, finished, stopped, failed, cancelled
    queue_position: int | None
    trials: list[TrialRow]
    n_trials: int
    step: int  # steps done in the running trial
    total_steps: int  # steps planned for the running trial
    error: LocalizedError | None

    @property
    def alive(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def best(self) -> TrialRow | None:
        complete = [t for t in self.trials if t.state == "complete" and t.value is not None]
        return max(complete, key=lambda t: t.value) if complete else None


class HyperSearchJob:
    """An Optuna study run in a daemon thread that holds one ``JobSlots`` slot.

    The owner calls ``touch()`` on every page run; after ``mark_orphaned()`` a search that
    is not touched again within ``orphan_grace_s`` stops itself (queued searches included).
    ``study`` is readable while the search runs (Optuna's in-memory storage is locked).
    """

    def __init__(self, config: SearchConfig, data_factory: Callable[[], LabData], slots: JobSlots,
                 orphan_grace_s: float | None = None) -> None:  # fmt: skip
        self.config = config
        sampler = optuna.samplers.TPESampler(seed=config.seed)
        pruner = (optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
                  if config.pruning else optuna.pruners.NopPruner())  # fmt: skip
        self.study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
        self._data_factory = data_factory
        self._slots = slots
        self._orphan = OrphanClock(orphan_grace_s)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._control: RunControl | None = None
        self._state = "queued"
        self._ticket: int | None = None
        self._rows: list[TrialRow] = []
        self._step = 0
        self._total_steps = 0
        self._error: LocalizedError | None = None
        self._thread = threading.Thread(target=self._run, name="cnnlab-hpsearch", daemon=True)

    # --- owner side ---------------------------------------------------------------------

    def start(self) -> HyperSearchJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            control = self._control
        if control is not None:
            control.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def touch(self) -> None:
        self._orphan.clear()

    def mark_orphaned(self) -> None:
        self._orphan.mark()

    def snapshot(self) -> SearchSnapshot:
        with self._lock:
            rows = [TrialRow(r.number, dict(r.params), r.state, r.value, list(r.accuracies), r.seconds)
                    for r in self._rows]  # fmt: skip
            ticket = self._ticket
            position = (
                self._slots.position(ticket)
                if self._state == "queued" and ticket is not None
                else None
            )
            return SearchSnapshot(self._state, position, rows, self.config.n_trials, self._step,
                                  self._total_steps, self._error)  # fmt: skip

    # --- search thread ------------------------------------------------------------------

    def _orphan_expired(self) -> bool:
        return self._orphan.expired()

    def _check_orphan(self) -> None:
        if self._orphan_expired():
            log.info(
                "stopping a search whose session left more than %.0f s ago", self._orphan.grace_s
            )
            self.stop()

    def _set_ticket(self, ticket: int) -> None:
        with self._lock:
            self._ticket = ticket

    def _finish(self, state: str) -> None:
        with self._lock:
            self._state = state

    def _run(self) -> None:
        try:
            self._slots.acquire(should_cancel=lambda: self._stop.is_set() or self._orphan_expired(),
                                ticket_cb=self._set_ticket)  # fmt: skip
        except JobCancelled:
            self._finish("cancelled")
            return
        try:
            self._finish("running")
            data = self._data_factory().subset_train(self.config.subset, seed=self.config.seed)
            self.study.optimize(
                lambda trial: self._objective(trial, data), n_trials=self.config.n_trials
            )
            self._finish("stopped" if self._stop.is_set() else "finished")
        except LocalizedError as err:
            with self._lock:
                self._error = err
            self._finish("failed")
        except (RuntimeError, ValueError) as err:
            log.exception("hyper-parameter search failed")
            with self._lock:
                self._error = LocalizedError("lab.error.job_failed", reason=str(err)[:300])
            self._finish("failed")
        finally:
            self._slots.release()

    def _objective(self, trial: optuna.Trial, data: LabData) -> float:
        self._check_orphan()
        if self._stop.is_set():
            trial.study.stop()
            raise optuna.TrialPruned("search stopped")
        params = suggest(trial)
        config = self.config.train_config(params)
        row = TrialRow(trial.number, params, "running")
        control = RunControl()
        with self._lock:
            self._rows.append(row)
            self._control = control
            self._step = 0
            self._total_steps = planned_steps(config, len(data.x_train))
        pruned = False
        started = time.monotonic()

        def on_metrics(metrics: StepMetrics | EpochMetrics) -> None:
            nonlocal pruned
            if isinstance(metrics, StepMetrics):
                with self._lock:
                    self._step = metrics.step
                if metrics.step % 20 == 0:
                    self._check_orphan()
                return
            self._check_orphan()
            trial.report(metrics.test_acc, metrics.epoch)
            with self._lock:
                row.accuracies.append(metrics.test_acc)
            if trial.should_prune():
                pruned = True
                control.stop()

        if self._stop.is_set():
            control.stop()
        result = train(
            config, data, control=control, callback=on_metrics, on_wait=self._check_orphan
        )
        with self._lock:
            row.seconds = time.monotonic() - started
            self._control = None
        if pruned:
            self._set_row_state(row, "pruned")
            raise optuna.TrialPruned(f"pruned at epoch {len(row.accuracies)}")
        if result.status == "stopped":
            self._set_row_state(row, "stopped")
            trial.study.stop()
            raise optuna.TrialPruned("search stopped")
        # A diverged run counts with its last finished epoch's accuracy, or 0 without one.
        value = result.final.test_acc if result.final is not None else 0.0
        with self._lock:
            row.state, row.value = "complete", value
        return value

    def _set_row_state(self, row: TrialRow, state: str) -> None:
        with self._lock:
            row.state = state
