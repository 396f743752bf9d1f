"""Generate a standalone Python file that rebuilds a cnnlab network and reproduces its run.

The file needs only PyTorch and NumPy (and torchvision for downloaded datasets or
squeeze-and-excitation). The model keeps cnnlab's module names, so a ``state_dict`` saved
by the lab loads into it with ``strict=True``. The training part lives in
``cnnlab.codegen_train``.
"""

from __future__ import annotations

import inspect
import textwrap

import torch

from cnnlab import blocks
from cnnlab.architectures import BlockNetConfig, call_out_channels, plan_blocks
from cnnlab.codegen_train import training_source
from cnnlab.errors import LocalizedError
from cnnlab.models import ACTIVATIONS, CNNConfig, SmallCNN
from cnnlab.training import TrainConfig

SUPPORTED_DATASETS = ("mnist-5k", "mnist", "fashion-mnist", "cifar10")

# Helpers and blocks of cnnlab.blocks in the generated file's order, and the names each
# of them needs defined before it.
_BLOCK_SOURCES = (
    "conv3x3", "conv1x1", "projection", "se_channels", "channel_shuffle", "transition_channels",
    "ConvBNReLU", "PlainBlock", "BasicBlock", "Bottleneck", "Concat", "DenseLayer",
    "DenseBlock", "Transition", "DepthwiseSeparableConv", "GroupedConvBlock", "InvertedResidual",
)  # fmt: skip
_DEPENDENCIES = {
    "ConvBNReLU": ("conv3x3",),
    "PlainBlock": ("conv3x3",),
    "BasicBlock": ("conv3x3", "conv1x1", "projection"),
    "Bottleneck": ("conv3x3", "conv1x1", "projection"),
    "DenseLayer": ("Concat", "conv3x3", "conv1x1"),
    "DenseBlock": ("DenseLayer", "Concat"),
    "Transition": ("conv1x1", "transition_channels"),
    "DepthwiseSeparableConv": ("conv3x3", "conv1x1"),
    "GroupedConvBlock": ("conv3x3", "channel_shuffle"),
    "InvertedResidual": ("conv3x3", "conv1x1", "se_channels"),
    "projection": ("conv1x1",),
}
_ZERO_INIT_BN = {"BasicBlock": "bn2", "Bottleneck": "bn3", "InvertedResidual": "bn2"}


def _shape(shape: torch.Size | tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# --- SmallCNN (the training lab's model) ------------------------------------------------------


def small_cnn_source(config: CNNConfig) -> str:
    """Return the source of ``class Net``, the same network as ``SmallCNN(config)``."""
    model = SmallCNN(config)
    model.eval()
    x = torch.zeros(1, config.in_channels, config.image_size, config.image_size)

    lines = ["class Net(nn.Module):",
             f'    """The lab\'s CNN: {len(config.blocks)} conv blocks and a classifier head.',
             "",
             f"    Input: float32 (N, {config.in_channels}, {config.image_size}, {config.image_size}) "
             f"normalized images; output: logits (N, {config.num_classes}).",
             '    """',
             "",
             "    def __init__(self) -> None:",
             "        super().__init__()",
             "        self.features = nn.Sequential("]  # fmt: skip
    channels = config.in_channels
    with torch.no_grad():
        for number, (block, cfg) in enumerate(zip(model.features, config.blocks, strict=True), 1):
            y = block(x)
            lines.append(
                f"            # block {number}: {_shape(x.shape[1:])} -> {_shape(y.shape[1:])}"
            )
            lines.append("            nn.Sequential(OrderedDict([")
            conv = (f"nn.Conv2d({channels}, {cfg.out_channels}, kernel_size={cfg.kernel_size}, "
                    f"stride={cfg.stride}, padding={cfg.padding}, bias={not cfg.batch_norm})")  # fmt: skip
            layers = [("conv", conv)]
            if cfg.batch_norm:
                layers.append(("bn", f"nn.BatchNorm2d({cfg.out_channels})"))
            layers.append(("act", f"nn.{ACTIVATIONS[cfg.activation].__name__}()"))
            if cfg.pool != "none":
                pool = "MaxPool2d" if cfg.pool == "max" else "AvgPool2d"
                layers.append(("pool", f"nn.{pool}({cfg.pool_size})"))
            if cfg.dropout > 0:
                layers.append(("drop", f"nn.Dropout2d({cfg.dropout})"))
            lines += [f'                ("{name}", {code}),' for name, code in layers]
            lines.append("            ])),")
            x, channels = y, cfg.out_channels
    lines.append("        )")

    features = tuple(x.shape[1:])
    flat = features[0] if config.global_pool else x[0].numel()
    pooled = (features[0], 1, 1) if config.global_pool else features
    head = [("nn.AdaptiveAvgPool2d(1)", "")] if config.global_pool else []
    head.append(("nn.Flatten()", f"{_shape(pooled)} -> {flat}"))
    if config.hidden_units:
        head += [(f"nn.Linear({flat}, {config.hidden_units})", ""), ("nn.ReLU()", "")]
        flat = config.hidden_units
    if config.head_dropout > 0:
        head.append((f"nn.Dropout({config.head_dropout})", ""))
    head.append((f"nn.Linear({flat}, {config.num_classes})", ""))
    lines.append("        self.head = nn.Sequential(")
    lines += [
        f"            {code}," + (f"  # {comment}" if comment else "") for code, comment in head
    ]
    lines += ["        )",
              "",
              "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
              f"        x = self.features(x)  # (N, {config.in_channels}, {config.image_size}, "
              f"{config.image_size}) -> (N, {', '.join(map(str, features))})",
              f"        return self.head(x)  # -> (N, {config.num_classes})"]  # fmt: skip
    return "\n".join(lines) + "\n"


# --- BlockNet (the architecture pages' models) ------------------------------------------------


def _needed_sources(names: set[str]) -> list[str]:
    needed: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(_DEPENDENCIES.get(name, ()))
    return [name for name in _BLOCK_SOURCES if name in needed]


def block_net_source(config: BlockNetConfig) -> str:
    """Return the block definitions and ``class Net``, the same network as ``BlockNet(config)``."""
    calls = plan_blocks(config)
    names = {call.name for call in calls} | {"ConvBNReLU"}
    # The formatter markers only matter inside cnnlab's own repository.
    parts = [inspect.getsource(getattr(blocks, name)).replace("  # fmt: skip", "")
             for name in _needed_sources(names)]  # fmt: skip

    init = [
        "def init_weights(model: nn.Module) -> None:",
        '    """Initialize like torchvision\'s ResNet: He-normal convs (fan_out), BN weight 1, bias 0."""',
        "    for module in model.modules():",
        "        if isinstance(module, nn.Conv2d):",
        '            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")',
        "        elif isinstance(module, nn.BatchNorm2d):",
        "            nn.init.ones_(module.weight)",
        "            nn.init.zeros_(module.bias)",
    ]
    zeroed = [(name, bn) for name, bn in _ZERO_INIT_BN.items() if name in names]
    if config.zero_init_residual and zeroed:
        init.append(
            "    # Each residual branch's last BN starts at weight 0, so its branch starts at 0."
        )
        init.append("    for module in model.modules():")
        for index, (name, bn) in enumerate(zeroed):
            keyword = "if" if index == 0 else "elif"
            condition = " and module.use_residual" if name == "InvertedResidual" else ""
            init.append(f"        {keyword} isinstance(module, {name}){condition}:")
            init.append(f"            nn.init.zeros_(module.{bn}.weight)")
    parts.append("\n".join(init) + "\n")

    model_input = f"(N, {config.in_channels}, {config.image_size}, {config.image_size})"
    stem = (f"ConvBNReLU(in_channels={config.in_channels}, out_channels={config.stem_channels}, "
            f"stride={config.stem_stride})")  # fmt: skip
    net = [
        "class Net(nn.Module):",
        f'    """A stem, {len(calls)} blocks, global average pooling and a linear classifier.',
        "",
        f"    Input: float32 {model_input} normalized images; output: logits (N, {config.num_classes}).",
        '    """',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        f"        self.stem = {stem}",
        "        self.blocks = nn.Sequential(",
        *(f"            {call.source()}," for call in calls),
        "        )",
        "        self.pool = nn.AdaptiveAvgPool2d(1)",
        f"        self.fc = nn.Linear({call_out_channels(calls[-1])}, {config.num_classes})",
        "        init_weights(self)",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        "        x = self.stem(x)",
        "        x = self.blocks(x)",
        "        x = self.pool(x).flatten(1)  # (N, C, H, W) -> (N, C)",
        f"        return self.fc(x)  # (N, C) -> (N, {config.num_classes})",
    ]
    parts.append("\n".join(net) + "\n")
    return "\n\n".join(parts)


# --- The whole file ---------------------------------------------------------------------------


def script_title(block_net: BlockNetConfig | None, run_label: str | None = None) -> str:
    """Return the generated file's first docstring line (English, like the rest of the file)."""
    network = f"A BlockNet of {block_net.block!r} blocks" if block_net else "The training lab's CNN"
    return f"{network}, as trained in cnnlab run {run_label}" if run_label else network


def generate_script(train: TrainConfig, block_net: BlockNetConfig | None = None,
                    run_label: str | None = None) -> str:  # fmt: skip
    """Return a runnable Python file: the model (``block_net`` or ``train.model``) and a
    training script that repeats ``train``'s run (``run_label`` names the run in the title).

    Raises ``LocalizedError`` for a dataset the script cannot load (the generated shapes).
    """
    if train.dataset not in SUPPORTED_DATASETS:
        raise LocalizedError("arch.code.error.dataset", dataset=train.dataset,
                             supported=", ".join(SUPPORTED_DATASETS))  # fmt: skip
    model_source = block_net_source(block_net) if block_net else small_cnn_source(train.model)
    uses_se = block_net is not None and "SqueezeExcitation" in model_source
    imports = ["import argparse", "import math", "import time"]
    if block_net is None:
        imports.append("from collections import OrderedDict")
    imports += ["", "import numpy as np", "import torch", "import torch.nn.functional as F",
                "from torch import nn", "from torch.optim import lr_scheduler"]  # fmt: skip
    if uses_se:
        imports.append("from torchvision.ops import SqueezeExcitation")
    header = textwrap.dedent(f'''\
        """{script_title(block_net, run_label)}.

        Generated by cnnlab. It rebuilds the network and repeats the training run: dataset
        {train.dataset}, optimizer {train.optimizer}, learning rate {train.lr:g}, schedule {train.schedule},
        batch size {train.batch_size}, {train.epochs} epoch(s), seed {train.seed}.

        Usage:
            python {{script}} --data mnist_5k.npz        # the MNIST-5k file shipped with cnnlab
            python {{script}} --torchvision mnist --root ./data   # downloads MNIST
            python {{script}} --epochs 1 --save weights.pt
        """
        ''').replace("{script}", "cnnlab_model.py")  # fmt: skip
    sections = [
        header + "\n" + "\n".join(imports) + "\n\n" + "# ---- Model " + "-" * 80,
        model_source.rstrip(),
        training_source(train),
    ]
    return "\n\n\n".join(sections).rstrip() + "\n"
