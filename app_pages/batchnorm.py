"""BatchNorm: training with vs without it, train vs eval mode, tiny batches, and folding
BatchNorm into the convolution for inference."""

import streamlit as st

from cnnlab.optim.batchnorm import BatchNormStudy, batch_size_trials, batchnorm_trials
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_bn import RECORDERS_KEY, activation_stats, folding, train_vs_eval
from ui.optim_common import budget_caption, seed_input, start_button, summarize_runs

page_header("optim_bn.title")
st.markdown(t("optim_bn.intro", bn=term("batch_norm")))
st.latex(r"y = \gamma \cdot \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta")
st.markdown(t("optim_bn.formula_text"))

# ---- 1. With vs without BatchNorm ----
st.header(t("optim_bn.compare_header"))
st.markdown(t("optim_bn.compare_text"))
c0, c1, c2, c3, c4 = st.columns(5)
subset = c0.select_slider(t("optim.subset"), (500, 1000, 2000, 4000), 2000, key="bn_subset")
optimizer = c1.selectbox(t("optim.optimizer"), ("sgd", "adam"), key="bn_optimizer",
                         format_func=lambda name: t(f"lab.optimizer_name.{name}"))  # fmt: skip
lr = c2.select_slider(t("optim.lr"), (0.003, 0.01, 0.03, 0.05, 0.1, 0.3), 0.01, key="bn_lr")
epochs = c3.slider(t("optim.epochs"), 1, 5, 2, key="bn_epochs")
with c4:
    seed = seed_input("bn_seed")
study = BatchNormStudy(subset=subset, epochs=epochs, optimizer=optimizer, lr=float(lr), seed=seed)
budget_caption(study.steps, study.batch_size, seed, study.subset)
if start_button("bn_start", "bn"):
    experiment = batchnorm_trials(
        study, {"plain": t("optim_bn.run_plain"), "bn": t("optim_bn.run_bn")}
    )
    st.session_state[RECORDERS_KEY] = experiment.recorders
    start_experiment("bn", experiment.trials)
    st.rerun()


def _comparison_done(records) -> None:
    summarize_runs(records)
    activation_stats()


experiment_panel("bn", on_done=_comparison_done)

# ---- 2. Train mode vs eval mode ----
st.header(t("optim_bn.mode_header"))
st.markdown(t("optim_bn.mode_text"))
train_vs_eval()

# ---- 3. Tiny batches ----
st.header(t("optim_bn.batch_header"))
st.markdown(t("optim_bn.batch_text"))
b1, b2, b3 = st.columns(3)
small = b1.select_slider(t("optim_bn.small_batch"), (2, 4, 8), 2, key="bn_small_batch")
batch_subset = b2.select_slider(t("optim.subset"), (200, 500, 1000), 500, key="bn_batch_subset")
batch_epochs = b3.slider(t("optim.epochs"), 1, 3, 1, key="bn_batch_epochs")
st.caption(
    t("optim_bn.batch_budget", subset=batch_subset, epochs=batch_epochs, small=small, large=64)
)
if start_button("bn_batch_start", "bn_batch"):
    labels = {"bn_small": t("optim_bn.run_bn_batch", batch=small), "bn_large": t("optim_bn.run_bn_batch", batch=64),
              "plain_small": t("optim_bn.run_plain_batch", batch=small)}  # fmt: skip
    start_experiment("bn_batch", batch_size_trials(batch_subset, batch_epochs, small, 64, labels))
    st.rerun()
experiment_panel("bn_batch", on_done=summarize_runs)

# ---- 4. Folding BatchNorm for inference ----
st.header(t("optim_bn.fold_header"))
st.markdown(t("optim_bn.fold_text"))
st.latex(r"W' = W \cdot \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}, \qquad "
         r"b' = (b - \mu) \cdot \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}} + \beta")  # fmt: skip
folding()
