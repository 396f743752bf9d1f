"""Cross-entropy step by step, its numerical stability, label smoothing, and MSE versus CE.

Logits are 1-D float arrays of shape (K,) for K classes, and the target is a class index in
[0, K). The step-by-step functions work in float64 (``compare_stability`` uses float32 on
purpose), so their digits match ``F.cross_entropy`` on the same float64 logits.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError

log = logging.getLogger(__name__)


MAX_CLASSES = 10


def parse_logits(text: str) -> np.ndarray:
    """Parse comma- or space-separated numbers ("2, 1.5, -0.3") into float64 logits (K,).

    Raises ``LocalizedError`` for text that is not 2 to 10 finite numbers.
    """
    parts = [part for part in text.replace(",", " ").replace("，", " ").split() if part]
    try:
        values = np.array([float(part) for part in parts], dtype=np.float64)
    except ValueError:
        raise LocalizedError("nn_loss.error_parse", text=text) from None
    if not 2 <= values.size <= MAX_CLASSES:
        raise LocalizedError("nn_loss.error_classes", count=values.size, max=MAX_CLASSES)
    if not np.all(np.isfinite(values)):
        raise LocalizedError("nn_loss.error_not_finite")
    return values


def check_logits(logits: np.ndarray, target: int) -> np.ndarray:
    """Return ``logits`` as float64 (K,), raising ``LocalizedError`` for bad input."""
    values = np.asarray(logits, dtype=np.float64).reshape(-1)
    if not 2 <= values.size <= MAX_CLASSES:
        raise LocalizedError("nn_loss.error_classes", count=values.size, max=MAX_CLASSES)
    if not np.all(np.isfinite(values)):
        raise LocalizedError("nn_loss.error_not_finite")
    if not 0 <= target < values.size:
        raise LocalizedError(
            "nn_loss.error_target", target=target, classes=values.size, max=values.size - 1
        )
    return values


@dataclass(frozen=True)
class CrossEntropySteps:
    """Every intermediate value of cross-entropy for one sample (all float64)."""

    logits: np.ndarray  # (K,) z
    max_logit: float  # m = max z, subtracted for stability
    exps: np.ndarray  # (K,) exp(z - m)
    sum_exps: float  # Σ exp(z - m)
    log_sum_exp: float  # m + log Σ exp(z - m) = log Σ exp(z)
    probs: np.ndarray  # (K,) softmax(z), sums to 1
    target: int
    log_prob_target: float  # z_y - logsumexp(z)
    loss: float  # -log p_y


def cross_entropy_steps(logits: np.ndarray, target: int) -> CrossEntropySteps:
    """Compute cross-entropy of one sample in the order the lesson shows it.

    softmax: p_k = exp(z_k - m) / Σ_j exp(z_j - m); loss = -log p_y = logsumexp(z) - z_y.
    """
    z = check_logits(logits, target)

    max_logit = float(z.max())
    exps = np.exp(z - max_logit)
    sum_exps = float(exps.sum())
    log_sum_exp = max_logit + float(np.log(sum_exps))

    probs = exps / sum_exps
    log_prob_target = float(z[target]) - log_sum_exp
    return CrossEntropySteps(
        z,
        max_logit,
        exps,
        sum_exps,
        log_sum_exp,
        probs,
        target,
        log_prob_target,
        -log_prob_target,
    )


def torch_cross_entropy(logits: np.ndarray, target: int, label_smoothing: float = 0.0) -> float:
    """Return ``F.cross_entropy`` of one sample in float64, the library's reference value."""
    z = torch.tensor(check_logits(logits, target), dtype=torch.float64).unsqueeze(0)  # (1, K)
    return float(F.cross_entropy(z, torch.tensor([target]), label_smoothing=label_smoothing))


@dataclass(frozen=True)
class StabilityComparison:
    """The naive and the log-sum-exp computation of cross-entropy in float32."""

    naive_exps: np.ndarray  # (K,) float32 exp(z); inf where it overflowed
    naive_probs: np.ndarray  # (K,) float32 exp(z) / Σ exp(z); nan after an overflow
    naive_loss: float  # -log(naive p_y); nan or inf after an overflow
    stable_loss: float  # logsumexp(z) - z_y in float32
    torch_loss: float  # F.cross_entropy in float32
    overflowed: bool  # whether any exp(z) overflowed to inf


def compare_stability(logits: np.ndarray, target: int) -> StabilityComparison:
    """Compute cross-entropy the naive way and the stable way, both in float32.

    float32's largest value is about 3.4e38, so exp(z) overflows to inf for z > ~88.7, and
    inf / inf is nan. Subtracting the max logit first keeps every exponent ≤ 0.
    """
    z = check_logits(logits, target).astype(np.float32)

    # NumPy warns on overflow and inf / inf; here that is the point of the lesson.
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        naive_exps = np.exp(z)
        naive_probs = naive_exps / naive_exps.sum()
        naive_loss = float(-np.log(naive_probs[target]))

    max_logit = z.max()
    stable_lse = max_logit + np.log(np.exp(z - max_logit).sum(dtype=np.float32))
    stable_loss = float(stable_lse - z[target])

    reference = torch.tensor(z).unsqueeze(0)  # (1, K) float32
    torch_loss = float(F.cross_entropy(reference, torch.tensor([target])))
    return StabilityComparison(
        naive_exps,
        naive_probs,
        naive_loss,
        stable_loss,
        torch_loss,
        bool(np.isinf(naive_exps).any()),
    )


@dataclass(frozen=True)
class SmoothedLoss:
    """Cross-entropy against a label-smoothed target distribution."""

    target_distribution: np.ndarray  # (K,) (1 - ε) one-hot + ε / K, sums to 1
    loss: float  # -Σ_k q_k log p_k


def label_smoothing_loss(logits: np.ndarray, target: int, smoothing: float) -> SmoothedLoss:
    """Cross-entropy with label smoothing ε, the way ``F.cross_entropy`` defines it.

    The target puts 1 - ε + ε/K on the true class and ε/K on every other class, so even a
    perfect prediction keeps a loss above zero and the logits stop growing without bound.
    """
    if not 0.0 <= smoothing < 1.0:
        raise LocalizedError("nn_loss.error_smoothing", smoothing=smoothing)
    steps = cross_entropy_steps(logits, target)
    classes = steps.logits.size

    target_distribution = np.full(classes, smoothing / classes)
    target_distribution[target] += 1.0 - smoothing

    log_probs = steps.logits - steps.log_sum_exp
    return SmoothedLoss(target_distribution, float(-(target_distribution * log_probs).sum()))


def smoothing_curve(gaps: np.ndarray, classes: int, smoothing: float) -> np.ndarray:
    """Return the smoothed cross-entropy of logits (g, 0, …, 0) with target 0, for each gap g.

    ``gaps`` is (N,); the result is float64 (N,). Without smoothing the loss falls toward 0
    as g grows; with smoothing ε > 0 it has a minimum at a finite gap, so training stops
    pushing the correct logit further once it is ahead by that much.
    """
    losses = []
    for gap in np.asarray(gaps, dtype=np.float64):
        logits = np.zeros(classes)
        logits[0] = gap
        losses.append(label_smoothing_loss(logits, 0, smoothing).loss)
    return np.array(losses)


@dataclass(frozen=True)
class LossGradients:
    """Loss and dL/dz over a range of logits z for a binary target y = 1."""

    logit: np.ndarray  # (N,) z, the logit of the true class
    prob: np.ndarray  # (N,) p = σ(z)
    mse_loss: np.ndarray  # (N,) (p - 1)²
    mse_grad: np.ndarray  # (N,) dMSE/dz = 2 (p - 1) p (1 - p), from autograd
    ce_loss: np.ndarray  # (N,) -log p
    ce_grad: np.ndarray  # (N,) dCE/dz = p - 1, from autograd


def mse_vs_ce_gradients(logits: np.ndarray) -> LossGradients:
    """Compare MSE on σ(z) with cross-entropy for a sample whose true label is 1.

    For a confidently wrong prediction (z ≪ 0, p ≈ 0) MSE's gradient carries the factor
    p (1 - p) ≈ 0 and almost vanishes, while cross-entropy's gradient p - 1 stays near -1.
    ``logits`` is any 1-D array; gradients come from autograd in float64.
    """
    z = torch.tensor(np.asarray(logits, dtype=np.float64), requires_grad=True)
    target = torch.ones_like(z)

    prob = torch.sigmoid(z)
    mse = (prob - target) ** 2
    (mse_grad,) = torch.autograd.grad(mse.sum(), z)

    ce = F.binary_cross_entropy_with_logits(z, target, reduction="none")
    (ce_grad,) = torch.autograd.grad(ce.sum(), z)

    return LossGradients(
        z.detach().numpy(),
        prob.detach().numpy(),
        mse.detach().numpy(),
        mse_grad.numpy(),
        ce.detach().numpy(),
        ce_grad.numpy(),
    )
