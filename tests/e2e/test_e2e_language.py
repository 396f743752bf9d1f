"""End to end: a language switch keeps the choices made in option widgets.

Streamlit keeps a radio's or selectbox's choice in the browser as its label, so these
tests switch language in a real browser rather than through ``AppTest``.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_for_app, wait_until

pytestmark = pytest.mark.e2e


def checked_labels(radio) -> list[str]:
    """Return the labels of the checked options of one ``st.radio``."""
    options = radio.locator("label:has(input[type='radio'])")
    return [
        options.nth(i).inner_text().strip()
        for i in range(options.count())
        if options.nth(i).locator("input").is_checked()
    ]


def selected_text(selectbox) -> str:
    """Return what one ``st.selectbox`` shows: its label and the chosen option."""
    field = selectbox.locator("input")
    return selectbox.inner_text() + " " + (field.input_value() if field.count() else "")


def test_language_switch_keeps_radio_and_selectbox(page, server_url):
    page.goto(f"{server_url}/convolution?lang=en")
    wait_for_app(page)
    color_radio = page.locator("[data-testid='stRadio']", has_text="Grayscale first")
    color_radio.get_by_text("Grayscale first").click()
    wait_for_app(page)
    kernel_box = page.locator("[data-testid='stSelectbox']", has_text="Kernel").first
    kernel_box.locator("input").click()
    page.get_by_role("option", name="Emboss").click()
    wait_for_app(page)
    assert checked_labels(color_radio) == ["Grayscale first"]
    assert "Emboss" in selected_text(kernel_box)

    page.locator("[data-testid='stSidebar'] button", has_text="中文").click()
    wait_for_app(page)
    color_radio = page.locator("[data-testid='stRadio']", has_text="先转为灰度")
    # The click's rerun may start after wait_for_app returned, so poll for the new labels.
    assert wait_until(lambda: checked_labels(color_radio) == ["先转为灰度"], 30)
    kernel_box = page.locator("[data-testid='stSelectbox']", has_text="卷积核").first
    assert "浮雕" in selected_text(kernel_box)
