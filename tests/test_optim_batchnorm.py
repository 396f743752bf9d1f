"""BatchNorm lesson: recorder, train/eval formulas vs PyTorch, folding, the comparisons."""

import pytest
import torch
from optim_support import tiny_mnist
from torch import nn

from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.optim.batchnorm import (
    FOLD_TOLERANCE,
    BatchNormStudy,
    batch_size_trials,
    batchnorm_by_hand,
    batchnorm_trials,
    first_batchnorm_input,
    fold_and_compare,
    fold_conv_bn,
    fold_model,
    warmed_up_model,
)


def trained_bn() -> nn.BatchNorm2d:
    """A BatchNorm2d with non-trivial γ, β and running statistics."""
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    bn.train()
    for _ in range(5):
        bn(torch.randn(8, 3, 5, 5) * 2 + 1)
    return bn


def test_by_hand_matches_train_mode():
    bn = trained_bn()
    x = torch.randn(4, 3, 6, 6) * 3 - 2
    report = batchnorm_by_hand(bn, x)
    bn.train()
    expected = bn(x)
    torch.testing.assert_close(report.train_output, expected, atol=1e-5, rtol=1e-5)


def test_by_hand_predicts_running_update():
    bn = trained_bn()
    x = torch.randn(4, 3, 6, 6) * 3 - 2
    report = batchnorm_by_hand(bn, x)
    bn.train()
    bn(x)
    torch.testing.assert_close(report.next_running_mean, bn.running_mean, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(report.next_running_var, bn.running_var, atol=1e-6, rtol=1e-6)


def test_by_hand_matches_eval_mode():
    bn = trained_bn()
    x = torch.randn(4, 3, 6, 6)
    report = batchnorm_by_hand(bn, x)
    bn.eval()
    torch.testing.assert_close(report.eval_output, bn(x), atol=1e-5, rtol=1e-5)


def test_train_output_is_standardized():
    bn = nn.BatchNorm2d(2)  # γ = 1, β = 0
    report = batchnorm_by_hand(bn, torch.randn(8, 2, 4, 4) * 5 + 3)
    means = report.train_output.mean(dim=(0, 2, 3))
    stds = report.train_output.std(dim=(0, 2, 3), unbiased=False)
    torch.testing.assert_close(means, torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(stds, torch.ones(2), atol=1e-3, rtol=0)


def test_fold_conv_bn_matches_eval_pair():
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=True)
    bn = nn.BatchNorm2d(4)
    bn.train()
    for _ in range(3):
        bn(conv(torch.randn(8, 3, 7, 7)))
    bn.eval()
    x = torch.randn(2, 3, 7, 7)
    with torch.no_grad():
        torch.testing.assert_close(fold_conv_bn(conv, bn)(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_fold_model_matches_within_tolerance():
    data = tiny_mnist()
    model = warmed_up_model(data, batches=3, batch_size=32)
    report = fold_and_compare(model, data.x_test[:64], repeats=3)
    assert report.pairs == 4
    assert report.matches
    assert report.max_abs_diff <= FOLD_TOLERANCE
    assert report.original_ms > 0
    assert report.folded_ms > 0
    assert report.parameters_after < report.parameters_before


def test_fold_model_replaces_batchnorm():
    model = warmed_up_model(tiny_mnist(), batches=1, batch_size=16)
    folded, pairs = fold_model(model)
    assert pairs == 4
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def test_first_batchnorm_input_shape():
    data = tiny_mnist()
    model = warmed_up_model(data, batches=1, batch_size=16)
    bn, x = first_batchnorm_input(model, data.x_test[:5])
    assert isinstance(bn, nn.BatchNorm2d)
    assert x.shape == (5, 16, 28, 28)


def test_first_batchnorm_input_requires_bn():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        first_batchnorm_input(nn.Sequential(nn.Conv2d(1, 2, 3)), torch.zeros(1, 1, 5, 5))


def test_comparison_records_layer_stats():
    data = tiny_mnist(300)
    study = BatchNormStudy(subset=200, epochs=1, batch_size=20)
    experiment = batchnorm_trials(study, {"plain": "plain", "bn": "bn"})
    job = TrainingJob(experiment.trials, lambda: data, JobSlots(1)).start()
    job.join(120)
    assert job.snapshot().state == "finished"
    for label in ("plain", "bn"):
        rows = experiment.recorders[label].rows()
        assert {row.layer for row in rows} == {"block 1", "block 2", "block 3", "block 4"}
        assert {row.step for row in rows} == {1, 5, 10}
    # BatchNorm keeps every block's pre-activation near mean 0, std 1 at the start.
    first_bn = [r for r in experiment.recorders["bn"].rows() if r.step == 1]
    assert all(abs(r.mean) < 0.05 for r in first_bn)
    assert all(abs(r.std - 1) < 0.05 for r in first_bn)


def test_batch_size_trials_share_epochs():
    trials = batch_size_trials(
        100, 1, 2, 64, {"bn_small": "a", "bn_large": "b", "plain_small": "c"}
    )
    assert [t.config.batch_size for t in trials] == [2, 64, 2]
    assert [t.config.epochs for t in trials] == [1, 1, 1]
    assert [any(b.batch_norm for b in t.config.model.blocks) for t in trials] == [True, True, False]
