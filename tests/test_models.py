import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import LocalizedError
from cnnlab.models import (
    PRESETS,
    CNNConfig,
    ConvBlockConfig,
    SmallCNN,
    build_model,
    conv_layers,
    conv_output_size,
    first_conv,
    preset,
    validate_config,
)
from cnnlab.summary import count_flops, count_parameters, layer_table

INPUTS = [(1, 28, 10), (3, 32, 4)]


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize(("channels", "size", "classes"), INPUTS)
def test_registry_forward_backward(name, channels, size, classes):
    torch.manual_seed(0)
    model = build_model(preset(name, channels, size, classes))
    x = torch.randn(4, channels, size, size)
    logits = model(x)
    assert logits.shape == (4, classes)
    assert torch.isfinite(logits).all()
    F.cross_entropy(logits, torch.arange(4) % classes).backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, param_name
        assert torch.isfinite(param.grad).all(), param_name


def test_features_and_head_compose():
    model = build_model(preset("small")).eval()
    x = torch.randn(2, 1, 28, 28)
    features = model.forward_features(x)
    assert features.shape == (2, 32, 7, 7)
    assert torch.equal(model.forward_head(features), model(x))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    [(28, 3, 1, 1, 1), (28, 5, 2, 0, 1), (7, 3, 2, 1, 1), (10, 3, 1, 0, 2), (5, 5, 1, 0, 1)],
)
def test_conv_output_size_matches_pytorch(size, kernel, stride, padding, dilation):
    out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                   stride=stride, padding=padding, dilation=dilation)  # fmt: skip
    assert conv_output_size(size, kernel, stride, padding, dilation) == out.shape[-1]


def test_block_sizes_follow_the_formula():
    config = CNNConfig(
        blocks=[ConvBlockConfig(4, kernel_size=5, padding=0), ConvBlockConfig(4, stride=2)]
    )
    sizes = validate_config(config)
    features = SmallCNN(config).forward_features(torch.zeros(1, 1, 28, 28))
    assert sizes == [12, 3]
    assert features.shape[-1] == sizes[-1]


def test_too_small_input_names_block_and_sizes():
    config = CNNConfig(blocks=[ConvBlockConfig(8)] * 5)  # 28 -> 14 -> 7 -> 3 -> 1 -> 0
    with pytest.raises(LocalizedError) as info:
        validate_config(config)
    assert info.value.key == "models.error.pool_too_small"
    assert info.value.params["block"] == 5
    assert info.value.params["size_in"] == 1
    assert "Block 5" in str(info.value)


def test_kernel_larger_than_input_is_rejected():
    config = CNNConfig(
        image_size=4, blocks=[ConvBlockConfig(8, kernel_size=7, padding=0, pool="none")]
    )
    with pytest.raises(LocalizedError) as info:
        validate_config(config)
    assert info.value.key == "models.error.conv_too_small"
    assert info.value.params["size_out"] == -2


def test_empty_model_is_rejected():
    with pytest.raises(LocalizedError, match="no conv blocks"):
        validate_config(CNNConfig(blocks=[]))


def test_batch_norm_block_has_no_conv_bias():
    model = build_model(preset("bn-recipe"))
    conv = first_conv(model)
    assert conv.bias is None
    assert len(conv_layers(model)) == 3


def test_recipe_parameter_count_by_formula():
    # Bias-free 3x3 convs with BatchNorm (2 parameters per channel), two 2x2 poolings
    # (28 -> 14 -> 7), then a linear layer from 128 * 7 * 7 features to 10 classes.
    convs = (32 * 1 * 9 + 2 * 32) + (64 * 32 * 9 + 2 * 64) + (128 * 64 * 9 + 2 * 128)
    expected = convs + (128 * 7 * 7 * 10 + 10)
    assert count_parameters(build_model(preset("bn-recipe"))) == expected


def test_config_round_trips_through_dict():
    config = preset("bn-recipe")
    assert CNNConfig.from_dict(config.to_dict()) == config


def test_parameter_count_by_formula():
    # small: conv 1->16 (3x3 + bias), conv 16->32 (3x3 + bias), linear 32*7*7 -> 10
    expected = (16 * 1 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 7 * 7 * 10 + 10)
    assert count_parameters(build_model(preset("small"))) == expected


def test_flops_count_convolutions_and_linear():
    model = build_model(preset("small"))
    # 2 FLOPs per multiply-add: output pixels x kernel volume x output channels.
    conv1 = 2 * 28 * 28 * 16 * (1 * 9)
    conv2 = 2 * 14 * 14 * 32 * (16 * 9)
    linear = 2 * 32 * 7 * 7 * 10
    assert count_flops(model, (1, 1, 28, 28)) == conv1 + conv2 + linear


def test_layer_table_shapes():
    rows = layer_table(build_model(preset("small")), (1, 1, 28, 28))
    shapes = {row.name: row.output_shape for row in rows}
    assert shapes["features.0.conv"] == (16, 28, 28)
    assert shapes["features.0.pool"] == (16, 14, 14)
    assert shapes["features.1.pool"] == (32, 7, 7)
    assert rows[-1].output_shape == (10,)
    assert sum(row.parameters for row in rows) == count_parameters(build_model(preset("small")))
