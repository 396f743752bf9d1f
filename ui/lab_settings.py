"""The training lab's settings panel: data, model, optimizer and schedule -> ``TrainConfig``."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from cnnlab.datasets import DATASETS, DOWNLOAD_DATASETS
from cnnlab.devices import pick_device, supports_amp
from cnnlab.errors import LocalizedError
from cnnlab.i18n import LANGUAGES, translate
from cnnlab.models import (
    ACTIVATIONS,
    POOLS,
    PRESETS,
    CNNConfig,
    ConvBlockConfig,
    build_model,
    preset,
)
from cnnlab.schedules import SCHEDULES
from cnnlab.summary import count_flops, count_parameters, layer_table
from cnnlab.training import OPTIMIZERS, TrainConfig, recipe_99
from ui.lang import t
from ui.layout import show_error, term

BATCH_SIZES = (16, 32, 64, 128, 256, 512)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 2e-3, 4e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
BLOCK_COLUMNS = ("out_channels", "kernel_size", "stride", "padding", "activation", "pool",
                 "batch_norm", "dropout")  # fmt: skip

DEFAULTS = {
    "lab_dataset": "mnist-5k",
    "lab_preset": "small",
    "lab_hidden": 0,
    "lab_optimizer": "adam",
    "lab_lr": 4e-3,
    "lab_batch": 64,
    "lab_epochs": 3,
    "lab_schedule": "constant",
    "lab_weight_decay": 0.0,
    "lab_shift": 0,
    "lab_smoothing": 0.0,
    "lab_seed": 0,
    "lab_amp": False,
}


SAVED_KEY = "lab_saved_settings"
# The block table's rows per preset, as last shown. They outlive the data editor's own
# state, which Streamlit drops when the learner opens another page.
SAVED_BLOCKS_KEY = "lab_saved_blocks"
# The rows that the editor on screen started from, because its stored edits are relative
# to them.
EDITOR_BASE_KEY = "lab_blocks_base"


def _init_defaults() -> None:
    """Give every setting a value: the user's last one, else the default.

    Streamlit forgets a widget's value when a run does not draw it (the user opened another
    page), so the values are also kept under ``SAVED_KEY`` and restored here.
    """
    saved = st.session_state.setdefault(SAVED_KEY, {})
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = saved.get(key, value)


def _save_settings() -> None:
    st.session_state[SAVED_KEY] = {
        key: st.session_state[key] for key in DEFAULTS if key in st.session_state
    }


def block_rows(blocks: list[ConvBlockConfig]) -> list[dict]:
    """Return the block table's rows (one dict of ``BLOCK_COLUMNS`` per block)."""
    return [{c: getattr(b, c) for c in BLOCK_COLUMNS} for b in blocks]


def saved_blocks(state, preset_name: str) -> list[ConvBlockConfig] | None:
    """Return the blocks last shown in the lab's table for ``preset_name``, or None if unedited.

    ``state`` is ``st.session_state`` or a plain dict; other pages read the lab's model here.
    """
    rows = state.get(SAVED_BLOCKS_KEY, {}).get(preset_name)
    return None if rows is None else [ConvBlockConfig(**row) for row in rows]


def reset_blocks(preset_name: str) -> None:
    """Forget the table edits for ``preset_name``, so the table shows the preset's own blocks."""
    st.session_state.pop(f"lab_blocks_{preset_name}", None)
    st.session_state.get(SAVED_BLOCKS_KEY, {}).pop(preset_name, None)
    st.session_state.get(EDITOR_BASE_KEY, {}).pop(preset_name, None)


def apply_recipe() -> None:
    """Button callback: load the 99 % recipe into the widgets."""
    recipe = recipe_99()
    st.session_state.update({
        "lab_dataset": "mnist-5k", "lab_preset": "bn-recipe", "lab_hidden": recipe.model.hidden_units,
        "lab_optimizer": recipe.optimizer, "lab_lr": recipe.lr, "lab_batch": recipe.batch_size,
        "lab_epochs": recipe.epochs, "lab_schedule": recipe.schedule,
        "lab_weight_decay": recipe.weight_decay, "lab_shift": recipe.shift_augment,
        "lab_smoothing": recipe.label_smoothing,
    })  # fmt: skip
    reset_blocks("bn-recipe")


def apply_quick() -> None:
    """Button callback: the fast default (a small CNN, 3 epochs)."""
    st.session_state.update(DEFAULTS)
    reset_blocks("small")


def _blocks_editor(preset_name: str) -> list[ConvBlockConfig]:
    widget_key = f"lab_blocks_{preset_name}"
    bases = st.session_state.setdefault(EDITOR_BASE_KEY, {})
    if widget_key not in st.session_state or preset_name not in bases:
        # A new editor: start from the table as the learner left it.
        blocks = saved_blocks(st.session_state, preset_name) or preset(preset_name).blocks
        bases[preset_name] = block_rows(blocks)
    edited = st.data_editor(
        pd.DataFrame(bases[preset_name], columns=list(BLOCK_COLUMNS)),
        key=widget_key,
        num_rows="dynamic",
        width="stretch",
        column_config={
            "out_channels": st.column_config.NumberColumn(t("lab.col.channels"), min_value=1, max_value=256, step=1),
            "kernel_size": st.column_config.NumberColumn(t("lab.col.kernel"), min_value=1, max_value=11, step=1),
            "stride": st.column_config.NumberColumn(t("lab.col.stride"), min_value=1, max_value=4, step=1),
            "padding": st.column_config.NumberColumn(t("lab.col.padding"), min_value=0, max_value=5, step=1),
            "activation": st.column_config.SelectboxColumn(t("lab.col.activation"), options=list(ACTIVATIONS)),
            "pool": st.column_config.SelectboxColumn(t("lab.col.pool"), options=list(POOLS)),
            "batch_norm": st.column_config.CheckboxColumn(t("lab.col.bn")),
            "dropout": st.column_config.NumberColumn(t("lab.col.dropout"), min_value=0.0, max_value=0.9, step=0.05),
        },
    )  # fmt: skip
    blocks = []
    for row in edited.to_dict("records"):
        if any(pd.isna(row[c]) for c in BLOCK_COLUMNS):
            continue  # a row the user is still filling in
        blocks.append(ConvBlockConfig(
            out_channels=int(row["out_channels"]), kernel_size=int(row["kernel_size"]),
            stride=int(row["stride"]), padding=int(row["padding"]), activation=str(row["activation"]),
            pool=str(row["pool"]), batch_norm=bool(row["batch_norm"]), dropout=float(row["dropout"]),
        ))  # fmt: skip
    st.session_state.setdefault(SAVED_BLOCKS_KEY, {})[preset_name] = block_rows(blocks)
    return blocks


def run_labels(config: TrainConfig) -> dict[str, str]:
    """Name a run by its preset, optimizer and learning rate, in every language.

    The label contains "edited" when the block table no longer matches the preset's blocks.
    """
    preset_name = st.session_state.get("lab_preset", DEFAULTS["lab_preset"])
    edited = list(config.model.blocks) != list(preset(preset_name).blocks)
    key = "lab.run_label_edited" if edited else "lab.run_label"
    return {
        lang: translate(
            key,
            lang,
            preset=translate(f"lab.preset_short.{preset_name}", lang),
            optimizer=translate(f"lab.optimizer_name.{config.optimizer}", lang),
            lr=f"{config.lr:g}",
        )  # fmt: skip
        for lang in LANGUAGES
    }


def settings_panel() -> TrainConfig:
    """Draw the settings and return the configured run (not yet validated)."""
    _init_defaults()
    b1, b2 = st.columns(2)
    b1.button(t("lab.quick"), key="lab_quick", on_click=apply_quick, icon=":material/bolt:",
              help=t("lab.quick_help"), width="stretch")  # fmt: skip
    b2.button(t("lab.recipe"), key="lab_recipe", on_click=apply_recipe, icon=":material/star:",
              help=t("lab.recipe_help"), width="stretch")  # fmt: skip

    st.selectbox(t("lab.dataset"), DATASETS, key="lab_dataset",
                 format_func=lambda name: t(f"lab.dataset_name.{name}"))  # fmt: skip
    if st.session_state["lab_dataset"] in DOWNLOAD_DATASETS:
        st.caption(t("lab.dataset_download_note"))

    st.markdown(f"**{t('lab.model')}**")
    preset_name = st.selectbox(t("lab.preset"), PRESETS, key="lab_preset",
                               format_func=lambda name: t(f"lab.preset_name.{name}"))  # fmt: skip
    blocks = _blocks_editor(preset_name)
    st.caption(t("lab.blocks_help"))
    hidden = st.number_input(
        t("lab.hidden"), 0, 1024, step=32, key="lab_hidden", help=t("lab.hidden_help")
    )

    st.markdown(f"**{t('lab.training')}**")
    c1, c2 = st.columns(2)
    optimizer = c1.selectbox(term("optimizer", capital=True), OPTIMIZERS, key="lab_optimizer",
                             format_func=lambda name: t(f"lab.optimizer_name.{name}"))  # fmt: skip
    lr = c2.select_slider(
        term("learning_rate", capital=True),
        LEARNING_RATES,
        key="lab_lr",
        format_func=lambda v: f"{v:g}",
    )
    batch = c1.select_slider(term("batch_size", capital=True), BATCH_SIZES, key="lab_batch")
    epochs = c2.number_input(t("lab.epochs"), 1, 50, key="lab_epochs")
    schedule = c1.selectbox(term("learning_rate_schedule", capital=True), SCHEDULES, key="lab_schedule",
                            format_func=lambda name: t(f"lab.schedule_name.{name}"))  # fmt: skip
    weight_decay = c2.select_slider(term("weight_decay", capital=True), (0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2, 5e-2),
                                    key="lab_weight_decay", format_func=lambda v: f"{v:g}")  # fmt: skip
    shift = c1.slider(t("lab.shift"), 0, 4, key="lab_shift", help=t("lab.shift_help"))
    smoothing = c2.slider(t("lab.smoothing"), 0.0, 0.3, step=0.05, key="lab_smoothing")
    seed = c1.number_input(t("lab.seed"), 0, 10_000, key="lab_seed")
    amp = False
    if supports_amp(pick_device("auto")):
        amp = c2.checkbox(
            term("mixed_precision", capital=True), key="lab_amp", help=t("lab.amp_help")
        )

    _save_settings()
    model = CNNConfig(blocks=blocks, hidden_units=int(hidden))
    return TrainConfig(
        dataset=st.session_state["lab_dataset"], model=model, optimizer=optimizer, lr=float(lr),
        batch_size=int(batch), epochs=int(epochs), schedule=schedule,
        weight_decay=float(weight_decay), shift_augment=int(shift),
        label_smoothing=float(smoothing), seed=int(seed), amp=amp,
    )  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=64)
def _summarize(model_json: str) -> tuple[int, int, list[dict]]:
    config = CNNConfig.from_dict(json.loads(model_json))
    model = build_model(config)
    shape = (1, config.in_channels, config.image_size, config.image_size)
    rows = [
        {
            "name": r.name,
            "kind": r.kind,
            "shape": " × ".join(map(str, r.output_shape)),
            "params": r.parameters,
        }
        for r in layer_table(model, shape)
    ]
    return count_parameters(model), count_flops(model, shape), rows


def model_summary(model: CNNConfig) -> bool:
    """Show parameters, FLOPs and the layer table; return False when the config is invalid."""
    try:
        params, flops, rows = _summarize(json.dumps(model.to_dict()))
    except LocalizedError as err:
        show_error(err)
        return False
    c1, c2 = st.columns(2)
    c1.metric(t("lab.params"), f"{params:,}")
    c2.metric(t("lab.flops"), f"{flops / 1e6:.2f} M", help=t("lab.flops_help"))
    with st.expander(t("lab.layer_table")):
        frame = pd.DataFrame(rows).rename(columns={
            "name": t("lab.col.layer"), "kind": t("lab.col.type"),
            "shape": t("lab.col.output_shape"), "params": t("lab.params"),
        })  # fmt: skip
        st.dataframe(frame, hide_index=True, width="stretch")
    return True
