"""AppTest of the app shell, home, glossary, training lab and inside-the-network pages."""

import json
import time

import pyarrow as pa
import pytest

from cnnlab.i18n import translate
from ui.navigation import all_pages

PAGE_IDS = [spec.url_path for spec in all_pages()]


def run_until(at, predicate, timeout=120.0):
    """Rerun the app (as the polling fragment would) until ``predicate(at)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if predicate(at):
            return True
        time.sleep(0.3)
    return False


@pytest.mark.parametrize("url_path", PAGE_IDS)
def test_every_page_renders_in_both_languages(open_page, url_path, lang):
    spec = next(s for s in all_pages() if s.url_path == url_path)
    at = open_page(spec.path, lang)
    assert not at.exception
    assert at.title, f"{spec.path} shows no title"
    assert not at.error


def test_default_language_follows_browser_locale():
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.context = {"locale": "zh-CN"}
    at.run()
    assert at.title[0].value == translate("home.title", "zh")
    assert at.query_params["lang"] == "zh"


def test_language_switch_updates_url_and_titles(open_page):
    at = open_page(None, "en")
    assert at.title[0].value == translate("home.title", "en")
    at.segmented_control(key="app_language_switch").set_value("zh").run()
    assert at.title[0].value == translate("home.title", "zh")
    assert at.query_params["lang"] == "zh"


def test_glossary_search_filters(open_page, lang):
    at = open_page("app_pages/glossary.py", lang)
    total = len(at.dataframe[0].value)
    at.text_input(key="glossary_search").input("stride").run()
    table = at.dataframe[0].value
    assert 0 < len(table) < total
    assert "步幅" in table.iloc[:, 0].tolist()
    at.text_input(key="glossary_search").input("zzzz").run()
    assert at.info[0].value == translate("glossary.no_match", lang, query="zzzz")


def test_lab_shows_model_summary(open_page, lang):
    at = open_page("app_pages/lab.py", lang)
    assert at.metric[0].value == "20,490"  # parameters of the small preset
    at.selectbox(key="lab_preset").set_value("tiny").run()
    assert at.metric[0].value == "9,098"  # 80 + 1,168 + 7,850


def test_lab_rejects_impossible_model(open_page, lang):
    at = open_page("app_pages/lab.py", lang)
    at.number_input(key="lab_hidden").set_value(0).run()
    # Two preset blocks plus four added ones: six poolings shrink 28 px below one pixel.
    at.session_state["lab_blocks_small"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"out_channels": 8, "kernel_size": 3, "stride": 1, "padding": 1,
                        "activation": "relu", "pool": "max", "batch_norm": False, "dropout": 0.0}] * 4,
    }  # fmt: skip
    at.run()
    assert at.error, "an invalid model must show an error"
    assert "5" in at.error[0].value
    assert at.button(key="lab_start").disabled


def test_lab_keeps_block_edits_after_leaving(open_page):
    at = open_page("app_pages/lab.py", "en")
    at.session_state["lab_blocks_small"] = {
        "edited_rows": {"0": {"out_channels": 8}}, "added_rows": [], "deleted_rows": [],
    }  # fmt: skip
    at.run()
    edited = at.metric[0].value
    assert edited == "18,106"  # 80 + 2,336 + 15,690 with 8 first-layer channels
    at.switch_page("app_pages/glossary.py")
    at.run()
    at.switch_page("app_pages/lab.py")
    at.run()
    assert at.metric[0].value == edited
    at.button(key="lab_quick").click().run()
    assert at.metric[0].value == "20,490"  # the quick start shows the preset's own blocks


def vega_charts(at) -> dict[str, pa.Table]:
    """Return the page's Vega-Lite charts: their data tables by chart title."""
    charts = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        charts[spec["title"]] = pa.ipc.open_stream(element.proto.data.data).read_all()
    return charts


def test_lab_trains_and_keeps_run_across_language_switch(open_page):
    at = open_page("app_pages/lab.py", "en")
    at.number_input(key="lab_epochs").set_value(1).run()
    at.button(key="lab_start").click().run()
    assert run_until(at, lambda a: len(a.success) > 0)
    assert "finished" in at.success[0].value
    assert len(at.get("plotly_chart")) == 1  # the confusion matrix
    curves = vega_charts(at)
    assert curves["Training loss per step"].num_rows > 0
    assert curves["Accuracy per epoch"].column("epoch").to_pylist()[-1] == 1

    at.segmented_control(key="app_language_switch").set_value("zh").run()
    assert "已完成" in at.success[0].value
    assert "#1 小型 · Adam · 学习率 0.004" in at.success[0].value  # the label follows too
    assert at.multiselect(key="lab_overlay").value == [1]
    assert at.session_state["lab_history"].latest.epochs

    at.selectbox(key="lab_true_class").set_value("4").run()
    record = at.session_state["lab_history"].latest
    expected = translate("lab.mistakes_count", "zh", count=len(record.misclassified(4)), total=1000)
    assert expected in [m.value for m in at.markdown]


def test_lab_run_label_in_chinese(open_page):
    at = open_page("app_pages/lab.py", "zh")
    at.selectbox(key="lab_preset").set_value("tiny").run()
    at.number_input(key="lab_epochs").set_value(1).run()
    at.button(key="lab_start").click().run()
    assert at.session_state["lab_pending"][1]["zh"] == "#1 微型 · Adam · 学习率 0.004"
    assert at.session_state["lab_pending"][1]["en"] == "#1 tiny · Adam · lr 0.004"
    at.button(key="lab_stop").click().run()

    at.session_state["lab_blocks_tiny"] = {
        "edited_rows": {"0": {"out_channels": 4}}, "added_rows": [], "deleted_rows": [],
    }  # fmt: skip
    at.run()
    at.button(key="lab_start").click().run()
    assert at.session_state["lab_pending"][1]["zh"] == "#2 微型（已修改）· Adam · 学习率 0.004"


def test_lab_pause_resume_stop(open_page):
    at = open_page("app_pages/lab.py", "en")
    at.number_input(key="lab_epochs").set_value(30).run()
    at.button(key="lab_start").click().run()
    assert run_until(at, lambda a: len(a.session_state["lab_job"].snapshot().steps) > 2, timeout=60)
    at.button(key="lab_pause").click().run()
    assert run_until(
        at, lambda a: a.session_state["lab_job"].snapshot().state == "paused", timeout=10
    )
    at.button(key="lab_resume").click().run()
    assert at.session_state["lab_job"].snapshot().state == "running"
    at.button(key="lab_stop").click().run()
    assert run_until(at, lambda a: len(a.info) > 0 and "stopped" in a.info[0].value, timeout=30)


def test_inside_page_without_model_links_to_lab(open_page, lang):
    at = open_page("app_pages/inside.py", lang)
    assert at.info[0].value == translate("inside.no_model", lang)


def test_inside_page_shows_prediction(open_page, lang):
    at = open_page("app_pages/lab.py", lang)
    at.number_input(key="lab_epochs").set_value(1).run()
    at.button(key="lab_start").click().run()
    assert run_until(at, lambda a: len(a.success) > 0)
    at.switch_page("app_pages/inside.py").run()
    prediction = translate("inside.prediction", lang, cls="X", p="Y").split("X")[0]
    verdicts = [m.value for m in at.markdown if m.value.startswith("### " + prediction)]
    assert verdicts
    at.number_input(key="inside_index").set_value(5).run()
    assert not at.exception
    at.segmented_control(key="inside_input").set_value("photo").run()
    steps = [
        m.value
        for m in at.markdown
        if translate("inside.step.normalize", lang, mean="", std="")[:6] in m.value
    ]
    assert steps
