"""The training lab's network for the architecture pages: the latest run, or the current
settings of the lab's panel (``st.session_state`` keys ``lab_*``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cnnlab.architectures import BlockNetConfig
from cnnlab.datasets import dataset_shape
from cnnlab.models import CNNConfig, ConvBlockConfig, preset, with_input
from cnnlab.training import TrainConfig
from ui.lab_settings import BLOCK_COLUMNS, DEFAULTS
from ui.lab_state import latest_record


def _apply_editor_changes(
    blocks: list[ConvBlockConfig], changes: dict[str, Any]
) -> list[ConvBlockConfig]:
    """Apply ``st.data_editor``'s stored edits (edited, added and deleted rows) to ``blocks``."""
    rows = [{c: getattr(b, c) for c in BLOCK_COLUMNS} for b in blocks]
    for index, edits in changes.get("edited_rows", {}).items():
        if int(index) < len(rows):
            rows[int(index)].update(edits)
    rows += [dict(row) for row in changes.get("added_rows", [])]
    deleted = {int(index) for index in changes.get("deleted_rows", [])}
    kept = [row for index, row in enumerate(rows) if index not in deleted]
    complete = [row for row in kept if all(c in row and not pd.isna(row[c]) for c in BLOCK_COLUMNS)]
    return [ConvBlockConfig(**{c: row[c] for c in BLOCK_COLUMNS}) for row in complete]


def lab_settings_config(state: Any) -> TrainConfig:
    """Return the run the lab's settings panel describes, read from session ``state``.

    Widgets the learner has not touched count with the lab's defaults.
    """
    value = {key: state.get(key, default) for key, default in DEFAULTS.items()}
    preset_name = value["lab_preset"]
    blocks = preset(preset_name).blocks
    changes = state.get(f"lab_blocks_{preset_name}")
    if isinstance(changes, dict):
        blocks = _apply_editor_changes(blocks, changes)
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
    return record.label, record.config, model_config
