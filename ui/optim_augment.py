"""Controls of the augmentation lesson: gallery parameters and the training augmentation."""

from __future__ import annotations

import streamlit as st

from cnnlab.optim.augment import GALLERY, BatchAugmentConfig
from ui.lang import t


def gallery_params(kind: str) -> dict[str, float]:
    """Draw one slider per parameter of gallery transform ``kind``; return their values."""
    values = {}
    for spec in GALLERY[kind]:
        cast = int if spec.integer else float
        values[spec.name] = st.slider(
            t(f"optim_aug.param.{spec.name}"),
            cast(spec.low),
            cast(spec.high),
            cast(spec.default),
            cast(spec.step),
            key=f"aug_{kind}_{spec.name}",
            help=t(f"optim_aug.param_help.{spec.name}"),
        )
    return values


def training_augment_controls() -> BatchAugmentConfig:
    """Draw the training augmentation's settings and return them."""
    c1, c2, c3 = st.columns(3)
    rotation = c1.slider(t("optim_aug.train_rotation"), 0, 45, 15, 5, key="aug_train_rotation")
    translate = c2.slider(
        t("optim_aug.train_translate"), 0.0, 0.3, 0.1, 0.05, key="aug_train_translate"
    )
    erase = c3.slider(t("optim_aug.train_erase"), 0.0, 1.0, 0.0, 0.1, key="aug_train_erase")
    return BatchAugmentConfig(rotation=float(rotation), translate=float(translate), scale=0.1,
                              erase_prob=float(erase))  # fmt: skip
