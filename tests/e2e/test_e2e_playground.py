"""End to end: the 2-D playground in headless Chromium against a real Streamlit server.

The ``server_url`` and ``page`` fixtures come from ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def open_playground(page, server_url: str, query: str = "lang=en") -> None:
    page.goto(f"{server_url}/playground?{query}")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot")


def shown_step(page) -> int:
    return int(page.locator("[data-testid='stMetricValue']").first.inner_text())


def boundary_data(page) -> str | None:
    """Return the decision map's probabilities from the browser's Plotly figure, serialized.

    Plotly receives NumPy arrays base64-encoded, so the text is compared, not the numbers.
    """
    return page.evaluate(
        """() => {
            for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                const heatmap = (plot.data || []).find(trace => trace.type === 'heatmap');
                if (heatmap) return JSON.stringify(heatmap.z);
            }
            return null;
        }"""
    )


def test_play_trains_and_moves_boundary(page, server_url):
    open_playground(page, server_url)
    assert shown_step(page) == 0
    before = boundary_data(page)
    assert before

    page.get_by_role("button", name="Play").click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and shown_step(page) < 90:
        time.sleep(0.5)

    assert shown_step(page) >= 90  # at least three timer ticks of 30 steps
    assert boundary_data(page) != before

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()  # the click's rerun has finished
    wait_for_app(page)
    time.sleep(1.5)
    paused_at = shown_step(page)
    time.sleep(2.0)
    assert shown_step(page) == paused_at


def test_link_restores_settings(page, server_url):
    open_playground(page, server_url, "lang=en&pg_dataset=xor&pg_layers=3&pg_seed=7")

    assert page.get_by_role("radio", name="xor").is_checked()
    assert page.get_by_role("spinbutton").first.input_value() == "7"
    assert "pg_layers=3" in page.url
