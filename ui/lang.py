"""The page-side half of translation: which language this session shows, and ``t()``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnlab.i18n import LANGUAGE_NAMES, LANGUAGES, pick_language, translate

_STATE_KEY = "lang"


def current_language() -> str:
    """Return this session's language, deciding it on the first run.

    The first run takes ``?lang=`` from the URL, else the browser's locale. Later runs keep
    the session's choice, because Streamlit's navigation links drop query parameters.
    """
    if _STATE_KEY not in st.session_state:
        st.session_state[_STATE_KEY] = pick_language(
            st.query_params.get("lang"), st.context.locale
        )
    return st.session_state[_STATE_KEY]


def t(key: str, /, **values: Any) -> str:
    """Translate ``key`` into the session's language (raises ``KeyError`` when missing)."""
    return translate(key, current_language(), **values)


def _on_language_change() -> None:
    st.session_state[_STATE_KEY] = st.session_state["app_language_switch"]


def language_switch() -> None:
    """Draw the 中文 / English switch and keep the choice in the URL as ``?lang=``."""
    lang = current_language()
    st.session_state["app_language_switch"] = lang
    st.segmented_control(
        t("app.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGE_NAMES.__getitem__,
        key="app_language_switch",
        on_change=_on_language_change,
        required=True,
    )
    st.query_params["lang"] = current_language()
