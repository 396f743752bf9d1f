"""End to end: pictures from a camera and from a phone's HEIC file reach the lessons."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnlab.imageio import HEIF_SUPPORTED
from tests.e2e.conftest import wait_for_app, wait_until

pytestmark = pytest.mark.e2e


def choose_source(page, name: str) -> None:
    page.locator("[data-testid='stMain'] button", has_text=name).first.click()
    wait_for_app(page)


def test_camera_photo_feeds_color_spaces(camera_page, server_url):
    page = camera_page
    page.goto(f"{server_url}/color-spaces?lang=en")
    wait_for_app(page)
    choose_source(page, "Camera")
    page.get_by_role("button", name="Take Photo").click()

    # Chromium's fake camera sends a green test pattern; the decoded shot becomes the
    # working image and every view shows its size.
    assert wait_until(lambda: "JPEG · original" in page.content(), 60)
    facts = page.get_by_text("JPEG · original").first.inner_text()
    size = facts.split("working ")[1].split(" ")[0]
    width, height = (int(v) for v in size.split("×"))
    assert width > 100
    assert height > 100
    assert page.locator("[data-testid='stImage']").count() >= 2
    assert not page.locator("[data-testid='stException']").count()


@pytest.mark.skipif(not HEIF_SUPPORTED, reason="pillow-heif is not installed")
def test_heic_upload_feeds_convolution(page, server_url):
    pixels = np.zeros((90, 120, 3), dtype=np.uint8)
    pixels[20:70, 30:90] = (230, 40, 40)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="HEIF", quality=90)

    page.goto(f"{server_url}/convolution?lang=zh")
    wait_for_app(page)
    choose_source(page, "上传")
    page.locator("input[type='file']").first.set_input_files(
        files=[{"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": buffer.getvalue()}]
    )
    assert wait_until(lambda: "HEIF · " in page.content(), 60)
    assert "120×90" in page.content()
    assert not page.locator("[data-testid='stAlert']", has_text="无法").count()
    assert not page.locator("[data-testid='stException']").count()
