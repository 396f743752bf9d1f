"""Backends of the optimization lessons: augmentation, BatchNorm, learning rates,
regularization, initialization, fine-tuning, hyper-parameter search, input normalization.

Each module builds short, comparable experiments for the shared trainer or computes the
numbers a lesson shows; none of them imports Streamlit.
"""
