"""Small page-building helpers shared by every lesson."""

from __future__ import annotations

import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.i18n import translate
from ui.lang import current_language, t


def term(term_id: str, capital: bool = False) -> str:
    """Return a glossary term for running text: "卷积核 (kernel)" in Chinese, "kernel" in English.

    ``capital=True`` starts the English term with a capital letter, for labels and headings.
    """
    name = t(f"glossary.term.{term_id}")
    english = translate(f"glossary.term.{term_id}", "en")
    if current_language() == "zh":
        # Some Chinese names already carry the English term, e.g. "softmax（归一化指数函数）".
        if english.lower() in name.lower():
            return name
        # "batch normalization (BatchNorm)" -> "批归一化 (batch normalization)": no nested brackets.
        return f"{name} ({english.split(' (')[0]})"
    return name[:1].upper() + name[1:] if capital else name


def page_header(title_key: str, intro_key: str | None = None) -> None:
    """Draw the page title and its one-paragraph introduction."""
    st.title(t(title_key))
    if intro_key:
        st.markdown(t(intro_key))


def show_error(error: LocalizedError) -> None:
    """Show a backend error in the user's language."""
    st.error(t(error.key, **error.params), icon=":material/error:")
