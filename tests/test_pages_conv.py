"""The convolution, pooling and receptive-field pages under AppTest, in both languages."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.convolution import crop_patch, shrink_gray
from cnnlab.i18n import translate
from cnnlab.imageio import load_sample
from cnnlab.runs import RunHistory, RunRecord
from ui.conv_controls import Geometry, output_size_latex
from ui.conv_steps import STEP_IMAGE_SIDE
from ui.lab_state import HISTORY_KEY

CONV = "app_pages/convolution.py"
POOL = "app_pages/pooling.py"
RF = "app_pages/receptive_field.py"
SAMPLE = "camera"


def shown_sizes(at) -> tuple[int, int, int, int]:
    """Return (H, W, H_out, W_out) from the "Input **H×W** → output **H'×W'**" line."""
    for block in at.markdown:
        numbers = re.findall(r"\*\*(\d+)×(\d+)\*\*", block.value)
        if len(numbers) == 2:
            (height, width), (out_height, out_width) = numbers
            return int(height), int(width), int(out_height), int(out_width)
    raise AssertionError("no input/output size line on the page")


def term_text(term_id: str, lang: str) -> str:
    """Return what ``ui.layout.term`` shows for ``term_id`` in ``lang``."""
    name = translate(f"glossary.term.{term_id}", lang)
    english = translate(f"glossary.term.{term_id}", "en")
    return f"{name} ({english})" if lang == "zh" and name != english else name


def metric_value(at, label: str) -> float:
    values = [float(m.value) for m in at.metric if m.label == label]
    assert len(values) == 1, f"expected one metric labelled {label!r}"
    return values[0]


def step_patch(at, prefix: str) -> np.ndarray:
    gray = shrink_gray(load_sample(SAMPLE).rgb, STEP_IMAGE_SIDE)
    return crop_patch(
        gray,
        at.slider(key=f"{prefix}_crop_top").value,
        at.slider(key=f"{prefix}_crop_left").value,
        at.slider(key=f"{prefix}_crop_size").value,
    )


def test_conv_output_size_follows_widgets(open_page, lang):
    at = open_page(CONV, lang)
    at.selectbox(key="conv_sample").set_value(SAMPLE)
    at.selectbox(key="conv_preset").set_value("box")
    at.slider(key="conv_stride").set_value(2)
    at.slider(key="conv_padding").set_value(0)
    at.slider(key="conv_dilation").set_value(2).run()

    height, width, out_height, out_width = shown_sizes(at)
    expected = F.conv2d(
        torch.zeros(1, 1, height, width), torch.zeros(1, 1, 3, 3), stride=2, dilation=2
    )
    assert not at.exception
    assert (height, width) == (512, 512)
    assert out_height == expected.shape[2]
    assert out_width == expected.shape[3]
    assert any(f"= {out_height}" in block.value for block in at.latex)


def test_conv_step_sum_equals_conv2d(open_page, lang):
    at = open_page(CONV, lang)
    at.selectbox(key="conv_sample").set_value(SAMPLE)
    at.selectbox(key="conv_preset").set_value("sobel_y")
    at.slider(key="conv_stride").set_value(2)
    at.slider(key="conv_padding").set_value(1).run()
    at.slider(key="conv_step_row").set_value(2)
    at.slider(key="conv_step_col").set_value(3).run()

    patch = step_patch(at, "conv")
    kernel = torch.tensor([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=torch.float64)
    expected = F.conv2d(
        torch.from_numpy(patch)[None, None], kernel[None, None], stride=2, padding=1
    )
    shown_sum = metric_value(at, translate("conv.step_sum", lang))
    shown_torch = metric_value(at, translate("conv.step_torch", lang, row=2, col=3))
    assert not at.exception
    assert shown_sum == pytest.approx(float(expected[0, 0, 2, 3]), abs=1e-4)
    assert shown_torch == pytest.approx(shown_sum, abs=1e-4)


def test_conv_next_button_advances_column(open_page):
    at = open_page(CONV, "en")
    at.button(key="conv_step_next").click().run()
    assert not at.exception
    assert at.slider(key="conv_step_row").value == 0
    assert at.slider(key="conv_step_col").value == 1


def test_conv_step_reports_empty_output(open_page):
    at = open_page(CONV, "zh")
    at.radio(key="conv_size").set_value(5)
    at.slider(key="conv_padding").set_value(0)
    at.slider(key="conv_dilation").set_value(3)
    at.slider(key="conv_crop_size").set_value(6).run()
    assert not at.exception
    assert any("输出会是空的" in error.value for error in at.error)


def test_conv_zero_sum_kernel_is_explained(open_page, lang):
    at = open_page(CONV, lang)
    at.selectbox(key="conv_preset").set_value("laplacian").run()
    assert not at.exception
    assert any(info.value == translate("conv.zero_sum", lang) for info in at.info)


def test_conv_learned_section_needs_a_model(open_page, lang):
    at = open_page(CONV, lang)
    assert not at.exception
    assert any(info.value == translate("conv.learned_none", lang) for info in at.info)


def test_conv_learned_filters_are_matched(open_page, lang):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    with torch.no_grad():
        model[0].weight[0, 0] = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
        model[0].weight[1, 0] = -torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    history = RunHistory()
    history.add(RunRecord(1, "#1 test", None, "finished", [], [], model))

    at = open_page(None, lang)
    at.session_state[HISTORY_KEY] = history
    at.switch_page(CONV)
    at.run()

    table = at.dataframe[-1].value
    assert not at.exception
    assert list(table.iloc[:, 1]) == [
        translate("conv.preset.sobel_x", lang),
        translate("conv.preset.laplacian", lang),
    ]
    assert list(table.iloc[:, 2]) == [1.0, -1.0]


def test_pool_average_with_padding(open_page, lang):
    at = open_page(POOL, lang)
    at.selectbox(key="pool_sample").set_value(SAMPLE)
    at.radio(key="pool_kind").set_value("avg")
    at.slider(key="pool_kernel").set_value(3)
    at.slider(key="pool_stride").set_value(2).run()
    at.slider(key="pool_padding").set_value(1).run()
    at.checkbox(key="pool_count_include_pad").uncheck().run()

    height, width, out_height, out_width = shown_sizes(at)
    expected = F.avg_pool2d(torch.zeros(1, 1, height, width), 3, 2, 1)
    assert not at.exception
    assert (out_height, out_width) == tuple(expected.shape[2:])

    patch = step_patch(at, "pool")
    reference = F.avg_pool2d(torch.from_numpy(patch)[None, None], 3, 2, 1, count_include_pad=False)
    shown = metric_value(at, translate("conv.pool.step_avg", lang))
    assert shown == pytest.approx(float(reference[0, 0, 0, 0]), abs=1e-4)


def test_pool_max_window_matches_torch(open_page, lang):
    at = open_page(POOL, lang)
    at.selectbox(key="pool_sample").set_value(SAMPLE)
    at.slider(key="pool_step_row").set_value(1)
    at.slider(key="pool_step_col").set_value(2).run()

    patch = step_patch(at, "pool")
    reference = F.max_pool2d(torch.from_numpy(patch)[None, None], 2, 2)
    shown = metric_value(at, translate("conv.pool.step_max", lang))
    assert not at.exception
    assert shown == pytest.approx(float(reference[0, 0, 1, 2]))


def test_receptive_field_of_resnet_stem(open_page, lang):
    at = open_page(RF, lang)
    at.selectbox(key="rf_preset").set_value("resnet_stem")
    at.number_input(key="rf_input_size").set_value(224).run()

    formula = [
        m.value
        for m in at.metric
        if m.label == translate("conv.rf.final", lang, rf=term_text("receptive_field", lang))
    ]
    measured = [m.value for m in at.metric if m.label == translate("conv.rf.measured", lang)]
    table = at.dataframe[-1].value  # the data editor comes first
    assert not at.exception
    assert formula == ["27×27"]
    assert measured == ["27×27"]
    assert list(table.iloc[:, 1]) == ["112×112", "56×56", "56×56", "56×56"]
    assert list(table.iloc[:, 2]) == [7, 11, 19, 27]


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    [(512, 3, 1, 1, 1), (300, 5, 2, 0, 3), (17, 4, 3, 2, 2)],
)
def test_output_size_latex_evaluates_to_conv2d(size, kernel, stride, padding, dilation):
    out = F.conv2d(
        torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
        stride=stride, padding=padding, dilation=dilation,
    ).shape[-1]  # fmt: skip
    latex = output_size_latex("H", size, kernel, Geometry(stride, padding, "zeros", dilation), out)

    numbers = re.search(
        r"\\frac\{(\d+) \+ 2\\cdot(\d+) - (\d+)\\cdot\((\d+)-1\) - 1\}\{(\d+)\}", latex
    )
    shown_size, shown_padding, shown_dilation, shown_kernel, shown_stride = map(
        int, numbers.groups()
    )
    value = (
        shown_size + 2 * shown_padding - shown_dilation * (shown_kernel - 1) - 1
    ) // shown_stride + 1
    assert (shown_size, shown_padding, shown_dilation, shown_kernel, shown_stride) == (
        size,
        padding,
        dilation,
        kernel,
        stride,
    )
    assert value == out
    assert latex.endswith(f"= {out}")
