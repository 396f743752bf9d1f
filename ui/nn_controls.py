"""Controls shared by the neural-net basics lessons."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.losses import parse_logits
from ui.lang import t
from ui.layout import show_error, term


def logits_input(label: str, key: str, default: str) -> np.ndarray:
    """Draw a text box for logits and return them as float64 (K,).

    A text that does not parse shows an error and keeps the last valid logits, so a typo
    never wipes the lesson below it.
    """
    text = st.text_input(label, value=default, key=key, help=t("nn.logits_help"))
    last_key = f"{key}_last_valid"
    try:
        logits = parse_logits(text)
    except LocalizedError as err:
        show_error(err)
        st.caption(t("nn.kept_last"))
        return st.session_state.get(last_key, parse_logits(default))
    st.session_state[last_key] = logits
    return logits


def capitalized_term(term_id: str) -> str:
    """Return ``term(term_id)`` with its first letter capitalized, for labels and sentence starts."""
    text = term(term_id)
    return text[:1].upper() + text[1:]


def class_names(count: int) -> list[str]:
    """Return the translated names "class 0" … "class count-1"."""
    return [t("nn.class_name", index=index) for index in range(count)]
