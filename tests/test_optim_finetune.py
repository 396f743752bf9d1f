"""Fine-tuning lesson: task splits, head replacement, freezing, the trial chain, ResNet-18."""

import pytest
import torch
from optim_support import tiny_mnist

from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.models import build_model, preset
from cnnlab.optim.finetune import (
    FINE_TUNE_RUNS,
    FineTuneStudy,
    ResNetStudy,
    digit_task,
    finetune_trials,
    freeze_except,
    gray_shapes,
    imagenet_normalized,
    load_resnet18,
    replace_head,
    resnet18_weights_path,
    resnet_trials,
    trainable_parameters,
)

LABELS = {name: name for name in FINE_TUNE_RUNS}


def test_digit_task_relabels():
    data = tiny_mnist(200)
    task = digit_task(data, (5, 6, 7, 8, 9))
    assert task.classes == ("5", "6", "7", "8", "9")
    assert set(task.y_train.tolist()) == {0, 1, 2, 3, 4}
    original = data.y_train[torch.isin(data.y_train, torch.tensor([5, 6, 7, 8, 9]))]
    assert torch.equal(task.y_train, original - 5)


def test_digit_task_few_labels():
    task = digit_task(tiny_mnist(200), (5, 6, 7, 8, 9), per_class=3)
    assert torch.bincount(task.y_train).tolist() == [3, 3, 3, 3, 3]
    assert len(task.y_test) > 15


def test_gray_shapes_match_mnist_input():
    data = gray_shapes()
    assert data.x_train.shape[1:] == (1, 28, 28)
    assert data.classes == ("circle", "square", "triangle", "cross")


def test_replace_head_keeps_features():
    model = build_model(preset("tiny"))
    new = replace_head(model, 5)
    assert new.head[-1].out_features == 5
    assert torch.equal(new.features[0].conv.weight, model.features[0].conv.weight)
    assert new.features[0].conv.weight is not model.features[0].conv.weight


def test_freeze_except_head():
    model = freeze_except(build_model(preset("tiny")), "head")
    trainable, total = trainable_parameters(model)
    assert trainable == sum(p.numel() for p in model.head.parameters())
    assert trainable < total


def test_unknown_source_rejected():
    with pytest.raises(ValueError, match="unknown source"):
        finetune_trials(FineTuneStudy(source="imagenet"), LABELS)


def test_target_runs_share_steps():
    study = FineTuneStudy(per_class=4, target_epochs=3, batch_size=8)
    trials = finetune_trials(study, LABELS)
    assert [t.label for t in trials] == list(FINE_TUNE_RUNS)
    assert {t.config.epochs for t in trials[1:]} == {3}
    assert trials[4].config.lr_multipliers == {"features": 0.1}
    assert study.target_steps == 3 * 3


def test_chain_transfers_and_freezes():
    data = tiny_mnist(300)
    study = FineTuneStudy(per_class=4, source_epochs=1, target_epochs=2, batch_size=10)
    job = TrainingJob(finetune_trials(study, LABELS), lambda: data, JobSlots(1)).start()
    job.join(180)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    source, scratch, full, frozen, discriminative = job.results
    assert source.model.head[-1].out_features == 5
    assert [len(r.steps) for r in snapshot.runs[1:]] == [4, 4, 4, 4]
    # The frozen run's features are still the source model's, the full run's moved.
    source_weight = source.model.features[0].conv.weight
    assert torch.equal(frozen.model.features[0].conv.weight, source_weight)
    assert not torch.equal(full.model.features[0].conv.weight, source_weight)
    assert not torch.equal(scratch.model.features[0].conv.weight, source_weight)


def test_resnet_weights_path_in_hub_dir(tmp_path):
    path = resnet18_weights_path(tmp_path)
    assert path.parent == tmp_path / "checkpoints"
    assert path.name.startswith("resnet18-")
    assert not path.exists()


def test_resnet_loads_local_weights(tmp_path):
    from torchvision.models import resnet18

    path = resnet18_weights_path(tmp_path)
    path.parent.mkdir(parents=True)
    torch.manual_seed(3)
    reference = resnet18(weights=None)
    torch.save(reference.state_dict(), path)
    model = load_resnet18(4, path)
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert model.fc.out_features == 4
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 4)


def test_imagenet_normalized_round_trip():
    from cnnlab.shapes import ShapesConfig, load_shapes

    data = load_shapes(ShapesConfig(samples_per_class=8))
    renormed = imagenet_normalized(data)
    torch.testing.assert_close(renormed.denormalize(renormed.x_train), data.denormalize(data.x_train),
                               atol=1e-5, rtol=0)  # fmt: skip


def test_resnet_trials_structure(tmp_path):
    trials = resnet_trials(
        ResNetStudy(), tmp_path / "w.pth", {"scratch": "s", "all": "a", "frozen": "f"}
    )
    assert [t.label for t in trials] == ["s", "a", "f"]
    shapes = trials[0].prepare_data(tiny_mnist())  # the trial ignores MNIST and draws shapes
    assert shapes.x_train.shape[1:] == (3, 32, 32)
    assert shapes.mean == (0.485, 0.456, 0.406)
    model = trials[0].model_factory(shapes)
    assert model(shapes.x_train[:2]).shape == (2, 4)
