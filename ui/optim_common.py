"""Widgets shared by the optimization lessons: seeds, start buttons, run summaries."""

from __future__ import annotations

import streamlit as st

from cnnlab.runs import RunRecord
from ui.experiments import experiment_job
from ui.lang import t


def seed_input(key: str, default: int = 0) -> int:
    """Draw a seed field (0-10,000) and return its value."""
    return int(st.number_input(t("optim.seed"), 0, 10_000, default, key=key,
                               help=t("optim.seed_help")))  # fmt: skip


def start_button(key: str, experiment_key: str, label_key: str = "optim.start") -> bool:
    """Draw the primary button that starts (or restarts) an experiment; return True on click.

    ``label_key`` names the button while nothing runs; while it runs it reads "Restart".
    """
    running = experiment_job(experiment_key) is not None
    label = t("optim.restart") if running else t(label_key)
    return st.button(label, key=key, type="primary", icon=":material/play_arrow:")


def budget_caption(steps: int, batch_size: int, seed: int, n_train: int) -> None:
    """State the budget every run of a comparison shares."""
    st.caption(t("optim.budget", steps=steps, batch=batch_size, seed=seed, n_train=n_train))


def summarize_runs(records: list[RunRecord]) -> None:
    """Name the run with the best test accuracy and the one with the smallest train-test gap."""
    finished = [r for r in records if r.epochs]
    if not finished:
        return
    best = max(finished, key=lambda r: r.epochs[-1].test_acc)
    tightest = min(finished, key=lambda r: abs(r.epochs[-1].train_acc - r.epochs[-1].test_acc))
    gap = tightest.epochs[-1].train_acc - tightest.epochs[-1].test_acc
    st.markdown(t("optim.summary", best=best.label, test_acc=f"{100 * best.epochs[-1].test_acc:.1f}",
                  tight=tightest.label, gap=f"{round(100 * gap, 1) + 0.0:.1f}"))  # fmt: skip
