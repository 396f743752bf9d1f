"""Hand-written pooling checked against F.max_pool2d and F.avg_pool2d."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError
from cnnlab.pooling import naive_pool2d, pool2d, pool_output_size, pool_window

GRID = [
    (shape, kernel, stride, padding)
    for shape, kernel, stride, padding in itertools.product(
        [(8, 8), (9, 7), (6, 11)], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2]
    )
    if padding <= kernel // 2
]


@pytest.mark.parametrize(("shape", "kernel", "stride", "padding"), GRID)
def test_naive_max_pool_matches_torch(shape, kernel, stride, padding):
    x = np.random.default_rng(2).normal(size=shape)
    expected = F.max_pool2d(torch.from_numpy(x)[None, None], kernel, stride, padding)[0, 0].numpy()
    np.testing.assert_array_equal(naive_pool2d(x, "max", kernel, stride, padding), expected)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize(("shape", "kernel", "stride", "padding"), GRID)
def test_naive_avg_pool_matches_torch(shape, kernel, stride, padding, count_include_pad):
    x = np.random.default_rng(3).normal(size=shape)
    expected = F.avg_pool2d(
        torch.from_numpy(x)[None, None],
        kernel,
        stride,
        padding,
        count_include_pad=count_include_pad,
    )[0, 0].numpy()
    ours = naive_pool2d(x, "avg", kernel, stride, padding, count_include_pad)
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_pool2d_handles_channels():
    x = np.random.default_rng(4).normal(size=(10, 12, 3))
    pooled = pool2d(x, "max", 2, 2)
    assert pooled.shape == (5, 6, 3)
    for channel in range(3):
        np.testing.assert_array_equal(
            pooled[:, :, channel], naive_pool2d(x[:, :, channel], "max", 2, 2)
        )


def test_pool2d_gray_keeps_two_dims():
    pooled = pool2d(np.ones((7, 7)), "avg", 3, 2, padding=1, count_include_pad=True)
    assert pooled.shape == (4, 4)
    assert pooled[0, 0] == pytest.approx(4 / 9)


def test_pool_window_reports_argmax_and_padding():
    x = np.array([[1.0, 5.0], [3.0, 2.0]])
    step = pool_window(x, "max", kernel=2, stride=2, row=0, col=0, padding=1)
    assert step.value == 1.0
    assert step.argmax == (1, 1)
    assert int(step.inside.sum()) == 1
    assert np.isnan(step.window[0, 0])


def test_pool_window_divisor_follows_count_include_pad():
    x = np.ones((4, 4))
    with_pad = pool_window(x, "avg", 3, 1, 0, 0, padding=1, count_include_pad=True)
    without_pad = pool_window(x, "avg", 3, 1, 0, 0, padding=1, count_include_pad=False)
    assert with_pad.divisor == 9
    assert with_pad.value == pytest.approx(4 / 9)
    assert without_pad.divisor == 4
    assert without_pad.value == pytest.approx(1.0)


def test_pool_padding_over_half_kernel_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        pool_output_size(10, 2, 2, padding=2)
    assert caught.value.key == "conv.error.pool_padding"


def test_unknown_pool_kind_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        pool2d(np.ones((4, 4)), "median", 2, 2)
    assert caught.value.key == "conv.error.pool_kind"
