import pytest
import torch
from torch import nn

from cnnlab import block_math
from cnnlab.architectures import (
    BLOCK_KINDS,
    BlockNet,
    BlockNetConfig,
    BlockSpec,
    block_out_channels,
    build_block,
    formula_params,
    init_weights,
    plan_blocks,
)
from cnnlab.blocks import (
    BasicBlock,
    Bottleneck,
    DenseBlock,
    InvertedResidual,
    Transition,
    channel_shuffle,
)
from cnnlab.errors import LocalizedError
from cnnlab.lightweight import CONV_KINDS, conv_cost, conv_module, separable_ratio
from cnnlab.summary import count_flops, count_parameters

SPECS = [
    BlockSpec(kind, in_channels, out_channels, stride)
    for kind in BLOCK_KINDS
    for in_channels, out_channels, stride in ((16, 16, 1), (8, 32, 2), (12, 24, 1))
] + [
    BlockSpec("dense", 16, num_layers=3, growth_rate=8, bn_size=4),
    BlockSpec("bottleneck", 16, 32, 2, expansion=2),
    BlockSpec("grouped", 16, 32, 1, groups=8),
    BlockSpec("inverted", 16, 16, 1, expand_ratio=1),
    BlockSpec("inverted", 16, 24, 2, squeeze_excitation=True),
]


def spec_id(spec: BlockSpec) -> str:
    return f"{spec.kind}-{spec.in_channels}-{spec.out_channels}-s{spec.stride}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_block_output_shape(spec):
    block = build_block(spec)
    stride = 1 if spec.kind == "dense" else spec.stride
    out = block(torch.randn(2, spec.in_channels, 14, 14))
    assert out.shape == (2, block_out_channels(spec), 14 // stride, 14 // stride)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_block_params_match_formula(spec):
    assert count_parameters(build_block(spec)) == formula_params(spec)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_block_parameter_gets_gradient(spec):
    block = build_block(spec)
    block(torch.randn(2, spec.in_channels, 8, 8)).square().mean().backward()
    for name, param in block.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_transition_params_and_shape():
    block = Transition(40, compression=0.5)
    out = block(torch.randn(2, 40, 14, 14))
    assert out.shape == (2, 20, 7, 7)
    assert count_parameters(block) == block_math.transition_params(40, 0.5)


def test_dense_block_grows_by_growth_rate():
    block = DenseBlock(16, num_layers=4, growth_rate=12)
    x = torch.randn(1, 16, 8, 8)
    out = block(x)
    assert out.shape[1] == 16 + 4 * 12
    # The input is passed on unchanged as the first channels of the concatenation.
    assert torch.equal(out[:, :16], x)
    assert block_math.dense_channels(16, 4, 12) == [16, 28, 40, 52, 64]


# A residual block whose branch is zeroed (last BN weight 0, BN bias 0 as initialized):
# the branch outputs exactly 0, so BasicBlock and Bottleneck return ReLU(0 + x) = x for
# x >= 0 (their input normally follows a ReLU), and InvertedResidual, which has no final
# activation, returns x for any x. Only stride 1 with equal channels keeps the identity.
@pytest.mark.parametrize(
    ("block", "last_bn", "non_negative"),
    [
        (BasicBlock(16, 16), "bn2", True),
        (Bottleneck(16, 16, expansion=4), "bn3", True),
        (InvertedResidual(16, 16, expand_ratio=6), "bn2", False),
    ],
    ids=["basic", "bottleneck", "inverted"],
)
def test_zeroed_residual_branch_is_identity(block, last_bn, non_negative):
    nn.init.zeros_(getattr(block, last_bn).weight)
    x = torch.randn(4, 16, 9, 9)
    if non_negative:
        x = x.relu()
    for mode in (True, False):  # batch statistics and running statistics alike
        block.train(mode)
        with torch.no_grad():
            assert torch.equal(block(x), x)


def test_basic_block_with_zeroed_branch_applies_relu():
    block = BasicBlock(8, 8)
    nn.init.zeros_(block.bn2.weight)
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        assert torch.equal(block(x), x.relu())


def test_zero_init_residual_starts_blocks_as_identity():
    model = BlockNet(BlockNetConfig(block="basic", widths=[8], stem_channels=8, blocks_per_stage=3,
                                    zero_init_residual=True))  # fmt: skip
    x = torch.randn(2, 8, 10, 10).relu()
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.blocks(x), x)


def test_projection_shortcut_only_when_shape_changes():
    assert BasicBlock(16, 16, stride=1).downsample is None
    assert BasicBlock(16, 32, stride=1).downsample is not None
    assert BasicBlock(16, 16, stride=2).downsample is not None
    assert InvertedResidual(16, 16, stride=1).use_residual
    assert not InvertedResidual(16, 16, stride=2).use_residual


def test_channel_shuffle_permutation():
    groups, channels = 3, 12
    x = (
        torch.arange(channels, dtype=torch.float32)
        .view(1, channels, 1, 1)
        .expand(2, channels, 3, 3)
    )
    out = channel_shuffle(x, groups)
    per_group = channels // groups
    # Output channel k * groups + g comes from input channel g * per_group + k.
    expected = [g * per_group + k for k in range(per_group) for g in range(groups)]
    assert out[0, :, 0, 0].tolist() == expected


def test_channel_shuffle_matches_torch():
    x = torch.randn(2, 16, 5, 5)
    assert torch.equal(channel_shuffle(x, 4), nn.ChannelShuffle(4)(x))


def test_grouped_block_rejects_indivisible_groups():
    with pytest.raises(LocalizedError) as info:
        build_block(BlockSpec("grouped", 12, 30, groups=4))
    assert info.value.key == "arch.error.groups"


@pytest.mark.parametrize("kind", CONV_KINDS)
@pytest.mark.parametrize(
    ("c_in", "c_out", "size", "groups"), [(16, 32, 14, 4), (64, 128, 28, 8), (8, 8, 7, 2)]
)
def test_conv_cost_formulas_match_torch(kind, c_in, c_out, size, groups):
    cost = conv_cost(kind, c_in, c_out, size, groups)
    module = conv_module(kind, c_in, c_out, groups)
    assert cost.params == count_parameters(module)
    assert cost.flops == count_flops(module, (1, c_in, size, size))


def test_conv_cost_latex_ends_with_value():
    cost = conv_cost("standard", 64, 128, 28)
    assert cost.params_latex.endswith("73{,}728")
    assert cost.flops == 2 * 9 * 64 * 128 * 28 * 28


def test_separable_ratio_matches_costs():
    standard = conv_cost("standard", 64, 128, 14)
    separable = conv_cost("depthwise_separable", 64, 128, 14)
    assert separable.params / standard.params == pytest.approx(separable_ratio(128))
    assert separable.flops / standard.flops == pytest.approx(separable_ratio(128))


@pytest.mark.parametrize(
    ("c_in", "c_out", "kernel", "size", "groups"),
    [(3, 8, 3, 10, 1), (8, 8, 3, 5, 8), (4, 6, 1, 7, 2)],
)
def test_conv_flops_formula_matches_flop_counter(c_in, c_out, kernel, size, groups):
    conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, groups=groups, bias=False)
    assert block_math.conv_flops(c_in, c_out, kernel, size, groups) == count_flops(
        conv, (1, c_in, size, size)
    )


@pytest.mark.parametrize("kind", BLOCK_KINDS)
def test_block_net_trains_every_kind(kind):
    config = BlockNetConfig(
        block=kind, stem_channels=8, widths=[8, 16], blocks_per_stage=2, groups=4
    )
    model = BlockNet(config)
    x = torch.randn(3, 1, 28, 28)
    logits = model(x)
    assert logits.shape == (3, 10)
    assert torch.isfinite(logits).all()
    assert torch.equal(model.forward_head(model.forward_features(x)), logits)
    logits.logsumexp(dim=1).mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name


def test_block_net_dense_adds_transitions():
    calls = plan_blocks(BlockNetConfig(block="dense", widths=[16, 16, 16], blocks_per_stage=2))
    assert [call.name for call in calls] == [
        "DenseBlock",
        "Transition",
        "DenseBlock",
        "Transition",
        "DenseBlock",
    ]


def test_block_net_rejects_too_many_stages():
    with pytest.raises(LocalizedError) as info:
        plan_blocks(BlockNetConfig(image_size=8, widths=[8, 8, 8, 8, 8]))
    assert info.value.key == "arch.error.too_many_stages"


def test_init_weights_sets_batchnorm():
    model = BlockNet(BlockNetConfig(block="bottleneck"))
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for module in batch_norms:
        nn.init.normal_(module.weight)
    init_weights(model)
    for module in batch_norms:
        assert torch.equal(module.weight, torch.ones_like(module.weight))
