"""The training lab's network for the architecture pages: the latest run, or the current
settings of the lab's panel (``st.session_state`` keys ``lab_*``)."""

from __future__ import annotations

from typing import Any

from cnnlab.architectures import BlockNetConfig
from cnnlab.datasets import dataset_shape
from cnnlab.models import CNNConfig, preset, with_input
from cnnlab.training import TrainConfig
from ui.lab_settings import DEFAULTS, saved_blocks
from ui.lab_state import display_label, latest_record


def lab_settings_config(state: Any) -> TrainConfig:
    """Return the run the lab's settings panel describes, read from session ``state``.

    Widgets the learner has not touched count with the lab's defaults.
    """
    value = {key: state.get(key, default) for key, default in DEFAULTS.items()}
    preset_name = value["lab_preset"]
    blocks = saved_blocks(state, preset_name) or preset(preset_name).blocks
    channels, size, classes = dataset_shape(value["lab_dataset"])
    model = with_input(
        CNNConfig(blocks=blocks, hidden_units=int(value["lab_hidden"])), channels, size, classes
    )
    return TrainConfig(
        dataset=value["lab_dataset"], model=model, optimizer=value["lab_optimizer"],
        lr=float(value["lab_lr"]), batch_size=int(value["lab_batch"]), epochs=int(value["lab_epochs"]),
        schedule=value["lab_schedule"], weight_decay=float(value["lab_weight_decay"]),
        shift_augment=int(value["lab_shift"]), label_smoothing=float(value["lab_smoothing"]),
        seed=int(value["lab_seed"]), amp=bool(value["lab_amp"]),
    )  # fmt: skip


def latest_run() -> tuple[str, TrainConfig, CNNConfig | BlockNetConfig] | None:
    """Return (label, run settings, model config) of the newest usable run, or None.

    The model config comes from the trained model itself, because runs started by the
    architecture lessons train a ``BlockNet`` while their ``TrainConfig.model`` keeps the
    default CNN.
    """
    record = latest_record()
    if record is None:
        return None
    model_config = getattr(record.model, "config", None)
    if not isinstance(model_config, CNNConfig | BlockNetConfig):
        return None
    return display_label(record), record.config, model_config
