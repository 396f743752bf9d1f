"""Background training jobs: a thread per job, a server-wide slot limit with a FIFO queue.

A ``TrainingJob`` owns its thread and a metrics buffer guarded by a lock. Whoever watches
it (a Streamlit fragment) calls ``snapshot()``; the job thread never touches the UI.
``JobSlots`` bounds how many jobs train at once; later jobs wait in line and can read
their position.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from cnnlab.data import LabData
from cnnlab.errors import LocalizedError
from cnnlab.training import (
    EpochMetrics,
    RunControl,
    StepMetrics,
    TrainConfig,
    TrainResult,
    planned_steps,
    seeded,
    train,
)

log = logging.getLogger(__name__)


def default_slot_count() -> int:
    """Return the default number of jobs that may train at once: one per GPU, else per core."""
    env = os.environ.get("CNNLAB_MAX_JOBS")
    if env:
        return max(1, int(env))
    if torch.cuda.is_available():
        return torch.cuda.device_count()
    return max(1, os.cpu_count() or 1)


def default_orphan_grace_s() -> float:
    """Return how long a job outlives its browser session, in seconds (default 45).

    ``CNNLAB_ORPHAN_GRACE_S`` overrides it. The default covers a page reload or a short
    network drop, after which the session reconnects and claims its job again.
    """
    env = os.environ.get("CNNLAB_ORPHAN_GRACE_S")
    return max(0.0, float(env)) if env else 45.0


class JobCancelled(Exception):
    """Raised inside a job that was stopped while it waited for a slot."""


class JobSlots:
    """A counting semaphore with a visible FIFO queue.

    ``acquire`` blocks until the caller is at the head of the queue and a slot is free.
    """

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity or default_slot_count()
        self._lock = threading.Condition()
        self._running = 0
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()

    def acquire(self, should_cancel: Callable[[], bool], ticket_cb=None) -> int:
        """Wait for a slot; raise ``JobCancelled`` when ``should_cancel()`` turns true."""
        with self._lock:
            ticket = next(self._tickets)
            self._queue.append(ticket)
            if ticket_cb is not None:
                ticket_cb(ticket)
            try:
                while not (self._queue[0] == ticket and self._running < self.capacity):
                    if should_cancel():
                        raise JobCancelled
                    self._lock.wait(timeout=0.25)
            except BaseException:
                self._queue.remove(ticket)
                self._lock.notify_all()
                raise
            self._queue.popleft()
            self._running += 1
            self._lock.notify_all()
            return ticket

    def release(self) -> None:
        with self._lock:
            self._running -= 1
            self._lock.notify_all()

    def position(self, ticket: int) -> int | None:
        """Return the 1-based place of ``ticket`` in the queue, or None when not waiting."""
        with self._lock:
            try:
                return self._queue.index(ticket) + 1
            except ValueError:
                return None

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)


class OrphanClock:
    """When a job's browser session went away, and whether the grace period has passed."""

    def __init__(self, grace_s: float | None = None) -> None:
        self.grace_s = default_orphan_grace_s() if grace_s is None else grace_s
        self._lock = threading.Lock()
        self._since: float | None = None

    def clear(self) -> None:
        """Record that the owning session is still there."""
        with self._lock:
            self._since = None

    def mark(self) -> None:
        """Record that the owning session disconnected; the grace period starts now."""
        with self._lock:
            self._since = time.monotonic()

    def expired(self) -> bool:
        with self._lock:
            since = self._since
        return since is not None and time.monotonic() - since > self.grace_s


ACTIVE_STATES = ("queued", "running", "paused")


@dataclass
class RunMetrics:
    """The metrics of one training run inside a job."""

    label: str
    status: str = "pending"  # pending, running, finished, stopped, diverged, failed
    steps: list[StepMetrics] = field(default_factory=list)
    epochs: list[EpochMetrics] = field(default_factory=list)
    total_steps: int = 0
    last_finite_loss: float | None = None


@dataclass
class JobSnapshot:
    """A consistent copy of a job's state for drawing."""

    state: str  # queued, running, paused, finished, stopped, diverged, failed, cancelled
    queue_position: int | None
    runs: list[RunMetrics]  # one per trial, in order; copies
    current: int  # index of the run in progress (or the last one)
    error: LocalizedError | None
    started_at: float | None
    finished_at: float | None

    @property
    def alive(self) -> bool:
        return self.state in ACTIVE_STATES

    # A single-run job's metrics, for the common case.
    @property
    def steps(self) -> list[StepMetrics]:
        return self.runs[self.current].steps if self.runs else []

    @property
    def epochs(self) -> list[EpochMetrics]:
        return self.runs[self.current].epochs if self.runs else []

    @property
    def total_steps(self) -> int:
        return self.runs[self.current].total_steps if self.runs else 0

    @property
    def last_finite_loss(self) -> float | None:
        return self.runs[self.current].last_finite_loss if self.runs else None


@dataclass
class Trial:
    """One training run of an experiment.

    ``model_factory(data)`` builds a custom model (an architecture block, an init scheme);
    by default the model comes from ``config.model``. ``prepare_data(data)`` derives the
    run's data (a subset, unnormalized pixels). ``step_hook`` and ``augment`` (a per-batch
    transform of the training images) are passed to ``train``.
    """

    label: str
    config: TrainConfig
    model_factory: Callable[[LabData], nn.Module] | None = None
    prepare_data: Callable[[LabData], LabData] | None = None
    step_hook: Callable[[nn.Module, int], None] | None = None
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None


class TrainingJob:
    """Training runs (one or several trials, one after another) in a daemon thread.

    The job holds one ``JobSlots`` slot while it trains. The owner must call ``touch()``
    from time to time (every page run does); after ``mark_orphaned()`` (the browser session
    went away) a job that is not touched again within ``orphan_grace_s`` (None:
    ``default_orphan_grace_s()``) stops itself, paused or queued jobs included. Results: ``results[i]`` is the ``TrainResult`` of
    trial ``i`` (None for a trial that did not run).
    """

    def __init__(
        self,
        trials: TrainConfig | list[Trial],
        data_factory: Callable[[], LabData],
        slots: JobSlots,
        orphan_grace_s: float | None = None,
    ) -> None:
        if isinstance(trials, TrainConfig):
            trials = [Trial("run", trials)]
        if not trials:
            raise ValueError("a job needs at least one trial")
        self.trials = trials
        self.config = trials[0].config
        self.control = RunControl()
        self.results: list[TrainResult | None] = [None] * len(trials)
        self.data: LabData | None = None  # the loaded data, once the job has started
        # What each trial trained and was tested on, after its prepare_data (None: not run).
        self.trial_data: list[LabData | None] = [None] * len(trials)
        self._data_factory = data_factory
        self._slots = slots
        self._orphan = OrphanClock(orphan_grace_s)
        self._lock = threading.Lock()
        self._runs = [RunMetrics(trial.label) for trial in trials]
        self._current = 0
        self._state = "queued"
        self._ticket: int | None = None
        self._error: LocalizedError | None = None
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="cnnlab-train", daemon=True)

    @property
    def result(self) -> TrainResult | None:
        """The first trial's result (the only one for a single-run job)."""
        return self.results[0]

    # --- owner side ---------------------------------------------------------------------

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def touch(self) -> None:
        """Record that the owning session is still there."""
        self._orphan.clear()

    def mark_orphaned(self) -> None:
        """Record that the owning session disconnected; the grace period starts now."""
        self._orphan.mark()

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            state = self._state
            if state == "running" and self.control.paused:
                state = "paused"
            runs = [
                RunMetrics(
                    r.label,
                    r.status,
                    list(r.steps),
                    list(r.epochs),
                    r.total_steps,
                    r.last_finite_loss,
                )  # fmt: skip
                for r in self._runs
            ]
            ticket = self._ticket
            return JobSnapshot(
                state=state,
                queue_position=(
                    self._slots.position(ticket)
                    if state == "queued" and ticket is not None
                    else None
                ),
                runs=runs,
                current=self._current,
                error=self._error,
                started_at=self._started_at,
                finished_at=self._finished_at,
            )

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- job thread ---------------------------------------------------------------------

    def _orphan_expired(self) -> bool:
        return self._orphan.expired()

    def _check_orphan(self) -> None:
        if self._orphan_expired():
            log.info("stopping a job whose session left more than %.0f s ago", self._orphan.grace_s)
            self.control.stop()

    def _record(self, metrics: StepMetrics | EpochMetrics) -> None:
        with self._lock:
            run = self._runs[self._current]
            if isinstance(metrics, StepMetrics):
                run.steps.append(metrics)
                run.last_finite_loss = metrics.loss
            else:
                run.epochs.append(metrics)
        if metrics.step % 20 == 0:
            self._check_orphan()

    def _finish(self, state: str) -> None:
        with self._lock:
            self._state = state
            self._finished_at = time.monotonic()

    def _set_ticket(self, ticket: int) -> None:
        with self._lock:
            self._ticket = ticket

    def _run(self) -> None:
        try:
            self._slots.acquire(
                should_cancel=lambda: self.control.stop_event.is_set() or self._orphan_expired(),
                ticket_cb=self._set_ticket,
            )
        except JobCancelled:
            self._finish("cancelled")
            return
        try:
            with self._lock:
                self._state = "running"
                self._started_at = time.monotonic()
            self.data = self._data_factory()
            state = "finished"
            for index, trial in enumerate(self.trials):
                state = self._run_trial(index, trial)
                if state == "stopped":
                    break
            self._finish(state if len(self.trials) == 1 or state == "stopped" else "finished")
        except LocalizedError as err:
            with self._lock:
                self._error = err
            self._finish("failed")
        except (RuntimeError, ValueError) as err:
            # Out of memory, a device error or a config the backend rejects: keep the run's
            # curves and tell the user instead of losing the thread silently.
            log.exception("training job failed")
            with self._lock:
                self._error = LocalizedError("lab.error.job_failed", reason=str(err)[:300])
            self._finish("failed")
        finally:
            self._slots.release()

    def _run_trial(self, index: int, trial: Trial) -> str:
        data = trial.prepare_data(self.data) if trial.prepare_data else self.data
        self.trial_data[index] = data
        with self._lock:
            self._current = index
            self._runs[index].status = "running"
            self._runs[index].total_steps = planned_steps(trial.config, len(data.x_train))
        model = None
        if trial.model_factory is not None:
            model = seeded(trial.config.seed, lambda: trial.model_factory(data))
        result = train(trial.config, data, model=model, control=self.control,
                       callback=self._record, on_wait=self._check_orphan,
                       step_hook=trial.step_hook, augment=trial.augment)  # fmt: skip
        self.results[index] = result
        with self._lock:
            self._runs[index].status = result.status
        return result.status
