"""Lesson: inspect a pretrained network (ResNet-18, MobileNetV3-Small or the lab's CNN).

One image goes through the chosen network. The lesson shows the preprocessing, the top-5
prediction, the first layer's filters, one stage's feature maps and a Grad-CAM map for
any of the top classes. Loading and drawing live in ``ui/pretrained_models.py`` and
``ui/pretrained_view.py``; the computations in ``cnnlab/``.
"""

import streamlit as st

from cnnlab.pretrained import prepare
from ui import pretrained_models, pretrained_view
from ui.image_input import image_input
from ui.lang import t
from ui.layout import page_header, term

page_header("pretrained.nav_title")
st.markdown(
    t("pretrained.intro", filter=term("filter"), feature_map=term("feature_map"),
      grad_cam=term("grad_cam"))
)  # fmt: skip

# ---- The network: pretrained weights from the torch cache, an upload, or the lab ----
kind = pretrained_models.choose_model()
loaded, record = pretrained_models.load_model(kind)
if loaded is None:
    st.stop()
pretrained_models.show_model_facts(loaded, record)

# ---- 1. The image, and the preprocessing that the weights prescribe ----
st.subheader(t("pretrained.section.input"))
picker_column, input_column = st.columns(2)
with picker_column:
    image = image_input("pretrained")
if image is None:
    st.stop()
prepared = prepare(loaded, image.rgb)
with input_column:
    pretrained_view.show_model_input(prepared)

image_key = pretrained_view.image_digest(image)
analysis = pretrained_view.run_analysis(loaded, prepared, image_key)

# ---- 2. What the network predicts ----
st.subheader(t("pretrained.section.predict"))
pretrained_view.show_prediction(loaded, analysis, record)

# ---- 3. The first layer looks at raw pixels ----
st.subheader(t("pretrained.section.filters"))
st.markdown(t("pretrained.filters.intro", filter=term("filter")))
pretrained_view.show_filters(loaded)

# ---- 4. Feature maps, stage by stage ----
st.subheader(t("pretrained.section.maps"))
st.markdown(t("pretrained.maps.intro", channel=term("channel"), feature_map=term("feature_map")))
pretrained_view.show_feature_maps(loaded, analysis)

# ---- 5. Grad-CAM: where the evidence for one class lies ----
st.subheader(t("pretrained.section.cam"))
st.markdown(
    t("pretrained.cam.intro", grad_cam=term("grad_cam"), gradient=term("gradient"),
      logit=term("logit"), feature_map=term("feature_map"), relu=term("relu"))
)  # fmt: skip
st.latex(
    r"\alpha_k = \frac{1}{h\,w}\sum_{i,j}\frac{\partial y}{\partial A^k_{ij}}"
    r"\qquad L_{\text{Grad-CAM}} = \mathrm{ReLU}\Big(\sum_k \alpha_k A^k\Big)"
)
pretrained_view.show_grad_cam(loaded, prepared, image_key, analysis)
