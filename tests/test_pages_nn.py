"""AppTest of the neural-net basics pages in both languages, driving widgets by key.

The ``open_page`` and ``lang`` fixtures come from ``tests/conftest.py``.
"""

from streamlit.testing.v1 import AppTest

from cnnlab.nnbasics.activations import dead_relu_share, push_distribution
from cnnlab.nnbasics.backprop import TinyNet, forward_backward, sgd_update
from cnnlab.nnbasics.gradient_flow import FlowConfig, load_flow_data, run_flow
from cnnlab.nnbasics.losses import compare_stability, cross_entropy_steps, torch_cross_entropy


def show(open_page, page: str, lang: str) -> AppTest:
    """Open ``app_pages/<page>.py`` in ``lang`` and check it drew without an exception."""
    at = open_page(f"app_pages/{page}.py", lang)
    assert not at.exception
    return at


def metric(at: AppTest, index: int) -> str:
    return at.metric[index].value


def test_activations_page_shows_dead_shares(open_page, lang):
    at = show(open_page, "nn_activations", lang)

    at.selectbox(key="act_name").set_value("sigmoid").run()
    at.slider(key="act_mean").set_value(6.0).run()
    at.slider(key="act_bias").set_value(-3.0).run()

    assert not at.exception
    pushed = push_distribution("sigmoid", 6.0, 1.0, 0.01)
    assert metric(at, 0) == f"{pushed.dead_share:.1%}"
    assert metric(at, 1) == f"{dead_relu_share(-3.0).dead_share:.0%}"
    assert any("0.731059" in m.value for m in at.markdown)  # σ(1) at the probe x = 1


def test_activations_page_keeps_logits_after_typo(open_page, lang):
    at = show(open_page, "nn_activations", lang)

    at.text_input(key="act_logits").set_value("1, abc").run()

    assert not at.exception
    assert len(at.error) == 1
    assert "abc" in at.error[0].value
    assert len(at.get("plotly_chart")) == 6


def test_loss_page_matches_f_cross_entropy(open_page, lang):
    at = show(open_page, "nn_loss", lang)

    at.text_input(key="loss_logits").set_value("3, 1, 0.2, -2").run()
    at.number_input(key="loss_target").set_value(2).run()

    assert not at.exception
    steps = cross_entropy_steps([3, 1, 0.2, -2], 2)
    matching = [m.value for m in at.markdown if f"**{steps.loss:.6f}**" in m.value]
    assert len(matching) == 2  # by hand and by F.cross_entropy, the same digits
    assert f"{torch_cross_entropy([3, 1, 0.2, -2], 2):.6f}" == f"{steps.loss:.6f}"


def test_loss_page_shows_overflow(open_page, lang):
    at = show(open_page, "nn_loss", lang)

    at.slider(key="loss_scale").set_value(60).run()

    comparison = compare_stability([120.0, 60.0, 6.0], 0)
    assert metric(at, 0) == "nan"
    assert metric(at, 1) == f"{comparison.stable_loss:.6g}"
    assert len(at.warning) == 1


def test_backprop_page_update_matches_backend(open_page, lang):
    at = show(open_page, "nn_backprop", lang)

    at.radio(key="bp_loss").set_value("bce").run()
    at.slider(key="bp_lr").set_value(1.0).run()
    at.button(key="bp_next").click().run()

    assert not at.exception
    trace = forward_backward(TinyNet(), 1.0, 0.5, 1.0, "sigmoid", "bce")
    after = forward_backward(sgd_update(TinyNet(), trace, 1.0), 1.0, 0.5, 1.0, "sigmoid", "bce")
    assert at.slider(key="bp_step").value == 1
    assert metric(at, 0) == f"{trace.values['L']:.6f}"
    assert metric(at, 1) == f"{after.values['L']:.6f}"


def test_backprop_page_rejects_bce_target_two(open_page, lang):
    at = show(open_page, "nn_backprop", lang)

    at.radio(key="bp_loss").set_value("bce").run()
    at.number_input(key="bp_y").set_value(2.0).run()

    assert not at.exception
    assert len(at.error) == 1


def test_playground_page_play_and_step(open_page, lang):
    at = show(open_page, "nn_playground", lang)
    assert metric(at, 0) == "0"

    at.button(key="pg_play").click().run()
    assert metric(at, 0) == "30"
    at.run()  # AppTest does not fire run_every timers, so a rerun replaces one tick
    assert metric(at, 0) == "60"

    at.button(key="pg_play").click().run()
    at.button(key="pg_step").click().run()
    assert metric(at, 0) == "61"

    at.button(key="pg_reset").click().run()
    assert metric(at, 0) == "0"
    assert not at.exception


def test_playground_page_rebuilds_on_dataset_change(open_page, lang):
    at = show(open_page, "nn_playground", lang)
    at.button(key="pg_step").click().run()
    assert metric(at, 0) == "1"

    at.select_slider(key="pg_lr").set_value(1.0).run()
    assert metric(at, 0) == "1"  # a new learning rate keeps training where it was
    at.radio(key="pg_dataset").set_value("xor").run()

    assert metric(at, 0) == "0"
    assert not at.exception


def test_gradient_flow_page_cases(open_page, lang):
    at = show(open_page, "nn_gradient_flow", lang)
    assert float(metric(at, 2)) < -6  # vanishing: first layer far below the last

    at.button(key="gf_preset_exploding").click().run()
    assert float(metric(at, 2)) > 3

    at.button(key="gf_preset_clipping").click().run()
    at.slider(key="gf_steps").set_value(10).run()
    at.button(key="gf_train").click().run()

    assert not at.exception
    config = FlowConfig(activation="tanh", init="large_normal", clip_norm=1.0, steps=10)
    history = run_flow(config, load_flow_data("spirals")).as_arrays()
    summary = [m.value for m in at.markdown if f"**{history['total_norm'].max():.3g}**" in m.value]
    assert len(summary) == 1
    assert "**0.05**" in summary[0]
