"""Fixtures for end-to-end tests: a real ``streamlit run`` server and headless Chromium.

The server listens on 127.0.0.1 on a free port and is stopped after the test module.
Chromium is Debian's ``/usr/bin/chromium`` (``apt-get install -y chromium``), driven by
Python Playwright; Playwright's own browser download is never used.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

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
    raise TimeoutError(f"{base_url}/_stcore/health did not answer ok in {STARTUP_TIMEOUT_S} s")


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None):
    """Run ``streamlit run app.py`` on a free local port; yield its base URL.

    ``env`` adds environment variables for the server process only.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
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


@pytest.fixture(scope="module")
def server_url():
    """Start the app on a free local port for the test module; yield its base URL."""
    with streamlit_server() as base_url:
        yield base_url


def _open_tab(extra_args: tuple[str, ...] = (), permissions: tuple[str, ...] = ()):
    """Yield a Playwright page in headless Debian Chromium, with optional extra flags."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + list(extra_args)
        )
        context = browser.new_context(
            viewport={"width": 1400, "height": 1400}, permissions=list(permissions)
        )
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        yield tab
        browser.close()


@pytest.fixture
def page():
    """Yield a Playwright page in headless Debian Chromium."""
    yield from _open_tab()


@pytest.fixture
def camera_page():
    """Yield a page whose camera is Chromium's built-in test pattern, already permitted."""
    fake_camera = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
    yield from _open_tab(fake_camera, permissions=("camera",))


def wait_for_app(page) -> None:
    """Wait until the script run that the last navigation or click started has finished."""
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=120_000)


def wait_until(predicate, timeout: float) -> bool:
    """Poll ``predicate`` every 0.5 s; return True once it holds, False after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False
