"""The lesson map: which pages exist, in which section, under which URL.

Titles go through the translation lookup; URLs are fixed ASCII so links survive a language
switch. Add a page by adding one ``PageSpec`` line to its section.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.lang import t


@dataclass(frozen=True)
class PageSpec:
    path: str  # file under app_pages/
    url_path: str  # stable ASCII URL, never translated
    icon: str  # Material icon name, e.g. ":material/home:"
    title_key: str  # translation key of the title


# Section title key -> pages. Only pages that exist are listed.
SECTIONS: dict[str, list[PageSpec]] = {
    "nav.section.start": [
        PageSpec("app_pages/home.py", "home", ":material/home:", "nav.home"),
        PageSpec("app_pages/glossary.py", "glossary", ":material/translate:", "nav.glossary"),
    ],
    "nav.section.image": [
        PageSpec(
            "app_pages/color_spaces.py", "color-spaces", ":material/palette:", "color.nav_title"
        ),
    ],
    "nav.section.nn": [
        PageSpec(
            "app_pages/nn_activations.py",
            "activations",
            ":material/show_chart:",
            "nn.nav.activations",
        ),
        PageSpec("app_pages/nn_loss.py", "loss", ":material/functions:", "nn.nav.loss"),
        PageSpec(
            "app_pages/nn_backprop.py", "backprop", ":material/account_tree:", "nn.nav.backprop"
        ),
        PageSpec(
            "app_pages/nn_playground.py",
            "playground",
            ":material/scatter_plot:",
            "nn.nav.playground",
        ),
        PageSpec(
            "app_pages/nn_gradient_flow.py",
            "gradient-flow",
            ":material/stacked_line_chart:",
            "nn.nav.gradient_flow",
        ),
    ],
    "nav.section.conv": [
        PageSpec("app_pages/convolution.py", "convolution", ":material/blur_on:", "conv.nav_title"),
        PageSpec("app_pages/pooling.py", "pooling", ":material/grid_view:", "conv.pool.nav_title"),
        PageSpec(
            "app_pages/receptive_field.py",
            "receptive-field",
            ":material/center_focus_strong:",
            "conv.rf.nav_title",
        ),
        PageSpec(
            "app_pages/pretrained.py",
            "pretrained",
            ":material/image_search:",
            "pretrained.nav_title",
        ),
    ],
    "nav.section.arch": [
        PageSpec(
            "app_pages/skip_connections.py",
            "skip-connections",
            ":material/alt_route:",
            "arch.skip.nav_title",
        ),
        PageSpec("app_pages/blocks.py", "blocks", ":material/view_in_ar:", "arch.blocks.nav_title"),
        PageSpec(
            "app_pages/lightweight.py", "lightweight", ":material/speed:", "arch.light.nav_title"
        ),
        PageSpec(
            "app_pages/reference_models.py",
            "reference-models",
            ":material/table_chart:",
            "arch.ref.nav_title",
        ),
        PageSpec("app_pages/show_code.py", "show-code", ":material/code:", "arch.code.nav_title"),
    ],
    "nav.section.training": [
        PageSpec("app_pages/lab.py", "lab", ":material/model_training:", "nav.lab"),
        PageSpec("app_pages/inside.py", "inside", ":material/visibility:", "nav.inside"),
    ],
    "nav.section.optimization": [
        PageSpec(
            "app_pages/augmentation.py",
            "augmentation",
            ":material/auto_awesome_mosaic:",
            "optim_aug.nav_title",
        ),
        PageSpec(
            "app_pages/batchnorm.py", "batchnorm", ":material/equalizer:", "optim_bn.nav_title"
        ),
        PageSpec(
            "app_pages/learning_rate.py", "learning-rate", ":material/speed:", "optim_lr.nav_title"
        ),
        PageSpec(
            "app_pages/regularization.py",
            "regularization",
            ":material/tune:",
            "optim_reg.nav_title",
        ),
        PageSpec(
            "app_pages/initialization.py", "init", ":material/casino:", "optim_init.nav_title"
        ),
        PageSpec(
            "app_pages/fine_tuning.py",
            "fine-tuning",
            ":material/model_training:",
            "optim_ft.nav_title",
        ),
        PageSpec(
            "app_pages/hparam_search.py",
            "hparam-search",
            ":material/manage_search:",
            "optim_hp.nav_title",
        ),
        PageSpec(
            "app_pages/input_normalization.py",
            "input-normalization",
            ":material/balance:",
            "optim_norm.nav_title",
        ),
    ],
    "nav.section.engineering": [],
}


def build_navigation() -> st.navigation:
    """Return the ``st.navigation`` object with translated section and page titles."""
    sections = {}
    for section_key, specs in SECTIONS.items():
        if not specs:
            continue
        sections[t(section_key)] = [
            st.Page(
                spec.path,
                title=t(spec.title_key),
                icon=spec.icon,
                url_path=spec.url_path,
                default=spec.url_path == "home",
            )
            for spec in specs
        ]
    return st.navigation(sections, expanded=True)


def all_pages() -> list[PageSpec]:
    """Return every registered page (tests run each one)."""
    return [spec for specs in SECTIONS.values() for spec in specs]
