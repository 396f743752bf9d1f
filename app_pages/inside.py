"""Inside the network: what a trained CNN computes for one input, layer by layer."""

import numpy as np
import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.inspection import block_outputs, prepare_image, run_with_feature_maps, upscale
from cnnlab.models import first_conv
from cnnlab.plots import bar_probabilities
from ui.draw_canvas import draw_pad
from ui.image_input import image_input
from ui.inside_view import feature_map_grid, filter_grid
from ui.lab_state import cached_dataset, display_label, history
from ui.lang import t
from ui.layout import show_error

st.title(t("inside.title"))
st.markdown(t("inside.intro"))

# 1. Which trained network: any run of this session that kept its model.
runs = [r for r in history() if r.model is not None and r.status != "diverged"]
if not runs:
    st.info(t("inside.no_model"), icon=":material/info:")
    st.page_link("app_pages/lab.py", label=t("inside.go_to_lab"), icon=":material/model_training:")
    st.stop()
by_id = {r.run_id: r for r in runs}
run_id = st.selectbox(t("inside.model"), list(by_id), index=len(by_id) - 1, key="inside_run",
                      format_func=lambda i: display_label(by_id[i]))  # fmt: skip
record = by_id[run_id]
data = cached_dataset(record.config.dataset, record.config.seed)
model = record.model

# 2. The input: a test image, a drawing or a photo, turned into what the model sees.
source = st.segmented_control(t("inside.source"), ["test", "draw", "photo"], default="test", required=True,
                              format_func=lambda s: t(f"inside.source_{s}"), key="inside_input")  # fmt: skip
x, display, steps, truth = None, None, [], None
if source == "test":
    index = st.number_input(t("inside.test_index", last=len(data.x_test) - 1), 0, len(data.x_test) - 1,
                            key="inside_index")  # fmt: skip
    x = data.x_test[index : index + 1]
    display = data.denormalize(x)[0].permute(1, 2, 0).squeeze(-1).numpy()  # (C,H,W) -> (H,W[,C])
    truth = record.classes[int(data.y_test[index])]
    steps = [t("inside.step.test_sample")]
else:
    invert_choice = st.radio(t("inside.invert"), ["auto", "yes", "no"], horizontal=True, key="inside_invert",
                             format_func=lambda s: t(f"inside.invert_{s}"))  # fmt: skip
    invert = {"auto": None, "yes": True, "no": False}[invert_choice]
    try:
        image = (
            draw_pad("inside_pad", t("inside.clear")) if source == "draw" else image_input("inside")
        )
    except LocalizedError as err:
        show_error(err)
        image = None
    if image is None:
        st.info(t("inside.draw_hint") if source == "draw" else t("inside.photo_hint"))
        st.stop()
    prepared = prepare_image(
        image.rgb, data.in_channels, data.image_size, data.mean, data.std, invert
    )
    x, display = prepared.tensor, prepared.display
    steps = [t(step.key, **step.params) for step in prepared.steps]

probabilities, maps = run_with_feature_maps(model, x, block_outputs(model))
predicted = int(np.argmax(probabilities))

left, right = st.columns([1, 2])
with left:
    st.markdown(f"**{t('inside.model_sees')}**")
    st.image(upscale(display, max(1, 168 // display.shape[0])), clamp=True)
    st.markdown("\n".join(f"- {step}" for step in steps))
with right:
    verdict = t(
        "inside.prediction",
        cls=record.classes[predicted],
        p=f"{100 * probabilities[predicted]:.1f}",
    )
    if truth is not None:
        verdict += " " + t("inside.truth", cls=truth)
    st.markdown(f"### {verdict}")
    if source != "test":
        st.caption(t("inside.closed_set", classes=", ".join(record.classes)))
    st.plotly_chart(bar_probabilities(record.classes, probabilities, t("inside.probabilities")),
                    width="stretch", key="inside_probs")  # fmt: skip

# 3. Feature maps of every conv layer, most active channels first.
st.subheader(t("inside.feature_maps_title"))
c1, c2 = st.columns(2)
max_maps = c1.slider(t("inside.max_maps"), 4, 64, 16, step=4, key="inside_max_maps")
per_map = c2.toggle(
    t("inside.per_map"), value=True, key="inside_per_map", help=t("inside.per_map_help")
)
for number, (name, layer_maps) in enumerate(maps.items(), start=1):
    feature_map_grid(
        t("inside.layer_name", number=number, module=name), layer_maps, max_maps, per_map
    )

# 4. The first layer's filters: what the network looks for in raw pixels.
st.subheader(t("inside.filters_title"))
filter_grid(first_conv(model).weight)
