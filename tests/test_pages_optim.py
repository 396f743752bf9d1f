"""The optimization lessons under AppTest, in both languages, driven by widget keys."""

from __future__ import annotations

import time

import optim_support  # noqa: F401  (one torch thread for the background runs)
import pytest

from cnnlab.i18n import translate

AUGMENTATION = "app_pages/augmentation.py"
BATCHNORM = "app_pages/batchnorm.py"
LEARNING_RATE = "app_pages/learning_rate.py"
REGULARIZATION = "app_pages/regularization.py"
INITIALIZATION = "app_pages/initialization.py"
FINE_TUNING = "app_pages/fine_tuning.py"
HPARAM = "app_pages/hparam_search.py"
INPUT_NORM = "app_pages/input_normalization.py"


def wait_for_experiment(at, key: str, timeout: float = 300.0) -> None:
    """Rerun ``at`` until the experiment ``key`` has finished and been collected."""
    deadline = time.monotonic() + timeout
    while f"{key}_experiment_job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert f"{key}_experiment_job" not in at.session_state, "the experiment did not finish"
    at.run()


def dataframe_column(at, lang: str, key: str, index: int = 0) -> list:
    """Return a column (by translation key) of the ``index``-th dataframe that has it."""
    column = translate(key, lang)
    frames = [frame.value for frame in at.dataframe if column in frame.value.columns]
    return list(frames[index][column])


def test_augmentation_gallery(open_page, lang):
    at = open_page(AUGMENTATION, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_aug.title", lang)
    at.selectbox(key="aug_kind").set_value("rotation").run()
    at.slider(key="aug_rotation_degrees").set_value(90).run()
    assert not at.exception
    code = [c.value for c in at.code]
    assert any("RandomRotation" in c and "90" in c for c in code)


def test_augmentation_mix_table(open_page, lang):
    at = open_page(AUGMENTATION, lang)
    at.radio(key="aug_mix_kind").set_value("cutmix").run()
    assert not at.exception
    soft = at.dataframe[0].value
    rows = soft.drop(columns=[translate("optim_aug.mix_picture", lang)]).sum(axis=1)
    assert all(abs(total - 100) < 0.5 for total in rows)


def test_augmentation_comparison(open_page, lang):
    at = open_page(AUGMENTATION, lang)
    at.select_slider(key="aug_subset").set_value(200)
    at.slider(key="aug_epochs").set_value(2).run()
    at.button(key="aug_train_start").click().run()
    wait_for_experiment(at, "aug")
    assert not at.exception
    runs = dataframe_column(at, lang, "exp.col.run")
    assert len(runs) == 2
    assert runs[0].endswith(translate("optim_aug.run_plain", lang))
    assert runs[1].endswith(translate("optim_aug.run_augmented", lang))
    gaps = dataframe_column(at, lang, "exp.col.gap")
    assert all(gap is not None for gap in gaps)


def test_batchnorm_train_vs_eval(open_page, lang):
    at = open_page(BATCHNORM, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_bn.title", lang)
    at.select_slider(key="bn_mode_batch").set_value(1)
    at.slider(key="bn_mode_channel").set_value(3).run()
    assert not at.exception
    gap = next(m for m in at.metric if m.label == translate("optim_bn.mode_gap", lang))
    assert float(gap.value) > 0
    assert any(v == "γ" for v in at.dataframe[0].value.iloc[:, 0])


def test_batchnorm_folding(open_page, lang):
    at = open_page(BATCHNORM, lang)
    at.button(key="bn_fold_run").click().run()
    assert not at.exception
    diff = next(m for m in at.metric if m.label == translate("optim_bn.fold_diff", lang))
    assert float(diff.value) <= 1e-4
    pairs = next(m for m in at.metric if m.label == translate("optim_bn.fold_pairs", lang))
    assert pairs.value == "4"


def test_batchnorm_comparison(open_page, lang):
    at = open_page(BATCHNORM, lang)
    at.select_slider(key="bn_subset").set_value(500)
    at.slider(key="bn_epochs").set_value(1).run()
    at.button(key="bn_start").click().run()
    wait_for_experiment(at, "bn")
    assert not at.exception
    runs = dataframe_column(at, lang, "exp.col.run")
    assert len(runs) == 2
    assert runs[1].endswith(translate("optim_bn.run_bn", lang))
    stats = [c for c in at.get("plotly_chart") if "bn_stats_chart" in str(c.proto.id)]
    assert stats


def test_learning_rate_range_test(open_page, lang):
    at = open_page(LEARNING_RATE, lang)
    assert not at.exception
    at.select_slider(key="lr_range_steps").set_value(50).run()
    at.button(key="lr_range_start_run").click().run()
    wait_for_experiment(at, "lr_range")
    assert not at.exception
    assert at.button(key="lr_use_suggestion")
    at.button(key="lr_use_suggestion").click().run()
    chosen = at.select_slider(key="lr_base").value
    assert chosen in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
    assert f"{chosen:g}" in at.button(key="lr_use_suggestion").label


def test_learning_rate_schedules_logged(open_page, lang):
    at = open_page(LEARNING_RATE, lang)
    at.select_slider(key="lr_subset").set_value(250)
    at.slider(key="lr_epochs").set_value(1)
    at.multiselect(key="lr_schedules").set_value(["onecycle", "warmup_cosine"]).run()
    at.button(key="lr_sched_start").click().run()
    wait_for_experiment(at, "lr_sched")
    assert not at.exception
    deviations = dataframe_column(at, lang, "optim_lr.col.deviation")
    assert len(deviations) == 2
    assert all(float(d) < 1e-9 for d in deviations)
    assert dataframe_column(at, lang, "optim_lr.col.steps") == [4, 4]


def test_regularization_comparison(open_page, lang):
    at = open_page(REGULARIZATION, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_reg.title", lang)
    at.select_slider(key="reg_subset").set_value(100)
    at.slider(key="reg_epochs").set_value(5)
    at.multiselect(key="reg_remedies").set_value(["dropout", "early_stopping"]).run()
    at.button(key="reg_start").click().run()
    wait_for_experiment(at, "reg")
    assert not at.exception
    runs = dataframe_column(at, lang, "exp.col.run")
    assert len(runs) == 4
    assert runs[0].endswith(translate("optim_reg.baseline", lang))
    assert runs[3].endswith(translate("optim_reg.combined_run", lang))
    epochs = dataframe_column(at, lang, "optim_reg.col.epochs")
    assert epochs[0] == "5 / 5"
    norms = dataframe_column(at, lang, "optim_reg.col.norm")
    assert all(norm > 0 for norm in norms)


def test_initialization_statistics(open_page, lang):
    at = open_page(INITIALIZATION, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_init.title", lang)
    at.slider(key="init_depth").set_value(4)
    at.radio(key="init_activation").set_value("tanh").run()
    assert not at.exception
    assert translate("optim_init.scheme.kaiming", lang) in at.caption[0].value or any(
        translate("optim_init.scheme.kaiming", lang) in c.value for c in at.caption
    )


def test_initialization_symmetry_check(open_page, lang):
    at = open_page(INITIALIZATION, lang)
    at.slider(key="init_depth").set_value(4)
    at.select_slider(key="init_width").set_value(4)
    at.slider(key="init_epochs").set_value(1)
    at.multiselect(key="init_schemes").set_value(["constant", "kaiming"]).run()
    at.button(key="init_start").click().run()
    wait_for_experiment(at, "init")
    assert not at.exception
    identical = dataframe_column(at, lang, "optim_init.col.identical")
    assert identical == [translate("optim_init.yes", lang), translate("optim_init.no", lang)]
    assert len(at.warning) == 1
    at.selectbox(key="init_filter_run").select_index(1).run()
    assert not at.exception


def test_fine_tuning_comparison(open_page, lang):
    at = open_page(FINE_TUNING, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_ft.title", lang)
    at.select_slider(key="ft_per_class").set_value(2)
    at.slider(key="ft_source_epochs").set_value(1)
    at.slider(key="ft_epochs").set_value(2).run()
    at.button(key="ft_start").click().run()
    wait_for_experiment(at, "ft")
    assert not at.exception
    runs = dataframe_column(at, lang, "exp.col.run")
    assert len(runs) == 5
    assert runs[3].endswith(translate("optim_ft.run.frozen", lang))
    trainable = dataframe_column(at, lang, "optim_ft.col.trainable")
    frozen_count, total = trainable[3].replace(",", "").split(" / ")
    assert int(frozen_count) < int(total)


def test_fine_tuning_resnet_availability(open_page, lang):
    at = open_page(FINE_TUNING, lang)
    from cnnlab.optim.finetune import resnet18_weights_path

    if resnet18_weights_path().exists():
        assert at.button(key="ft_resnet_start")
    else:
        assert any(str(resnet18_weights_path()) in info.value for info in at.info)


def wait_for_search(at, timeout: float = 300.0) -> None:
    """Rerun ``at`` until the session's hyper-parameter search has ended."""
    deadline = time.monotonic() + timeout
    while at.session_state["hp_job"].alive and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert not at.session_state["hp_job"].alive, "the search did not finish"
    at.run()


def test_hparam_search_and_send_to_lab(open_page, lang):
    at = open_page(HPARAM, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_hp.title", lang)
    at.slider(key="hp_trials").set_value(3)
    at.slider(key="hp_epochs").set_value(1)
    at.select_slider(key="hp_subset").set_value(250)
    at.checkbox(key="hp_pruning").uncheck().run()
    at.button(key="hp_start").click().run()
    wait_for_search(at)
    assert not at.exception
    states = dataframe_column(at, lang, "optim_hp.col.state")
    assert states == [translate("optim_hp.state.complete", lang)] * 3
    best = at.session_state["hp_job"].study.best_params
    assert len(at.success) == 1
    at.button(key="hp_send").click().run()
    assert not at.exception
    assert at.title[0].value == translate("lab.title", lang)
    assert at.select_slider(key="lab_lr").value == best["lr"]
    assert at.select_slider(key="lab_batch").value == best["batch_size"]
    assert at.select_slider(key="lab_weight_decay").value == best["weight_decay"]
    assert at.selectbox(key="lab_preset").value == best["width"]


def test_input_normalization_statistics(open_page, lang):
    at = open_page(INPUT_NORM, lang)
    assert not at.exception
    assert at.title[0].value == translate("optim_norm.title", lang)
    means = dataframe_column(at, lang, "optim_norm.col.mean")
    assert means == [pytest.approx(0.1310, abs=1e-3)]
    at.radio(key="norm_dataset").set_value("shapes").run()
    assert len(dataframe_column(at, lang, "optim_norm.col.std")) == 3


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
def test_input_normalization_layers(open_page, lang, kind):
    at = open_page(INPUT_NORM, lang)
    at.radio(key="norm_kind").set_value(kind)
    at.slider(key="norm_batch").set_value(3)
    at.select_slider(key="norm_groups").set_value(4).run()
    assert not at.exception
    check = next(m for m in at.metric if m.label == translate("optim_norm.check", lang))
    assert float(check.value) < 1e-4


def test_input_normalization_runs(open_page, lang):
    at = open_page(INPUT_NORM, lang)
    at.select_slider(key="norm_subset").set_value(250)
    at.slider(key="norm_epochs").set_value(1).run()
    at.button(key="norm_start").click().run()
    wait_for_experiment(at, "norm")
    assert not at.exception
    runs = dataframe_column(at, lang, "exp.col.run")
    assert [r.split(" ", 1)[1] for r in runs] == [translate(f"optim_norm.scale.{s}", lang) for s in
                                                  ("normalized", "unit", "bytes")]  # fmt: skip
