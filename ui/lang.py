"""The page-side half of translation: which language this session shows, and ``t()``."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnlab.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, pick_language, translate

_STATE_KEY = "lang"


class _LastRun:
    """The language of the latest script run in this process.

    Only read outside a script run: ``AppTest`` calls widgets' ``format_func`` from the
    test's own thread, where ``st.session_state`` is not the session's. In a served app
    every ``t()`` call happens inside a script run and never reads this.
    """

    language = DEFAULT_LANGUAGE


def current_language() -> str:
    """Return this session's language, deciding it on the first run.

    The first run takes ``?lang=`` from the URL, else the browser's locale. Later runs keep
    the session's choice, because Streamlit's navigation links drop query parameters.
    """
    if get_script_run_ctx(suppress_warning=True) is None:
        return _LastRun.language
    if _STATE_KEY not in st.session_state:
        st.session_state[_STATE_KEY] = pick_language(st.query_params.get("lang"), st.context.locale)
    _LastRun.language = st.session_state[_STATE_KEY]
    return _LastRun.language


def t(key: str, /, **values: Any) -> str:
    """Translate ``key`` into the session's language (raises ``KeyError`` when missing)."""
    return translate(key, current_language(), **values)


def _is_choice_value(value: Any) -> bool:
    """Return True for the values option widgets hold: str or number, or a list or tuple of them."""
    if isinstance(value, list | tuple):
        return bool(value) and all(_is_choice_value(item) for item in value)
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _keep_choices() -> None:
    """Write every option widget's value back through the Session State API.

    Streamlit 1.67 stores a radio's, selectbox's or segmented control's choice in the browser
    as the option's label. After a language switch that label matches no translated option,
    so the widget would fall back to its default. A value written through the API is sent
    to the browser again with the new labels. Buttons, uploaders and data editors reject
    such writes, and their values (bool, files, dicts) are skipped here.
    """
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        if _is_choice_value(value):
            st.session_state[key] = value


def _on_language_change() -> None:
    _keep_choices()
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
