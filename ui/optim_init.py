"""Views of the weight-initialization lesson: statistics at initialization and symmetry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnlab.optim.initialization import SCHEMES, filter_grid, filter_symmetry, scheme_statistics
from cnnlab.optim.plots import layer_heatmap, signed_heatmap
from cnnlab.runs import RunRecord
from ui.lab_state import cached_dataset
from ui.lang import t


@st.cache_data(show_spinner=False, max_entries=16)
def _statistics(depth: int, width: int, activation: str, seed: int) -> dict:
    return scheme_statistics(
        cached_dataset("mnist-5k", 0), SCHEMES, depth, width, activation, seed=seed
    )


def statistics_view(depth: int, width: int, activation: str, seed: int) -> None:
    """Heatmaps of activation and gradient std per layer and scheme, at initialization."""
    stats = _statistics(depth, width, activation, seed)
    names = [t(f"optim_init.scheme.{s}") for s in SCHEMES]
    layers = stats[SCHEMES[0]].layers
    activation_std = np.stack([stats[s].activation_std for s in SCHEMES])
    gradient_std = np.stack([stats[s].gradient_std for s in SCHEMES])
    st.plotly_chart(layer_heatmap(activation_std, layers, names, t("optim_init.act_title"), t("optim_init.log10")),
                    width="stretch", key="init_act_heatmap")  # fmt: skip
    st.plotly_chart(layer_heatmap(gradient_std, layers, names, t("optim_init.grad_title"), t("optim_init.log10")),
                    width="stretch", key="init_grad_heatmap")  # fmt: skip
    losses = ", ".join(
        f"{name} {stats[s].loss:.3g}" for name, s in zip(names, SCHEMES, strict=True)
    )
    st.caption(t("optim_init.stats_caption", losses=losses))


def symmetry_view(records: list[RunRecord]) -> None:
    """Check each trained run's filters for symmetry and show one layer's filters."""
    rows, verdicts = [], []
    for record in records:
        if record.model is None:
            continue
        layers = filter_symmetry(record.model)
        worst = max(layers, key=lambda row: row.max_pairwise_diff)
        identical = all(row.identical for row in layers)
        rows.append({t("exp.col.run"): record.label,
                     t("optim_init.col.max_diff"): f"{worst.max_pairwise_diff:.3g}",
                     t("optim_init.col.identical"): t("optim_init.yes") if identical else t("optim_init.no")})  # fmt: skip
        if identical:
            verdicts.append(t("optim_init.symmetric", label=record.label, layers=len(layers),
                              filters=layers[0].filters, diff=f"{worst.max_pairwise_diff:.3g}"))  # fmt: skip
    st.subheader(t("optim_init.symmetry_header"))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(t("optim_init.symmetry_rule"))
    for verdict in verdicts:
        st.warning(verdict, icon=":material/content_copy:")
    if not verdicts:
        st.info(t("optim_init.no_symmetric"))

    with_models = [r for r in records if r.model is not None]
    labels = [r.label for r in with_models]
    chosen = st.selectbox(t("optim_init.filters_run"), labels, key="init_filter_run")
    record = with_models[labels.index(chosen)]
    figure = signed_heatmap(filter_grid(record.model), t("optim_init.filters_title", label=chosen))
    st.plotly_chart(figure, width="stretch", key="init_filters_chart")
    st.caption(t("optim_init.filters_caption"))
