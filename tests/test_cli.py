import json
import subprocess
import sys

import torch

from cnnlab.cli import build_parser, config_from_args, main
from cnnlab.training import recipe_99

REQUIRED = {"epoch", "train_loss", "test_loss", "test_acc", "samples_per_s", "seconds"}


def test_train_prints_one_json_object_per_epoch(capsys, tmp_path):
    out = tmp_path / "model.pt"
    code = main(
        ["train", "--epochs", "2", "--max-steps", "70", "--device", "cpu", "--save", str(out)]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert len(lines) == 2
    rows = [json.loads(line) for line in lines]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert set(rows[0]) >= REQUIRED
    assert 0 <= rows[-1]["test_acc"] <= 1
    assert "features.0.conv.weight" in torch.load(out, weights_only=True)


def test_recipe_with_override():
    args = build_parser().parse_args(["train", "--recipe", "99", "--epochs", "2", "--seed", "4"])
    config = config_from_args(args)
    assert config.epochs == 2
    assert config.seed == 4
    assert config.schedule == recipe_99().schedule
    assert config.model == recipe_99().model


def test_bad_option_value_exits_with_message(caplog):
    assert main(["train", "--lr", "-1", "--max-steps", "1"]) == 2
    assert "lr must be a positive number" in caplog.text


def test_help_lists_every_option_with_default():
    help_text = subprocess.run(
        [sys.executable, "-m", "cnnlab", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in ("--dataset", "--epochs", "--device", "--seed", "--lr", "--recipe", "--amp"):
        assert option in help_text
    assert help_text.count("default") >= 10
