"""End to end: the 2-D playground in headless Chromium against a real Streamlit server.

The server fixture starts ``streamlit run app.py`` on 127.0.0.1 on a free port and stops it
after the module. Chromium is Debian's ``/usr/bin/chromium``, driven by Python Playwright.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
STARTUP_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} during start-up")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as reply:
                if reply.read().decode() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{base_url}/_stcore/health did not return ok within {STARTUP_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def server_url():
    """Start ``streamlit run app.py`` on a free local port; yield its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture
def page():
    """Yield a Playwright page in headless Debian Chromium."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1400})
        tab.set_default_timeout(60_000)
        yield tab
        browser.close()


def open_playground(page, server_url: str, query: str = "lang=en") -> None:
    page.goto(f"{server_url}/playground?{query}")
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=120_000)
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
    page.wait_for_selector("[data-test-script-state='notRunning']")
    time.sleep(1.5)
    paused_at = shown_step(page)
    time.sleep(2.0)
    assert shown_step(page) == paused_at


def test_link_restores_settings(page, server_url):
    open_playground(page, server_url, "lang=en&pg_dataset=xor&pg_layers=3&pg_seed=7")

    assert page.get_by_role("radio", name="xor").is_checked()
    assert page.get_by_role("spinbutton").first.input_value() == "7"
    assert "pg_layers=3" in page.url
