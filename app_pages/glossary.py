"""Glossary: the fixed Chinese/English term pairs used on every page."""

import pandas as pd
import streamlit as st

from cnnlab.i18n import load_catalog, translate
from ui.lang import current_language, t

st.title(t("glossary.title"))
st.markdown(t("glossary.intro"))

term_ids = [
    key.removeprefix("glossary.term.") for key in load_catalog() if key.startswith("glossary.term.")
]
lang = current_language()
table = pd.DataFrame(
    {
        t("glossary.col_zh"): [translate(f"glossary.term.{i}", "zh") for i in term_ids],
        t("glossary.col_en"): [translate(f"glossary.term.{i}", "en") for i in term_ids],
        t("glossary.col_def"): [translate(f"glossary.def.{i}", lang) for i in term_ids],
    }
)

query = st.text_input(t("glossary.search"), key="glossary_search").strip()
if query:
    matches = table.apply(lambda row: row.str.contains(query, case=False, regex=False)).any(axis=1)
    table = table[matches]
if table.empty:
    st.info(t("glossary.no_match", query=query))
else:
    st.dataframe(table, hide_index=True, width="stretch", height=min(38 * (len(table) + 1), 700))
