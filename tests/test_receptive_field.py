"""Receptive-field formula checked against gradients of a real nn.Sequential."""

import pytest
import torch

from cnnlab.errors import LocalizedError
from cnnlab.receptive_field import (
    LayerSpec,
    build_sequential,
    measure_receptive_field,
    receptive_fields,
)

STACKS = {
    "one_conv": [LayerSpec("conv", 3)],
    "vgg_like": [
        LayerSpec("conv", 3, padding=1),
        LayerSpec("conv", 3, padding=1),
        LayerSpec("maxpool", 2, 2),
        LayerSpec("conv", 3, padding=1),
        LayerSpec("maxpool", 2, 2),
    ],
    "resnet_stem": [LayerSpec("conv", 7, 2, padding=3), LayerSpec("maxpool", 3, 2, padding=1)],
    "dilated": [LayerSpec("conv", 3, dilation=2), LayerSpec("conv", 3, dilation=4, padding=4)],
    "even_kernels": [LayerSpec("conv", 4, 2, padding=1), LayerSpec("avgpool", 2, 2)],
    "dilated_maxpool": [LayerSpec("conv", 5, 3, padding=2), LayerSpec("maxpool", 3, 1, dilation=2)],
}


@pytest.mark.parametrize("name", STACKS)
def test_formula_matches_gradient_extent(name):
    layers = STACKS[name]
    field = receptive_fields(layers)[-1]
    measured = measure_receptive_field(layers)
    assert measured.size == field.size
    assert measured.center == pytest.approx(field.start + measured.output_index * field.jump)


@pytest.mark.parametrize("name", STACKS)
def test_every_prefix_matches_gradient_extent(name):
    layers = STACKS[name]
    fields = receptive_fields(layers)
    for depth in range(1, len(layers) + 1):
        measured = measure_receptive_field(layers[:depth])
        assert measured.size == fields[depth - 1].size


def test_vgg_like_numbers():
    fields = receptive_fields(STACKS["vgg_like"], input_size=32)
    assert [f.size for f in fields] == [3, 5, 6, 10, 12]
    assert [f.jump for f in fields] == [1, 1, 2, 2, 4]
    assert [f.output_size for f in fields] == [32, 32, 16, 16, 8]


def test_output_sizes_match_sequential():
    layers = STACKS["resnet_stem"] + STACKS["even_kernels"]
    fields = receptive_fields(layers, input_size=64)
    model = build_sequential(layers)
    x = torch.zeros(1, 1, 64, 64)
    for module, field in zip(model, fields, strict=True):
        x = module(x)
        assert x.shape[-1] == field.output_size


def test_shrinking_to_nothing_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        receptive_fields([LayerSpec("conv", 5, 2)] * 4, input_size=16)
    assert caught.value.key == "conv.error.output_empty"


def test_avgpool_dilation_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        receptive_fields([LayerSpec("avgpool", 2, 2, dilation=2)])
    assert caught.value.key == "conv.error.avgpool_dilation"


def test_unknown_layer_kind_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        receptive_fields([LayerSpec("dense", 3)])
    assert caught.value.key == "conv.error.layer_kind"


def test_measuring_empty_stack_is_rejected():
    with pytest.raises(LocalizedError) as caught:
        measure_receptive_field([])
    assert caught.value.key == "conv.error.rf_no_layers"
