"""Cross-entropy step by step, its stability, label smoothing and MSE-vs-CE, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.losses import (
    compare_stability,
    cross_entropy_steps,
    label_smoothing_loss,
    mse_vs_ce_gradients,
    parse_logits,
    smoothing_curve,
    torch_cross_entropy,
)

LOGITS = np.array([2.0, 1.0, 0.1, -1.5])


@pytest.mark.parametrize("target", [0, 1, 3])
def test_steps_match_f_cross_entropy(target):
    steps = cross_entropy_steps(LOGITS, target)

    expected = F.cross_entropy(torch.tensor(LOGITS).unsqueeze(0), torch.tensor([target]))
    assert steps.loss == pytest.approx(float(expected), rel=1e-12)
    assert steps.loss == pytest.approx(torch_cross_entropy(LOGITS, target), rel=1e-12)


def test_steps_probabilities_match_softmax():
    steps = cross_entropy_steps(LOGITS, 0)

    np.testing.assert_allclose(steps.probs, F.softmax(torch.tensor(LOGITS), dim=0).numpy())
    assert steps.probs.sum() == pytest.approx(1.0)
    assert steps.log_sum_exp == pytest.approx(float(torch.logsumexp(torch.tensor(LOGITS), 0)))
    assert steps.loss == pytest.approx(-np.log(steps.probs[0]))


def test_steps_reject_bad_target():
    with pytest.raises(LocalizedError) as info:
        cross_entropy_steps(LOGITS, 4)

    assert info.value.key == "nn_loss.error_target"


def test_steps_reject_single_class():
    with pytest.raises(LocalizedError):
        cross_entropy_steps(np.array([1.0]), 0)


def test_naive_formula_overflows_on_large_logits():
    result = compare_stability(np.array([100.0, 90.0, 0.0]), target=1)

    assert result.overflowed
    assert np.isinf(result.naive_exps[0])
    assert not np.isfinite(result.naive_loss)
    assert result.stable_loss == pytest.approx(10.0, rel=1e-5)
    assert result.stable_loss == pytest.approx(result.torch_loss, rel=1e-6)


def test_naive_formula_agrees_on_small_logits():
    result = compare_stability(LOGITS, target=2)

    assert not result.overflowed
    assert result.naive_loss == pytest.approx(result.stable_loss, rel=1e-5)
    assert result.stable_loss == pytest.approx(result.torch_loss, rel=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_label_smoothing_matches_torch(smoothing):
    result = label_smoothing_loss(LOGITS, 1, smoothing)

    assert result.loss == pytest.approx(torch_cross_entropy(LOGITS, 1, smoothing), rel=1e-12)
    assert result.target_distribution.sum() == pytest.approx(1.0)
    assert result.target_distribution[1] == pytest.approx(1 - smoothing + smoothing / 4)


def test_label_smoothing_keeps_confident_loss_positive():
    confident = np.array([30.0, 0.0, 0.0])

    plain = label_smoothing_loss(confident, 0, 0.0).loss
    smoothed = label_smoothing_loss(confident, 0, 0.1).loss

    assert plain < 1e-10
    assert smoothed > 1.0


def test_label_smoothing_rejects_one():
    with pytest.raises(LocalizedError):
        label_smoothing_loss(LOGITS, 0, 1.0)


def test_mse_gradient_vanishes_when_confidently_wrong():
    result = mse_vs_ce_gradients(np.array([-8.0]))

    assert abs(result.mse_grad[0]) < 1e-3
    assert result.ce_grad[0] == pytest.approx(-1.0, abs=1e-3)


def test_loss_gradients_match_closed_forms():
    z = np.linspace(-6, 6, 49)

    result = mse_vs_ce_gradients(z)

    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(result.mse_grad, 2 * (p - 1) * p * (1 - p), atol=1e-12)
    np.testing.assert_allclose(result.ce_grad, p - 1, atol=1e-12)
    np.testing.assert_allclose(result.ce_loss, -np.log(p), rtol=1e-9)


def test_parse_logits_accepts_commas_and_spaces():
    np.testing.assert_array_equal(parse_logits("2, 1.5  -0.3"), [2.0, 1.5, -0.3])
    np.testing.assert_array_equal(parse_logits("1，2"), [1.0, 2.0])


@pytest.mark.parametrize("text", ["", "1", "a, b", "1, nan", ",".join(["1"] * 11)])
def test_parse_logits_rejects_bad_text(text):
    with pytest.raises(LocalizedError):
        parse_logits(text)


def test_smoothing_curve_matches_torch_and_has_finite_minimum():
    gaps = np.linspace(0, 20, 81)

    curve = smoothing_curve(gaps, classes=3, smoothing=0.1)

    logits = torch.zeros(81, 3, dtype=torch.float64)
    logits[:, 0] = torch.tensor(gaps)
    expected = F.cross_entropy(
        logits, torch.zeros(81, dtype=torch.long), label_smoothing=0.1, reduction="none"
    )
    np.testing.assert_allclose(curve, expected.numpy(), rtol=1e-10)
    assert 0 < np.argmin(curve) < len(gaps) - 1
