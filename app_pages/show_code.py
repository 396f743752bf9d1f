"""Show me the code: a standalone PyTorch file for a lab network and its training run."""

import json
from dataclasses import replace

import streamlit as st

from cnnlab.arch_experiments import small_block_net
from cnnlab.architectures import BLOCK_KINDS, BlockNet, BlockNetConfig
from cnnlab.codegen import generate_script
from cnnlab.errors import LocalizedError
from cnnlab.models import CNNConfig, build_model
from cnnlab.summary import count_parameters
from cnnlab.training import OPTIMIZERS, TrainConfig
from ui.arch_common import kind_label, label_term
from ui.arch_lab_source import lab_settings_config, latest_run
from ui.lang import t
from ui.layout import page_header, show_error

SOURCES = ("run", "settings", "block")


@st.cache_data(show_spinner=False, max_entries=32)
def _script(train_json: str, block_json: str | None, run_label: str | None) -> tuple[str, int]:
    """Return the generated file and the parameter count of the lab's own model."""
    train = TrainConfig.from_dict(json.loads(train_json))
    block = BlockNetConfig.from_dict(json.loads(block_json)) if block_json else None
    model = BlockNet(block) if block else build_model(train.model)
    return generate_script(train, block, run_label), count_parameters(model)


page_header("arch.code.title", "arch.code.intro")

latest = latest_run()
available = SOURCES if latest is not None else SOURCES[1:]
source = st.segmented_control(t("arch.code.source_label"), available, format_func=lambda s: t(f"arch.code.source.{s}"),
                              default=available[0], required=True, key="code_source")  # fmt: skip

block: BlockNetConfig | None = None
run_label = None
if source == "run" and latest is not None:
    run_label, train, model_config = latest
    if isinstance(model_config, BlockNetConfig):
        block = model_config
    else:
        train = replace(train, model=model_config)
    st.caption(t("arch.code.run_note", label=run_label))
elif source == "settings":
    train = lab_settings_config(st.session_state)
    st.caption(t("arch.code.settings_note"))
else:
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(t("arch.code.block"), BLOCK_KINDS, index=BLOCK_KINDS.index("basic"),
                        format_func=kind_label, key="code_block")  # fmt: skip
    per_stage = c2.slider(t("arch.code.per_stage"), 1, 4, 1, key="code_per_stage")
    epochs = c3.number_input(t("arch.code.epochs"), 1, 30, 3, key="code_epochs")
    optimizer = c1.selectbox(
        label_term("optimizer"), OPTIMIZERS, index=OPTIMIZERS.index("adam"), key="code_optimizer"
    )
    lr = c2.select_slider(label_term("learning_rate"), (1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 1e-2, 3e-2, 0.1), value=2e-3,
                          format_func=lambda v: f"{v:g}", key="code_lr")  # fmt: skip
    seed = c3.number_input(t("arch.code.seed"), 0, 10_000, 0, key="code_seed")
    block = replace(small_block_net(kind), blocks_per_stage=int(per_stage))
    train = TrainConfig(optimizer=optimizer, lr=float(lr), epochs=int(epochs), seed=int(seed),
                        model=CNNConfig())  # fmt: skip

try:
    block_json = json.dumps(block.to_dict()) if block else None
    script, params = _script(json.dumps(train.to_dict()), block_json, run_label)
except LocalizedError as err:
    show_error(err)
    st.stop()

m1, m2, m3 = st.columns(3)
m1.metric(t("arch.col.params"), f"{params:,}")
m2.metric(t("arch.code.lines"), script.count("\n"))
m3.metric(t("arch.code.dataset"), t(f"lab.dataset_name.{train.dataset}"))
st.download_button(t("arch.code.download"), script, file_name="cnnlab_model.py", mime="text/x-python",
                   icon=":material/download:", key="code_download")  # fmt: skip
st.markdown(t("arch.code.how_to_run"))
st.code(script, language="python", line_numbers=True)
