import re
import runpy
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from cnnlab.architectures import BLOCK_KINDS, BlockNet, BlockNetConfig
from cnnlab.codegen import generate_script
from cnnlab.datasets import load_dataset
from cnnlab.errors import LocalizedError
from cnnlab.models import CNNConfig, ConvBlockConfig, SmallCNN, preset
from cnnlab.paths import MNIST_5K_PATH
from cnnlab.summary import count_parameters
from cnnlab.training import TrainConfig, seeded, train

CNN_CONFIGS = {
    "small": preset("small"),
    "bn-recipe": preset("bn-recipe"),
    "mixed": CNNConfig(
        blocks=[
            ConvBlockConfig(12, kernel_size=5, padding=2, activation="gelu", pool="avg", batch_norm=True),
            ConvBlockConfig(20, stride=2, activation="leaky_relu", pool="none", dropout=0.1),
        ],
        hidden_units=64,
        head_dropout=0.2,
    ),
    "global-pool": CNNConfig(blocks=[ConvBlockConfig(8), ConvBlockConfig(8, pool="none")], global_pool=True,
                             head_dropout=0.3),
}  # fmt: skip


def load_generated(tmp_path, source: str) -> dict:
    path = tmp_path / "cnnlab_model.py"
    path.write_text(source, encoding="utf-8")
    return runpy.run_path(str(path), run_name="generated")


@pytest.mark.parametrize("name", list(CNN_CONFIGS))
def test_generated_cnn_matches_app_model(tmp_path, name):
    config = CNN_CONFIGS[name]
    namespace = load_generated(tmp_path, generate_script(TrainConfig(model=config)))
    app_model = SmallCNN(config)
    generated = namespace["Net"]()
    assert count_parameters(generated) == count_parameters(app_model)
    # Same module names, so weights saved by the lab load strictly.
    generated.load_state_dict(app_model.state_dict(), strict=True)
    x = torch.randn(2, 1, 28, 28)
    app_model.eval()
    generated.eval()
    with torch.no_grad():
        assert torch.allclose(generated(x), app_model(x))


# SmallCNN runs a dummy forward in training mode between building its features and its
# head, and Dropout2d draws random numbers there, so only configs without feature dropout
# start from the same weights as the generated Net.
@pytest.mark.parametrize("name", ["small", "bn-recipe", "global-pool"])
def test_generated_cnn_starts_from_same_weights(tmp_path, name):
    config = CNN_CONFIGS[name]
    namespace = load_generated(tmp_path, generate_script(TrainConfig(model=config)))
    app_model = seeded(7, lambda: SmallCNN(config))
    generated = seeded(7, namespace["Net"])
    for (key, a), b in zip(app_model.named_parameters(), generated.parameters(), strict=True):
        assert torch.equal(a, b), key


@pytest.mark.parametrize("block", BLOCK_KINDS)
def test_generated_block_net_matches_app_model(tmp_path, block):
    config = BlockNetConfig(block=block, widths=[8, 16], stem_channels=8, blocks_per_stage=2,
                            zero_init_residual=True, squeeze_excitation=True)  # fmt: skip
    namespace = load_generated(tmp_path, generate_script(TrainConfig(), config))
    app_model = seeded(3, lambda: BlockNet(config))
    generated = seeded(3, namespace["Net"])
    assert count_parameters(generated) == count_parameters(app_model)
    assert app_model.state_dict().keys() == generated.state_dict().keys()
    for (key, a), b in zip(app_model.named_parameters(), generated.parameters(), strict=True):
        assert torch.equal(a, b), key
    x = torch.randn(2, 1, 28, 28)
    app_model.eval()
    generated.eval()
    with torch.no_grad():
        assert torch.allclose(generated(x), app_model(x))


@pytest.mark.parametrize(
    "schedule", ["constant", "step", "exponential", "cosine", "onecycle", "warmup_cosine"]
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_generated_script_compiles(schedule, optimizer):
    source = generate_script(TrainConfig(schedule=schedule, optimizer=optimizer, dataset="cifar10",
                                         model=replace(preset("tiny"), in_channels=3, image_size=32)))  # fmt: skip
    compile(source, "cnnlab_model.py", "exec")
    assert "torch.optim." + {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}[optimizer] in source


def test_unsupported_dataset_is_rejected():
    with pytest.raises(LocalizedError) as info:
        generate_script(TrainConfig(dataset="shapes"))
    assert info.value.key == "arch.code.error.dataset"


def run_script(tmp_path, source: str, *args: str) -> str:
    path = tmp_path / "cnnlab_model.py"
    path.write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(path), "--data", str(MNIST_5K_PATH), *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_generated_script_trains_one_epoch(tmp_path):
    config = TrainConfig(model=preset("tiny"), epochs=5)
    output = run_script(tmp_path, generate_script(config), "--epochs", "1", "--save", "weights.pt")
    accuracies = [float(a) for a in re.findall(r"test accuracy ([\d.]+) %", output)]
    assert len(accuracies) == 1
    assert accuracies[0] > 80
    state = torch.load(tmp_path / "weights.pt", weights_only=True)
    SmallCNN(preset("tiny")).load_state_dict(state, strict=True)


@pytest.mark.slow
def test_generated_script_repeats_the_lab_run(tmp_path):
    config = TrainConfig(model=preset("tiny"), epochs=1, max_steps=15, shift_augment=2,
                         schedule="onecycle", optimizer="adamw", lr=4e-3, seed=5)  # fmt: skip
    output = run_script(tmp_path, generate_script(config), "--epochs", "1")
    script_accuracy = float(re.findall(r"test accuracy ([\d.]+) %", output)[-1])
    result = train(replace(config, device="cpu"), load_dataset("mnist-5k", seed=5))
    # Same split, initial weights, batches and shifts; CPU kernels may still round differently.
    assert script_accuracy == pytest.approx(100 * result.final.test_acc, abs=1.0)
