import threading
import time

import pytest
import torch
import torch.nn.functional as F

from cnnlab.data import load_mnist_5k
from cnnlab.models import preset
from cnnlab.schedules import SCHEDULES, schedule_curve
from cnnlab.training import EpochMetrics, RunControl, StepMetrics, TrainConfig, evaluate, train


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_5k()


def collect(kind):
    items = []
    return items, lambda m: items.append(m) if isinstance(m, kind) else None


@pytest.mark.slow
def test_reaches_95_percent_on_mnist_5k(mnist):
    epochs, callback = collect(EpochMetrics)
    result = train(TrainConfig(epochs=5, device="cpu"), mnist, callback=callback)
    assert result.status == "finished"
    assert max(e.test_acc for e in epochs) >= 0.95


def test_reports_steps_and_epochs(mnist):
    seen = []
    result = train(TrainConfig(epochs=2, max_steps=80, device="cpu"), mnist, callback=seen.append)
    steps = [m for m in seen if isinstance(m, StepMetrics)]
    epochs = [m for m in seen if isinstance(m, EpochMetrics)]
    assert result.steps == 80
    assert [s.step for s in steps] == list(range(1, 81))
    assert [e.epoch for e in epochs] == [1, 2]
    assert epochs[0].step == 63  # ceil(4000 / 64)
    assert 0 <= epochs[-1].test_acc <= 1
    assert steps[-1].elapsed >= steps[0].elapsed > 0
    assert all(s.samples_per_s > 0 for s in steps)


def test_cpu_run_is_deterministic(mnist):
    config = TrainConfig(epochs=1, max_steps=15, device="cpu", shift_augment=1, seed=7)
    a, callback_a = collect(StepMetrics)
    b, callback_b = collect(StepMetrics)
    train(config, mnist, callback=callback_a)
    train(config, mnist, callback=callback_b)
    assert [s.loss for s in a] == [s.loss for s in b]


def test_different_seed_gives_different_run(mnist):
    a, callback_a = collect(StepMetrics)
    b, callback_b = collect(StepMetrics)
    train(TrainConfig(epochs=1, max_steps=5, device="cpu", seed=1), mnist, callback=callback_a)
    train(TrainConfig(epochs=1, max_steps=5, device="cpu", seed=2), mnist, callback=callback_b)
    assert [s.loss for s in a] != [s.loss for s in b]


def test_non_finite_loss_stops_as_diverged(mnist):
    config = TrainConfig(epochs=1, optimizer="sgd", lr=1e12, momentum=0.0, device="cpu",
                         model=preset("tiny"))  # fmt: skip
    steps, callback = collect(StepMetrics)
    result = train(config, mnist, callback=callback)
    assert result.status == "diverged"
    assert result.last_finite_loss is not None
    assert result.last_finite_loss == steps[-1].loss
    assert result.steps == len(steps) < 63
    for param in result.model.parameters():
        assert torch.isfinite(param).all()  # the update that would have gone NaN never ran


def test_stop_takes_effect_within_one_batch(mnist):
    control = RunControl()
    steps = []

    def callback(metrics):
        if isinstance(metrics, StepMetrics):
            steps.append(metrics)
            if metrics.step == 3:
                control.stop()

    result = train(TrainConfig(epochs=1, device="cpu"), mnist, control=control, callback=callback)
    assert result.status == "stopped"
    assert len(steps) == 3


def test_pause_blocks_until_resume(mnist):
    control = RunControl()
    steps, callback = collect(StepMetrics)
    control.pause()
    thread = threading.Thread(target=train, args=(TrainConfig(epochs=1, max_steps=5, device="cpu"), mnist),
                              kwargs={"control": control, "callback": callback})  # fmt: skip
    thread.start()
    time.sleep(0.8)
    assert steps == []
    assert thread.is_alive()
    control.resume()
    thread.join(timeout=60)
    assert len(steps) == 5


def test_logged_lr_follows_the_schedule(mnist):
    config = TrainConfig(epochs=1, max_steps=40, schedule="onecycle", lr=0.01, device="cpu")
    steps, callback = collect(StepMetrics)
    train(config, mnist, callback=callback)
    assert [s.lr for s in steps] == pytest.approx(schedule_curve("onecycle", 40, 0.01))


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_curves_are_positive_and_start_right(name):
    rates = schedule_curve(name, 100, 0.1)
    assert len(rates) == 100
    assert all(r >= 0 for r in rates)
    assert max(rates) <= 0.1 + 1e-12
    if name in ("constant", "step", "exponential", "cosine"):
        assert rates[0] == pytest.approx(0.1)


def test_step_schedule_divides_by_ten():
    rates = schedule_curve("step", 100, 1.0)
    assert rates[49] == pytest.approx(1.0)
    assert rates[50] == pytest.approx(0.1)
    assert rates[75] == pytest.approx(0.01)


def test_evaluate_matches_manual_accuracy(mnist):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    loss, accuracy, predicted = evaluate(model, mnist.x_test, mnist.y_test, batch_size=300)
    logits = model(mnist.x_test)
    assert accuracy == pytest.approx((logits.argmax(1) == mnist.y_test).float().mean().item())
    assert torch.equal(predicted, logits.argmax(1))
    assert loss == pytest.approx(
        torch.nn.functional.cross_entropy(logits, mnist.y_test).item(), rel=1e-5
    )


def test_invalid_settings_are_rejected(mnist):
    with pytest.raises(ValueError, match="optimizer"):
        train(TrainConfig(optimizer="lbfgs"), mnist)
    with pytest.raises(ValueError, match="lr"):
        train(TrainConfig(lr=-1.0), mnist)
    with pytest.raises(ValueError, match="schedule"):
        train(TrainConfig(schedule="triangle"), mnist)


def test_label_smoothing_loss_floor_is_half():
    # The lab's recipe help states that the loss levels off near 0.5 with label smoothing
    # 0.1 on ten classes, because the best prediction is the smoothed target, whose
    # entropy is 0.5.
    target = torch.full((1, 10), 0.01)
    target[0, 3] = 0.91
    floor = F.cross_entropy(target.log(), torch.tensor([3]), label_smoothing=0.1)
    assert floor.item() == pytest.approx(0.50, abs=0.005)
    worse = torch.zeros(1, 10)
    worse[0, 3] = 20.0  # a confident, correct prediction scores higher, not lower
    assert F.cross_entropy(worse, torch.tensor([3]), label_smoothing=0.1) > floor
