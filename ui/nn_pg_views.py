"""Controls, state and the live view of the 2-D playground.

Every setting is a widget bound to the URL (``bind="query-params"``, the key is the query
parameter), so a copied link reproduces the data, the network and the seed. Bound widgets
show their raw option values: a ``format_func`` would put the translated label in the URL.
"""

from __future__ import annotations

import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.playground import (
    ACTIVATIONS,
    DATASETS,
    Playground,
    PlaygroundConfig,
    same_run,
)
from cnnlab.nnbasics.plots import curves_figure, decision_figure
from ui.lang import t
from ui.layout import show_error, term
from ui.nn_controls import capitalized_term

TICK_SECONDS = 0.5
STEPS_PER_TICK = 30
# Play stops here so a forgotten tab does not train forever (and the history stays small).
MAX_STEPS = 20_000
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
BATCH_SIZES = (1, 4, 8, 16, 32, 64)
L2_STRENGTHS = (0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1)
URL = {"bind": "query-params"}


def config_controls() -> PlaygroundConfig:
    """Draw the data, network and training controls; return the chosen configuration."""
    default = PlaygroundConfig()
    with st.container(border=True):
        st.markdown(t("nn_pg.data_header"))
        dataset = st.radio(
            t("nn_pg.dataset"), DATASETS, key="pg_dataset", horizontal=True,
            captions=[t(f"nn_pg.dataset_{name}") for name in DATASETS], **URL,
        )  # fmt: skip
        noise = st.slider(t("nn_pg.noise"), 0.0, 0.5, default.noise, 0.05, key="pg_noise", **URL)
        test_share = st.slider(
            t("nn_pg.test_share"), 0.1, 0.9, default.test_share, 0.1, key="pg_test", **URL
        )
        seed = st.number_input(
            t("nn_pg.seed"), 0, 9999, default.seed, key="pg_seed", help=t("nn_pg.seed_help"), **URL
        )
    with st.container(border=True):
        st.markdown(t("nn_pg.network_header"))
        layers = st.slider(t("nn_pg.layers"), 0, 6, default.layers, key="pg_layers", **URL)
        neurons = st.slider(t("nn_pg.neurons"), 1, 16, default.neurons, key="pg_neurons", **URL)
        activation = st.radio(
            capitalized_term("activation"), ACTIVATIONS, key="pg_activation", horizontal=True, **URL
        )
    with st.container(border=True):
        st.markdown(t("nn_pg.training_header"))
        lr = st.select_slider(
            capitalized_term("learning_rate"), LEARNING_RATES, default.lr, key="pg_lr", **URL
        )
        batch_size = st.select_slider(
            capitalized_term("batch_size"), BATCH_SIZES, default.batch_size, key="pg_batch", **URL
        )
        l2 = st.select_slider(
            t("nn_pg.l2"), L2_STRENGTHS, default.l2, key="pg_l2", help=t("nn_pg.l2_help"), **URL
        )
    return PlaygroundConfig(
        dataset=dataset, noise=noise, test_share=test_share, layers=layers, neurons=neurons,
        activation=activation, lr=lr, batch_size=batch_size, l2=l2, seed=int(seed),
    )  # fmt: skip


def current_playground(config: PlaygroundConfig) -> Playground | None:
    """Return this session's playground for ``config``, rebuilding it when data or network change.

    Learning rate, batch size and L2 change in place, so training continues where it was.
    """
    playground = st.session_state.get("pg_run")
    try:
        if playground is None or not same_run(playground.config, config):
            playground = Playground(config)
            st.session_state["pg_run"] = playground
            st.session_state["pg_playing"] = False
        else:
            playground.set_hyperparameters(config.lr, config.batch_size, config.l2)
    except LocalizedError as err:
        show_error(err)
        return None
    return playground


def _set_playing(playing: bool) -> None:
    # Set, not toggle: a click that reaches the server twice must not undo itself.
    st.session_state["pg_playing"] = playing


def _step_once() -> None:
    playground = st.session_state.get("pg_run")
    if playground is not None:
        playground.train_steps(1)
    st.session_state["pg_playing"] = False


def _reset() -> None:
    # The next run builds a fresh playground from the (unchanged) configuration.
    st.session_state.pop("pg_run", None)
    st.session_state["pg_playing"] = False


def transport_buttons() -> bool:
    """Draw Play/Pause, Step and Reset; return whether training is playing."""
    playing = st.session_state.get("pg_playing", False)
    play, step, reset = st.columns(3)
    play.button(
        t("nn_pg.pause") if playing else t("nn_pg.play"), key="pg_play", on_click=_set_playing,
        args=(not playing,),
        icon=":material/pause:" if playing else ":material/play_arrow:", type="primary",
        width="stretch",
    )  # fmt: skip
    step.button(t("nn_pg.step"), key="pg_step", on_click=_step_once,
                icon=":material/skip_next:", width="stretch")  # fmt: skip
    reset.button(t("nn_pg.reset"), key="pg_reset", on_click=_reset,
                 icon=":material/restart_alt:", width="stretch")  # fmt: skip
    return playing


def live_view(playing: bool) -> None:
    """Draw the decision map and loss curves; while playing, rerun alone every tick."""
    st.fragment(_live_body, run_every=TICK_SECONDS if playing else None)(playing)


def _live_body(playing: bool) -> None:
    playground: Playground = st.session_state["pg_run"]
    # A timer tick that the browser sent before it learned about a Pause click still reruns
    # this fragment with playing=True, so the session state, set by the click, decides.
    if playing and st.session_state.get("pg_playing", False):
        playground.train_steps(STEPS_PER_TICK)
        if playground.step >= MAX_STEPS:
            st.session_state["pg_playing"] = False
            st.rerun()  # a full rerun redraws the Play button and stops the timer

    train_loss, test_loss = playground.losses()
    train_accuracy, test_accuracy = playground.accuracy()
    columns = st.columns(5)
    columns[0].metric(t("nn_pg.steps"), f"{playground.step}")
    columns[1].metric(t("nn_pg.train_loss"), f"{train_loss:.4f}")
    columns[2].metric(t("nn_pg.test_loss"), f"{test_loss:.4f}")
    columns[3].metric(t("nn_pg.train_accuracy"), f"{train_accuracy:.1%}")
    columns[4].metric(t("nn_pg.test_accuracy"), f"{test_accuracy:.1%}")

    data = playground.data
    points = (data.x_train.numpy(), data.y_train.numpy(), data.x_test.numpy(), data.y_test.numpy())
    axis, probs = playground.decision_grid()
    labels = {
        "title": t("nn_pg.map_title"), "prob": t("nn_pg.prob"), "train": t("nn_pg.train"),
        "test": t("nn_pg.test"), "class0": t("nn_pg.class0"), "class1": t("nn_pg.class1"),
    }  # fmt: skip
    st.plotly_chart(decision_figure(axis, probs, points, labels), width="stretch", key="pg_map")

    steps, train, test = zip(*playground.history, strict=True)
    curves = {t("nn_pg.train_loss"): list(train), t("nn_pg.test_loss"): list(test)}
    curve_labels = {"title": t("nn_pg.loss_title"), "x": term("step"), "y": t("nn_pg.loss_axis")}
    st.plotly_chart(
        curves_figure(list(steps), curves, curve_labels), width="stretch", key="pg_curves"
    )
    if playground.step >= MAX_STEPS:
        st.caption(t("nn_pg.max_steps", steps=MAX_STEPS))
