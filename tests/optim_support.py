"""Small data sets shared by the optimization-lesson tests (kept to a few hundred images)."""

from __future__ import annotations

import functools
from dataclasses import replace

import torch

from cnnlab.data import LabData, load_mnist_5k, stratified_split
from cnnlab.models import ConvBlockConfig, preset
from cnnlab.training import TrainConfig

# One intra-op thread: these models are tiny, and on a shared 2-core machine two threads per
# process oversubscribe the cores (a 6-step run took 4 s instead of 0.25 s).
torch.set_num_threads(1)


@functools.cache
def _mnist() -> LabData:
    return load_mnist_5k()


def tiny_mnist(n_train: int = 200, n_test: int = 100) -> LabData:
    """Return MNIST-5k cut to ``n_train`` training and ``n_test`` test digits, both
    class-balanced (the shipped file is ordered by label)."""
    data = _mnist().subset_train(n_train)
    index = torch.from_numpy(stratified_split(data.y_test.numpy(), n_test, seed=0)[1])
    return replace(data, x_test=data.x_test[index], y_test=data.y_test[index])


def tiny_config(**changes) -> TrainConfig:
    """Return a config for a 4-channel CNN that trains a few steps in well under a second."""
    model = preset("tiny")
    model.blocks = [ConvBlockConfig(4), ConvBlockConfig(4)]
    values = dict(model=model, batch_size=32, epochs=1, max_steps=6)
    values.update(changes)
    return TrainConfig(**values)
