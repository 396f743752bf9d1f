import math

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.arch_analysis import (
    activation_bytes,
    gradient_norms,
    measure_latency,
    receptive_field_path,
    summarize_block,
    weight_layers,
)
from cnnlab.arch_experiments import (
    block_trials,
    deep_stack,
    degradation_trials,
    init_gradient_norms,
)
from cnnlab.architectures import BlockNet, BlockNetConfig, BlockSpec, build_block
from cnnlab.block_diagram import diagram_dot, trace_diagram
from cnnlab.models import CNNConfig, ConvBlockConfig, SmallCNN
from cnnlab.reference_models import reference_stats
from cnnlab.summary import count_parameters, layer_table


def measured_field(model: nn.Module, in_channels: int, side: int) -> int:
    """Span of input rows whose gradient reaches the centre output pixel of the features.

    All conv weights are positive and BatchNorm runs in eval mode on its initial statistics,
    so every activation is positive and no contribution cancels. The input is small so that
    ReLU6 never saturates (a saturated unit passes no gradient).
    """
    model = model.double().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.fill_(1.0 / module.weight[0].numel())
    x = torch.full((1, in_channels, side, side), 0.01, dtype=torch.float64, requires_grad=True)
    features = model.forward_features(x)
    centre = features.shape[-1] // 2
    features[0, :, centre, centre].sum().backward()
    rows = np.flatnonzero(x.grad[0].abs().sum(dim=(0, 2)).numpy())
    return int(rows[-1] - rows[0] + 1)


@pytest.mark.parametrize(
    "kind", ["conv", "plain", "basic", "bottleneck", "dense", "depthwise", "grouped", "inverted"]
)
def test_receptive_field_path_matches_gradient_extent(kind):
    side = 96
    config = BlockNetConfig(
        block=kind, stem_channels=8, widths=[8, 16], blocks_per_stage=2, image_size=side
    )
    model = BlockNet(config)
    path = receptive_field_path(model, 1, side)
    assert measured_field(model, 1, side) == path[-1][2].size


def test_receptive_field_path_of_small_cnn():
    config = CNNConfig(
        blocks=[ConvBlockConfig(8), ConvBlockConfig(16), ConvBlockConfig(16, pool="none")]
    )
    path = receptive_field_path(SmallCNN(config), 1, 28)
    # conv3 (3), pool2 (4), conv3 at jump 2 (8), pool2 (10), conv3 at jump 4 (18)
    assert [f.size for _, _, f in path] == [3, 4, 8, 10, 18]


def test_receptive_field_path_skips_shortcuts():
    model = BlockNet(BlockNetConfig(block="basic", widths=[8, 16]))
    names = [name for name, _, _ in receptive_field_path(model, 1, 28)]
    assert not any("downsample" in name for name in names)


def test_resnet18_receptive_field_is_435():
    import torchvision.models as tvm

    path = receptive_field_path(tvm.resnet18(weights=None), 3, 224)
    assert path[-1][2].size == 435
    assert path[-1][2].jump == 32


def test_activation_bytes_sums_outputs():
    block = build_block(BlockSpec("basic", 8, 16, stride=2))
    rows = layer_table(block, (1, 8, 12, 12))
    assert activation_bytes(rows) == 4 * sum(math.prod(r.output_shape) for r in rows)


def test_summarize_block_counts():
    spec = BlockSpec("dense", 8, num_layers=2, growth_rate=4)
    summary = summarize_block(build_block(spec), (1, 8, 6, 6))
    assert summary.output_shape == (16, 6, 6)
    assert summary.params == count_parameters(build_block(spec))
    # Convolutions only: 3×3 from 8 to 4 and from 12 to 4 channels on 6×6, 2 FLOPs each.
    assert summary.flops == 2 * 9 * (8 * 4 + 12 * 4) * 36


def test_gradient_norms_per_weight_layer():
    torch.manual_seed(0)
    model = BlockNet(deep_stack("plain", 3))
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    before = [p.clone() for p in model.parameters()]
    norms = gradient_norms(model, x, y)
    assert len(norms) == len(weight_layers(model)) == 2 * 3 + 2
    assert all(math.isfinite(norm) and norm > 0 for _, norm in norms)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_init_gradient_norms_is_seeded():
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    first = init_gradient_norms(deep_stack("basic", 2), x, y, seed=3)
    second = init_gradient_norms(deep_stack("basic", 2), x, y, seed=3)
    assert first == second


def test_deep_stacks_differ_only_by_shortcuts():
    plain, residual = BlockNet(deep_stack("plain", 4)), BlockNet(deep_stack("basic", 4))
    assert count_parameters(plain) == count_parameters(residual)
    assert len(weight_layers(plain)) == len(weight_layers(residual)) == 10


def test_experiment_trials_share_budget():
    trials = degradation_trials(4, 60, {"plain": "P", "basic": "R"})
    assert [t.label for t in trials] == ["P", "R"]
    assert all(t.config.max_steps == 60 for t in trials)
    light = block_trials(["conv", "depthwise"], 40, {"conv": "C", "depthwise": "D"})
    assert [t.config.max_steps for t in light] == [40, 40]


def test_diagram_marks_identity_shortcut():
    diagram = trace_diagram(build_block(BlockSpec("basic", 8, 8)))
    skips = [(a, b) for a, b, skip in diagram.edges if skip]
    assert skips == [("x", "add")]


def test_diagram_marks_projection_path():
    diagram = trace_diagram(build_block(BlockSpec("basic", 8, 16, stride=2)))
    skips = [(a, b) for a, b, skip in diagram.edges if skip]
    assert skips == [
        ("x", "downsample_0"),
        ("downsample_0", "downsample_1"),
        ("downsample_1", "add"),
    ]


def test_diagram_of_plain_block_has_no_skip():
    diagram = trace_diagram(build_block(BlockSpec("plain", 8, 8)))
    assert not any(skip for _, _, skip in diagram.edges)


def test_diagram_of_dense_block_concatenates_each_layer():
    diagram = trace_diagram(build_block(BlockSpec("dense", 8, num_layers=3, growth_rate=4)))
    merges = [node for node in diagram.nodes if node.kind == "merge"]
    assert len(merges) == 4  # one before each layer and the block's output
    dot = diagram_dot(diagram)
    assert dot.startswith("digraph")
    assert "dashed" in dot


def test_diagram_keeps_channel_shuffle_as_one_node():
    diagram = trace_diagram(build_block(BlockSpec("grouped", 8, 8, groups=4)))
    assert [node.label for node in diagram.nodes if node.kind == "function"] == ["channel_shuffle"]


def test_measure_latency_reports_device():
    latency = measure_latency(
        nn.Conv2d(4, 4, 3, padding=1), (1, 4, 8, 8), torch.device("cpu"), min_run_time=0.02
    )
    assert latency.median_ms > 0
    assert latency.device == "cpu"
    assert latency.threads == torch.get_num_threads()


def test_reference_resnet18_stats():
    stats = reference_stats("resnet18")
    assert stats.params == 11_689_512
    # 1.82 G multiply-adds at 224×224, counted as 2 FLOPs each.
    assert stats.flops == pytest.approx(3.64e9, rel=0.01)
    assert stats.depth == 21  # 17 main-path convs + 3 projections + the classifier
