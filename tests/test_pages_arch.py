import time

import pytest

from cnnlab.arch_experiments import small_block_net
from cnnlab.architectures import BlockNet
from cnnlab.models import ConvBlockConfig
from cnnlab.runs import RunHistory, RunRecord
from cnnlab.summary import count_parameters
from cnnlab.training import TrainConfig
from ui.arch_lab_source import lab_settings_config
from ui.lab_settings import BLOCK_COLUMNS

TRAINING_TIMEOUT_S = 300


def metric_values(at) -> list[str]:
    return [metric.value for metric in at.metric]


def wait_for_comparison(at, tables: int = 1) -> None:
    """Poll the page (AppTest does not run the fragment's timer) until the comparison shows."""
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        if len(at.dataframe) >= tables:
            return
    pytest.fail("the side-by-side comparison did not finish in time")


def test_skip_connections_page(open_page, lang):
    at = open_page("app_pages/skip_connections.py", lang)
    assert not at.exception
    at.slider(key="skip_blocks").set_value(3).run()
    assert not at.exception
    assert any("8" in caption.value for caption in at.caption)  # 2 · 3 + 2 weight layers
    assert len(at.metric) == 2
    assert all(float(value) > 0 for value in metric_values(at))
    at.select_slider(key="skip_in").set_value(32).run()
    assert not at.exception
    assert len(at.get("graphviz_chart")) == 2


@pytest.mark.slow
def test_skip_connections_trains_side_by_side(open_page):
    at = open_page("app_pages/skip_connections.py", "en")
    at.slider(key="skip_blocks").set_value(2).run()
    at.select_slider(key="skip_steps").set_value(25).run()
    at.button(key="skip_start").click().run()
    wait_for_comparison(at)
    table = at.dataframe[0].value
    assert len(table) == 2
    assert table.iloc[:, 0].str.contains("Plain").any()
    assert table.iloc[:, 0].str.contains("Residual").any()


def test_blocks_page_params(open_page, lang):
    at = open_page("app_pages/blocks.py", lang)
    assert not at.exception
    # BasicBlock 32 -> 64, stride 1: 9·32·64 + 9·64² + 4·64 + projection 32·64 + 2·64.
    assert metric_values(at)[0] == "57,728"
    at.select_slider(key="blocks_in").set_value(64).run()
    assert metric_values(at)[0] == "73,984"  # same channels: identity shortcut, no projection
    assert metric_values(at)[3] == "64 × 28 × 28"


def test_blocks_page_dense_growth(open_page, lang):
    at = open_page("app_pages/blocks.py", lang)
    at.segmented_control(key="blocks_kind").set_value("dense").run()
    at.slider(key="blocks_layers").set_value(3).run()
    assert not at.exception
    assert metric_values(at)[3] == "68 × 28 × 28"  # 32 + 3 · 12 channels
    assert len(at.get("plotly_chart")) == 1


def test_lightweight_page_formulas(open_page, lang):
    at = open_page("app_pages/lightweight.py", lang)
    assert not at.exception
    at.select_slider(key="light_in").set_value(32).run()
    at.select_slider(key="light_out").set_value(64).run()
    latex = " ".join(block.value for block in at.latex)
    assert "18{,}432" in latex  # 3² · 32 · 64 weights of the standard convolution
    assert "2{,}336" in latex  # 9 · 32 + 32 · 64, depthwise-separable


def test_lightweight_page_rejects_bad_groups(open_page):
    at = open_page("app_pages/lightweight.py", "en")
    at.select_slider(key="light_in").set_value(12).run()
    at.select_slider(key="light_groups").set_value(8).run()
    assert not at.exception
    assert at.error


def test_lightweight_page_measures_latency(open_page):
    at = open_page("app_pages/lightweight.py", "zh")
    at.select_slider(key="light_in").set_value(8).run()
    at.select_slider(key="light_out").set_value(8).run()
    at.select_slider(key="light_size").set_value(8).run()
    at.button(key="light_measure").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 3
    assert (table.iloc[:, 2] > 0).all()


@pytest.mark.slow
def test_lightweight_trains_side_by_side(open_page):
    at = open_page("app_pages/lightweight.py", "en")
    at.multiselect(key="light_blocks").set_value(["conv", "depthwise"]).run()
    at.select_slider(key="light_steps").set_value(25).run()
    at.button(key="light_start").click().run()
    wait_for_comparison(at, tables=2)
    sizes = at.dataframe[-1].value  # the sizes table follows the comparison
    expected = [count_parameters(BlockNet(small_block_net(kind))) for kind in ("conv", "depthwise")]
    assert sizes.iloc[:, 1].tolist() == expected


def test_reference_models_page(open_page, lang):
    at = open_page("app_pages/reference_models.py", lang)
    assert not at.exception
    at.multiselect(key="ref_models").set_value(["mobilenet_v3_small"]).run()
    table = at.dataframe[0].value
    assert table.iloc[0, 1] == 2.54  # million parameters
    # The default basic-block network: stride-2 stem 3, then 7 and 11 at jump 2, a stride-2
    # block to 15 and 23 at jump 4, another to 31 and 47 at jump 8.
    assert at.metric[0].value == "47 × 47"


def test_reference_models_receptive_field_of_resnet18(open_page):
    at = open_page("app_pages/reference_models.py", "en")
    at.multiselect(key="ref_models").set_value([]).run()
    at.segmented_control(key="ref_rf_source").set_value("reference").run()
    at.selectbox(key="ref_rf_model").set_value("resnet18").run()
    assert not at.exception
    assert at.metric[0].value == "435 × 435"


def test_show_code_page(open_page, lang):
    at = open_page("app_pages/show_code.py", lang)
    assert not at.exception
    assert metric_values(at)[0] == "20,490"  # the lab's default small CNN
    assert "class Net(nn.Module)" in at.code[0].value
    at.segmented_control(key="code_source").set_value("block").run()
    at.selectbox(key="code_block").set_value("dense").run()
    assert not at.exception
    expected = count_parameters(BlockNet(small_block_net("dense")))
    assert metric_values(at)[0] == f"{expected:,}"
    assert "DenseBlock(" in at.code[0].value


def test_show_code_follows_lab_settings(open_page):
    at = open_page("app_pages/show_code.py", "en")
    at.session_state["lab_preset"] = "tiny"
    at.session_state["lab_lr"] = 0.01
    at.run()
    assert not at.exception
    code = at.code[0].value
    assert "lr=0.01" in code
    assert "nn.Conv2d(1, 8," in code


def add_block_net_run(at, block: str = "basic") -> None:
    """File a finished BlockNet run into the session's lab history, as an experiment does."""
    history = RunHistory()
    config = small_block_net(block)
    record = RunRecord(history.next_id(), "#1 test run", TrainConfig(max_steps=30), "finished",
                       [], [], BlockNet(config).eval())  # fmt: skip
    history.add(record)
    at.session_state["lab_history"] = history
    at.run()


def test_show_code_of_latest_block_net_run(open_page):
    at = open_page("app_pages/show_code.py", "en")
    add_block_net_run(at)
    assert not at.exception
    assert len(at.segmented_control(key="code_source").options) == 3  # "latest run" appeared
    at.segmented_control(key="code_source").set_value("run").run()
    code = at.code[0].value
    assert "as trained in cnnlab run #1 test run" in code
    assert "BasicBlock(in_channels=16, out_channels=32, stride=2)" in code
    assert "default=30" in code  # the run's max_steps
    assert metric_values(at)[0] == f"{count_parameters(BlockNet(small_block_net('basic'))):,}"


def test_reference_models_field_of_latest_run(open_page):
    at = open_page("app_pages/reference_models.py", "en")
    at.multiselect(key="ref_models").set_value([]).run()
    add_block_net_run(at)
    at.segmented_control(key="ref_rf_source").set_value("lab").run()
    assert not at.exception
    assert at.metric[0].value == "47 × 47"


def test_lab_settings_config_uses_saved_blocks():
    rows = [{c: getattr(block, c) for c in BLOCK_COLUMNS}
            for block in (ConvBlockConfig(24), ConvBlockConfig(48, pool="none"))]  # fmt: skip
    config = lab_settings_config(
        {"lab_preset": "small", "lab_saved_blocks": {"small": rows}, "lab_lr": 0.01}
    )
    assert [block.out_channels for block in config.model.blocks] == [24, 48]
    assert config.model.blocks[1].pool == "none"
    assert config.lr == 0.01
    assert config.optimizer == "adam"


def test_lab_settings_config_defaults_to_preset():
    config = lab_settings_config({"lab_preset": "tiny", "lab_saved_blocks": {"small": []}})
    assert [block.out_channels for block in config.model.blocks] == [8, 16]
