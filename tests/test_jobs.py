import threading
import time

import pytest

from cnnlab.data import load_mnist_5k
from cnnlab.errors import LocalizedError
from cnnlab.jobs import JobCancelled, JobSlots, TrainingJob, Trial
from cnnlab.training import TrainConfig


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_5k()


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def quick(steps=10, **kwargs):
    return TrainConfig(epochs=1, max_steps=steps, device="cpu", **kwargs)


def test_job_trains_in_background(mnist):
    job = TrainingJob(quick(), lambda: mnist, JobSlots(1)).start()
    job.join(timeout=60)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    assert len(snapshot.steps) == 10
    assert len(snapshot.epochs) == 1
    assert snapshot.total_steps == 10
    assert job.result.model is not None


def test_slots_queue_in_order(mnist):
    slots = JobSlots(1)
    first = TrainingJob(quick(60), lambda: mnist, slots)
    first.pause()  # hold the only slot
    first.start()
    assert wait_for(lambda: first.snapshot().state == "paused")
    second = TrainingJob(quick(), lambda: mnist, slots).start()
    third = TrainingJob(quick(), lambda: mnist, slots).start()
    assert wait_for(lambda: third.snapshot().queue_position == 2)
    assert second.snapshot().queue_position == 1
    assert second.snapshot().state == "queued"
    assert slots.running == 1
    assert slots.waiting == 2

    first.stop()
    for job in (first, second, third):
        job.join(timeout=60)
    assert first.snapshot().state == "stopped"
    assert second.snapshot().state == "finished"
    assert third.snapshot().state == "finished"
    assert slots.running == 0


def test_slots_serve_thirty_jobs_in_turn(mnist):
    slots = JobSlots(2)
    peak = []
    lock = threading.Lock()

    def load():
        with lock:
            peak.append(slots.running)
        return mnist

    jobs = [TrainingJob(quick(2), load, slots).start() for _ in range(30)]
    for job in jobs:
        job.join(timeout=300)
    assert max(peak) <= 2
    assert [job.snapshot().state for job in jobs] == ["finished"] * 30
    assert slots.running == 0
    assert slots.waiting == 0


def test_stop_while_queued_cancels(mnist):
    slots = JobSlots(1)
    holder = TrainingJob(quick(60), lambda: mnist, slots)
    holder.pause()
    holder.start()
    waiting = TrainingJob(quick(), lambda: mnist, slots).start()
    assert wait_for(lambda: waiting.snapshot().queue_position == 1)
    waiting.stop()
    waiting.join(timeout=10)
    assert waiting.snapshot().state == "cancelled"
    assert slots.waiting == 0
    holder.stop()
    holder.join(timeout=30)


def test_pause_and_resume(mnist):
    job = TrainingJob(quick(400), lambda: mnist, JobSlots(1)).start()
    assert wait_for(lambda: len(job.snapshot().steps) >= 2)
    job.pause()
    assert wait_for(lambda: job.snapshot().state == "paused")
    time.sleep(0.3)
    count = len(job.snapshot().steps)
    time.sleep(0.6)
    assert len(job.snapshot().steps) <= count + 1  # at most the batch in flight
    job.resume()
    assert wait_for(lambda: len(job.snapshot().steps) > count + 1)
    job.stop()
    job.join(timeout=30)
    assert job.snapshot().state == "stopped"


def test_orphaned_job_stops_after_grace(mnist):
    job = TrainingJob(quick(100_000), lambda: mnist, JobSlots(1), orphan_grace_s=0.5)
    job.pause()  # a paused job must end too
    job.start()
    assert wait_for(lambda: job.snapshot().state == "paused")
    job.mark_orphaned()
    job.join(timeout=10)
    assert not job.alive
    assert job.snapshot().state == "stopped"


def test_touch_cancels_orphan_mark(mnist):
    job = TrainingJob(quick(100_000), lambda: mnist, JobSlots(1), orphan_grace_s=0.5)
    job.pause()
    job.start()
    job.mark_orphaned()
    job.touch()  # the session reconnected
    time.sleep(1.5)
    assert job.alive
    job.stop()
    job.join(timeout=10)


def test_failing_data_factory_reports_error():
    def broken():
        raise LocalizedError("data.error.download", dataset="cifar10", root="/nowhere")

    slots = JobSlots(1)
    job = TrainingJob(quick(), broken, slots).start()
    job.join(timeout=10)
    snapshot = job.snapshot()
    assert snapshot.state == "failed"
    assert snapshot.error.key == "data.error.download"
    assert slots.running == 0


def test_trials_run_in_order(mnist):
    trials = [
        Trial("a", quick(5)),
        Trial("b", quick(7), prepare_data=lambda d: d.subset_train(200)),
    ]
    job = TrainingJob(trials, lambda: mnist, JobSlots(1)).start()
    job.join(timeout=60)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    assert [(r.label, r.status, len(r.steps)) for r in snapshot.runs] == [
        ("a", "finished", 5),
        ("b", "finished", 4),
    ]
    assert all(result is not None for result in job.results)


def test_slots_acquire_can_be_cancelled():
    slots = JobSlots(1)
    slots.acquire(lambda: False)
    with pytest.raises(JobCancelled):
        slots.acquire(lambda: True)
    assert slots.waiting == 0
    slots.release()
