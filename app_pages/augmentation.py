"""Preprocessing and data augmentation: a live gallery, MixUp/CutMix, and a training run
with vs without augmentation on a small subset."""

import pandas as pd
import streamlit as st

from cnnlab.optim.augment import (
    GALLERY,
    MIX_KINDS,
    AugmentStudy,
    augment_trials,
    augment_variants,
    augmentation_preview,
    build_transform,
    compose_grid,
    enlarge,
    fit_for_gallery,
    mix_batch,
    shapes_batch,
)
from ui.experiments import experiment_panel, start_experiment
from ui.image_input import image_input
from ui.lab_state import cached_dataset
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_augment import gallery_params, training_augment_controls
from ui.optim_common import budget_caption, seed_input, start_button, summarize_runs

page_header("optim_aug.title")
st.markdown(
    t("optim_aug.intro", augmentation=term("data_augmentation"), overfitting=term("overfitting"))
)

# ---- 1. The gallery ----
st.header(t("optim_aug.gallery_header"))
picker, view = st.columns([1, 2], gap="large")
with picker:
    decoded = image_input("aug")
    kind = st.selectbox(t("optim_aug.kind_label"), list(GALLERY), index=list(GALLERY).index("affine"), key="aug_kind",
                        format_func=lambda k: t(f"optim_aug.kind.{k}"))  # fmt: skip
    params = gallery_params(kind)
    gallery_seed = seed_input("aug_seed")
with view:
    if decoded is None:
        st.info(t("optim_aug.no_image"), icon=":material/image:")
    else:
        picture = fit_for_gallery(decoded.rgb)
        variants = augment_variants(picture, kind, params, gallery_seed, count=8)
        st.image(compose_grid([picture, *variants], columns=3), width="stretch",
                 caption=t("optim_aug.gallery_caption"))  # fmt: skip
        st.markdown(t(f"optim_aug.explain.{kind}"))
        st.code(repr(build_transform(kind, params, picture.shape[:2])), language="python")

# ---- 2. MixUp and CutMix ----
st.header(t("optim_aug.mix_header"))
st.markdown(t("optim_aug.mix_text"))
c1, c2, c3 = st.columns(3)
mix_kind = c1.radio(t("optim_aug.mix_kind"), MIX_KINDS, key="aug_mix_kind", horizontal=True,
                    format_func=lambda k: t(f"optim_aug.mix_name.{k}"))  # fmt: skip
alpha = c2.slider(t("optim_aug.mix_alpha"), 0.1, 2.0, 1.0, 0.1, key="aug_mix_alpha",
                  help=t("optim_aug.mix_alpha_help"))  # fmt: skip
with c3:
    mix_seed = seed_input("aug_mix_seed")
images, labels, classes = shapes_batch(seed=0)
mixed = mix_batch(images, labels, len(classes), mix_kind, alpha, mix_seed)
st.image(compose_grid([enlarge(i, 4) for i in [*images, *mixed.images]], columns=4),
         caption=t("optim_aug.mix_caption"), width=560)  # fmt: skip
names = [t(f"optim_aug.shape.{c}") for c in classes]
soft = pd.DataFrame(100 * mixed.soft_labels, columns=names).round(1)
soft.insert(
    0, t("optim_aug.mix_picture"), [t("optim_aug.mix_row", index=i + 1) for i in range(len(soft))]
)
st.dataframe(soft, hide_index=True, width="stretch")
st.caption(t("optim_aug.mix_table_caption"))

# ---- 3. Train with vs without augmentation ----
st.header(t("optim_aug.train_header"))
st.markdown(t("optim_aug.train_text"))
s1, s2, s3 = st.columns(3)
subset = s1.select_slider(t("optim.subset"), (200, 500, 1000, 2000), 500, key="aug_subset")
epochs = s2.slider(t("optim.epochs"), 2, 30, 15, key="aug_epochs")
with s3:
    train_seed = seed_input("aug_train_seed")
augment = training_augment_controls()
study = AugmentStudy(subset=subset, epochs=epochs, augment=augment, seed=train_seed)

data = cached_dataset("mnist-5k", 0)
st.image(augmentation_preview(data, augment, count=8, seed=train_seed),
         caption=t("optim_aug.preview_caption"), width=620)  # fmt: skip
budget_caption(study.steps, study.batch_size, train_seed, subset)
if start_button("aug_train_start", "aug"):
    labels = {"plain": t("optim_aug.run_plain"), "augmented": t("optim_aug.run_augmented")}
    start_experiment("aug", augment_trials(study, labels), dataset="mnist-5k", seed=0)
    st.rerun()
experiment_panel("aug", on_done=summarize_runs)
