"""End to end: train in the lab, watch the curves, switch language, draw a digit, upload images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import streamlit_server, wait_for_app, wait_until

pytestmark = pytest.mark.e2e

# Points of the raw loss curve: Vega draws the first Vega-Lite chart of the lab (the loss)
# as SVG, one path per line, with an "L" command per point after the first.
LOSS_POINTS = """() => {
    const path = document.querySelector("[data-testid='stVegaLiteChart'] g.mark-line path");
    const d = path ? path.getAttribute("d") || "" : "";
    return d ? d.split("L").length : 0;
}"""


def loss_points(page) -> int:
    return page.evaluate(LOSS_POINTS)


def alert_texts(page) -> list[str]:
    return page.locator("[data-testid='stAlert']").all_inner_texts()


def start_lab_run(page, base_url: str, epochs: int) -> None:
    """Open the lab in English, set the number of epochs and press Start training."""
    page.goto(f"{base_url}/lab?lang=en")
    wait_for_app(page)
    field = page.get_by_label("Epochs")
    field.fill(str(epochs))
    field.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()


def test_train_watch_switch_language_and_draw(page, server_url):
    start_lab_run(page, server_url, epochs=2)

    # The loss chart gains points while the run is going, updated in place (not remounted).
    assert wait_until(lambda: loss_points(page) > 0, 120)
    page.evaluate("""() => { document.querySelector("[data-testid='stVegaLiteChart'] svg")
                                 .dataset.cnnlabMark = "first"; }""")
    first = loss_points(page)
    assert wait_until(lambda: loss_points(page) > first, 60)
    marked = page.locator("[data-testid='stVegaLiteChart'] svg[data-cnnlab-mark='first']")
    assert marked.count() == 1, "the live chart was replaced instead of updated"

    # The run ends with a test accuracy, and the page shows it.
    assert wait_until(lambda: any("test accuracy" in text for text in alert_texts(page)), 240)
    finished = next(text for text in alert_texts(page) if "test accuracy" in text)
    accuracy = float(finished.split("test accuracy")[1].strip(" :%.\n").split()[0])
    assert accuracy > 80

    # Switching the language keeps the run.
    page.locator("[data-testid='stSidebar'] button", has_text="中文").click()
    wait_for_app(page)
    assert wait_until(lambda: any("已完成" in text for text in alert_texts(page)), 30)
    assert "lang=zh" in page.url

    # Inside the network: draw a "1" on the pad and get a prediction.
    page.get_by_role("link", name="网络内部").click()
    wait_for_app(page)
    page.locator("[data-testid='stMain'] button", has_text="手写").click()
    wait_for_app(page)
    canvas = page.locator("[data-testid='cnnlab-draw-canvas']")
    canvas.wait_for()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x, box["y"] + 40 + step * (box["height"] - 80) / 10)
    page.mouse.up()
    assert wait_until(lambda: page.get_by_text("预测：").count() > 0, 60)


def png_bytes() -> bytes:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    pixels[30:60, 40:80] = (220, 30, 30)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("path", "expected"), [
    ("color-spaces", "120×90"),
    ("convolution", "Input **"),
])  # fmt: skip
def test_upload_an_image(page, server_url, path, expected):
    page.goto(f"{server_url}/{path}?lang=en")
    wait_for_app(page)
    page.locator("[data-testid='stMain'] button", has_text="Upload").first.click()
    wait_for_app(page)
    page.locator("input[type='file']").first.set_input_files(
        files=[{"name": "my photo.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    wait_for_app(page)
    assert wait_until(lambda: "120×90" in page.content(), 60)
    images = page.locator("[data-testid='stImage'] img, [data-testid='stImage']")
    assert images.count() >= 2  # the input and at least one processed view
    assert not page.locator("[data-testid='stException']").count()


def slots_caption(page) -> str:
    return page.get_by_text("training slots busy").first.inner_text()


def test_closed_tab_stops_its_training_job(page):
    # A 3-second grace period instead of 45 keeps the test short; the path is the same.
    with streamlit_server({"CNNLAB_ORPHAN_GRACE_S": "3", "CNNLAB_MAX_JOBS": "2"}) as url:
        trainer = page.context.new_page()
        start_lab_run(trainer, url, epochs=30)
        assert wait_until(lambda: loss_points(trainer) > 0, 120)

        # Another visitor's page shows the busy slot.
        page.goto(f"{url}/lab?lang=en")
        wait_for_app(page)
        assert slots_caption(page).startswith("Server: 1 of 2")

        # Closing the tab ends the session; after the grace period the job stops, long
        # before its 30 epochs could finish.
        trainer.close()

        def slot_freed() -> bool:
            page.reload()
            wait_for_app(page)
            return slots_caption(page).startswith("Server: 0 of 2")

        assert wait_until(slot_freed, 60)
