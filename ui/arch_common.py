"""Widgets and cached computations shared by the architecture lessons."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from cnnlab.arch_analysis import BlockSummary, summarize_block
from cnnlab.architectures import BlockSpec, build_block
from cnnlab.block_diagram import diagram_dot, trace_diagram
from cnnlab.summary import LayerRow
from cnnlab.training import seeded
from ui.lab_state import cached_dataset
from ui.lang import t
from ui.layout import term

CHANNEL_CHOICES = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
SIZE_CHOICES = (7, 8, 14, 16, 28, 32, 56, 64, 112)
STEP_CHOICES = (25, 50, 100, 150, 200, 300)


def kind_label(kind: str) -> str:
    return t(f"arch.kind.{kind}")


@st.cache_data(show_spinner=False, max_entries=128)
def block_summary(spec: BlockSpec, size: int) -> BlockSummary:
    """Summarize one block of ``spec`` on a (1, C_in, size, size) input."""
    module = seeded(0, lambda: build_block(spec))
    return summarize_block(module, (1, spec.in_channels, size, size))


@st.cache_data(show_spinner=False, max_entries=64)
def block_dot(spec: BlockSpec) -> str:
    """Return the Graphviz diagram of ``spec``'s block, traced from its forward."""
    labels = {"input": t("arch.diagram.input"), "output": t("arch.diagram.output")}
    return diagram_dot(trace_diagram(build_block(spec), labels=labels))


def mnist_batch(count: int = 128):
    """Return the first ``count`` MNIST-5k training images and labels (seed-0 split)."""
    data = cached_dataset("mnist-5k", 0)
    return data.x_train[:count], data.y_train[:count]


def layer_frame(rows: list[LayerRow]) -> pd.DataFrame:
    """Tabulate each leaf layer: name, type, output shape, parameters, output size in KiB."""
    return pd.DataFrame({
        t("arch.col.layer"): [r.name for r in rows],
        t("arch.col.type"): [r.kind for r in rows],
        t("arch.col.output_shape"): [" × ".join(map(str, r.output_shape)) for r in rows],
        t("arch.col.params"): [r.parameters for r in rows],
        t("arch.col.output_kib"): [round(4 * math.prod(r.output_shape) / 1024, 1) for r in rows],
    })  # fmt: skip


def label_term(term_id: str) -> str:
    """Return ``term(term_id)`` starting with a capital letter, for widget and axis labels."""
    text = term(term_id)
    return text[:1].upper() + text[1:]


def format_bytes(count: int) -> str:
    if count >= 1024**2:
        return f"{count / 1024**2:.2f} MiB"
    return f"{count / 1024:.1f} KiB"


def format_count(count: float) -> str:
    """Return 1,234 / 12.3 k / 4.56 M / 1.23 G."""
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e4, " k")):
        if count >= limit:
            return f"{count / limit:.3g}{suffix}"
    return f"{int(count):,}"


def budget_control(key: str, default: int = 150) -> int:
    """Draw the step-budget slider of a side-by-side training comparison; return the steps."""
    return st.select_slider(t("arch.train.steps"), STEP_CHOICES, value=default, key=key,
                            help=t("arch.train.steps_help"))  # fmt: skip
