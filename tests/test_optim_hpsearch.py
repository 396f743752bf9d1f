"""Hyper-parameter search: a tiny study finishes, prunes, stops, and stays in lab options."""

import optuna
import pytest
from optim_support import tiny_mnist

from cnnlab.jobs import JobSlots
from cnnlab.models import PRESETS
from cnnlab.optim.hpsearch import (
    BATCH_SIZES,
    LEARNING_RATES,
    WEIGHT_DECAYS,
    WIDTHS,
    HyperSearchJob,
    SearchConfig,
)
from ui.lab_settings import BATCH_SIZES as LAB_BATCH_SIZES
from ui.lab_settings import LEARNING_RATES as LAB_LEARNING_RATES


def run_search(config: SearchConfig, timeout: float = 240) -> HyperSearchJob:
    data = tiny_mnist(300)
    job = HyperSearchJob(config, lambda: data, JobSlots(1)).start()
    job.join(timeout)
    assert not job.alive
    return job


def test_search_values_are_lab_options():
    assert set(LEARNING_RATES) <= set(LAB_LEARNING_RATES)
    assert set(BATCH_SIZES) <= set(LAB_BATCH_SIZES)
    assert set(WEIGHT_DECAYS) <= {0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2, 5e-2}
    assert set(WIDTHS) <= set(PRESETS)


def test_three_trials_report_best():
    job = run_search(SearchConfig(n_trials=3, epochs=1, subset=100, pruning=False))
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    assert len(snapshot.trials) == 3
    assert all(t.state == "complete" for t in snapshot.trials)
    best = snapshot.best
    assert best is not None
    assert best.value == pytest.approx(job.study.best_value)
    assert best.params == job.study.best_params
    assert len(job.study.trials) == 3


def test_pruning_reports_each_epoch():
    job = run_search(SearchConfig(n_trials=5, epochs=2, subset=100, pruning=True))
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    states = {t.state for t in snapshot.trials}
    assert states <= {"complete", "pruned"}
    for trial, frozen in zip(snapshot.trials, job.study.trials, strict=True):
        assert list(frozen.intermediate_values.values()) == pytest.approx(trial.accuracies)
    pruned = [t for t in job.study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(len(t.intermediate_values) < 2 for t in pruned)


def test_stop_ends_search():
    data = tiny_mnist(300)
    job = HyperSearchJob(
        SearchConfig(n_trials=50, epochs=1, subset=100), lambda: data, JobSlots(1)
    ).start()
    while not job.snapshot().trials:
        job.join(0.05)
    job.stop()
    job.join(60)
    snapshot = job.snapshot()
    assert snapshot.state == "stopped"
    assert len(snapshot.trials) < 50


def test_orphaned_search_stops():
    data = tiny_mnist(300)
    job = HyperSearchJob(SearchConfig(n_trials=50, epochs=1, subset=100), lambda: data, JobSlots(1),
                         orphan_grace_s=0.0)  # fmt: skip
    job.mark_orphaned()
    job.start().join(60)
    assert job.snapshot().state in ("cancelled", "stopped")


def test_queued_search_waits_for_slot():
    slots = JobSlots(1)
    slots.acquire(lambda: False)
    job = HyperSearchJob(SearchConfig(n_trials=1, epochs=1, subset=100), tiny_mnist, slots).start()
    job.join(0.5)
    assert job.snapshot().state == "queued"
    assert job.snapshot().queue_position == 1
    job.stop()
    job.join(10)
    assert job.snapshot().state == "cancelled"
    slots.release()
