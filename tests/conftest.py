"""Shared fixtures: the app under ``AppTest`` in a chosen language, with jobs cleaned up."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
LANGS = ("en", "zh")


def stop_jobs(at: AppTest) -> None:
    """Stop and join every background job an ``AppTest`` session started.

    Training jobs and hyper-parameter searches both have ``stop()`` and ``join()``.
    """
    for value in list(at.session_state.values()):
        if callable(getattr(value, "stop", None)) and callable(getattr(value, "join", None)):
            value.stop()
            value.join(timeout=30)


@pytest.fixture
def open_page():
    """Return ``open_page(page_path, lang)``: an ``AppTest`` already showing that page.

    ``page_path`` is a file under ``app_pages/`` (e.g. ``"app_pages/lab.py"``); ``None``
    keeps the default page. Jobs the sessions started are stopped at teardown.
    """
    apps: list[AppTest] = []

    def _open(page_path: str | None = None, lang: str = "en") -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lang"] = lang
        at.run()
        if page_path is not None:
            at.switch_page(page_path)
            at.run()
        apps.append(at)
        return at

    yield _open
    for at in apps:
        stop_jobs(at)


@pytest.fixture(params=LANGS)
def lang(request) -> str:
    """Run a test once per language."""
    return request.param
