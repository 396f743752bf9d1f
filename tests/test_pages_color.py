"""The color-spaces page under AppTest, in both languages, driven by widget keys."""

from __future__ import annotations

import io

from PIL import Image

from cnnlab.colorspaces import convert
from cnnlab.i18n import translate
from cnnlab.imageio import load_sample

PAGE = "app_pages/color_spaces.py"


def png_bytes(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def captions(at) -> list[str]:
    return [caption.value for caption in at.caption]


def test_page_defaults(open_page, lang):
    at = open_page(PAGE, lang)
    assert not at.exception
    assert at.title[0].value == translate("color.title", lang)
    assert at.button_group(key="color_space").value == "hsv"
    # The default threshold 170..10 wraps through red, and the astronaut's suit is orange-red.
    wraps = translate("color.hue_wraps", lang, low=170, high=10)
    assert wraps in captions(at)
    share = float(at.metric[0].value.rstrip("%"))
    assert 5.0 < share < 60.0


def test_space_switch_shows_lab_channels(open_page, lang):
    at = open_page(PAGE, lang)
    at.button_group(key="color_space").set_value("lab").run()
    assert not at.exception
    name = translate("color.ch.lab.a", lang)
    assert any(f"· {name} ·" in text for text in captions(at))
    assert translate("color.cmap.signed", lang) in captions(at)


def test_inspector_matches_opencv(open_page, lang):
    at = open_page(PAGE, lang)
    at.number_input(key="color_x").set_value(100)
    at.number_input(key="color_y").set_value(300)
    at.run()
    assert not at.exception

    table = at.dataframe[0].value
    eight_bit = table[translate("color.col_uint8", lang)].tolist()
    rgb = load_sample("astronaut").rgb
    pixel = rgb[300:301, 100:101]
    assert eight_bit[:3] == rgb[300, 100].tolist()
    assert eight_bit[3:6] == convert(pixel, "hsv")[0, 0].tolist()
    assert eight_bit[-1] == int(convert(pixel, "gray")[0, 0, 0])


def test_threshold_all_hues_selects_everything(open_page, lang):
    at = open_page(PAGE, lang)
    at.slider(key="color_hue_low").set_value(0)
    at.slider(key="color_hue_high").set_value(179)
    at.slider(key="color_saturation").set_value((0, 255))
    at.slider(key="color_value").set_value((0, 255))
    at.run()
    assert not at.exception
    assert at.metric[0].value == "100.0%"


def test_hue_shift_caption(open_page, lang):
    at = open_page(PAGE, lang)
    at.slider(key="color_hue_shift").set_value(120)
    at.slider(key="color_saturation_scale").set_value(0.5)
    at.run()
    assert not at.exception
    image_captions = [text for image in at.image for text in image.captions]
    assert translate("color.adjusted", lang, shift=120, scale=0.5) in image_captions


def test_upload_then_bad_file_keeps_image(open_page, lang):
    at = open_page(PAGE, lang)
    at.button_group(key="color_source").set_value("upload").run()
    at.file_uploader(key="color_upload").set_value(
        ("red.png", png_bytes(40, 30, (255, 0, 0)), "image/png")
    )
    at.run()
    assert not at.exception
    size = translate(
        "image.input.size", lang, format="PNG", width=40, height=30, work_width=40, work_height=30
    )
    assert size in captions(at)
    assert at.metric[0].value == "100.0%"  # pure red lies inside the default 170..10 range

    at.file_uploader(key="color_upload").set_value(
        ("notes.png", b"not an image at all", "image/png")
    )
    at.run()
    assert not at.exception
    assert at.error[0].value == translate("image.error.not_image", lang)
    assert size in captions(at)
    assert translate("image.input.kept_previous", lang) in captions(at)


def test_grayscale_sample_note(open_page, lang):
    at = open_page(PAGE, lang)
    at.selectbox(key="color_sample").set_value("coins").run()
    assert not at.exception
    note = translate("image.note.grayscale", lang)
    assert any(note in text for text in captions(at))
    table = at.dataframe[0].value
    red, green, blue = table[translate("color.col_uint8", lang)].tolist()[:3]
    assert red == green
    assert green == blue
