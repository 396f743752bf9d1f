"""The 2-D playground: datasets, the MLP, and training to low loss."""

import pytest
import torch

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.playground import (
    DATASETS,
    Playground,
    PlaygroundConfig,
    build_mlp,
    make_dataset,
    same_run,
)


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_shapes_and_labels(name):
    data = make_dataset(name, n=200, noise=0.1, test_share=0.25, seed=1)

    assert data.x_train.shape == (150, 2)
    assert data.x_test.shape == (50, 2)
    assert data.y_train.dtype == torch.float32
    assert set(data.y_train.unique().tolist()) == {0.0, 1.0}
    assert data.x_train.abs().max() < 2.0


def test_dataset_is_reproducible_from_seed():
    a = make_dataset("spirals", seed=5)
    b = make_dataset("spirals", seed=5)
    c = make_dataset("spirals", seed=6)

    assert torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.x_train, c.x_train)


def test_unknown_dataset_raises():
    with pytest.raises(LocalizedError) as info:
        make_dataset("moons")

    assert info.value.key == "nn_pg.error_dataset"


def test_mlp_output_shape():
    model = build_mlp(layers=3, neurons=5, activation="relu")

    assert model(torch.zeros(7, 2)).shape == (7, 1)


def test_zero_hidden_layers_is_logistic_regression():
    model = build_mlp(layers=0, neurons=4, activation="tanh")

    assert len(model) == 1


def test_circles_reach_low_loss():
    playground = Playground(PlaygroundConfig(dataset="circles", neurons=8, lr=0.3, seed=0))
    initial_loss, _ = playground.losses()

    for _ in range(40):
        playground.train_steps(20)

    train_loss, test_loss = playground.losses()
    _, test_accuracy = playground.accuracy()
    assert playground.step == 800
    assert initial_loss > 0.6
    assert train_loss < 0.1
    assert test_loss < 0.1
    assert test_accuracy > 0.95


def test_same_seed_trains_identically():
    a = Playground(PlaygroundConfig(seed=3))
    b = Playground(PlaygroundConfig(seed=3))

    a.train_steps(30)
    b.train_steps(30)

    assert a.losses() == b.losses()


def test_history_records_initial_and_chunk_losses():
    playground = Playground(PlaygroundConfig())

    playground.train_steps(10)
    playground.train_steps(5)

    assert [step for step, _, _ in playground.history] == [0, 10, 15]


def test_hyperparameter_change_keeps_training_state():
    playground = Playground(PlaygroundConfig(lr=0.1))
    playground.train_steps(10)

    playground.set_hyperparameters(lr=0.5, batch_size=8, l2=0.01)

    assert playground.step == 10
    assert playground.optimizer.param_groups[0]["lr"] == 0.5
    assert playground.optimizer.param_groups[0]["weight_decay"] == 0.01
    assert playground.optimizer.param_groups[1]["weight_decay"] == 0.0
    assert playground.config.batch_size == 8


def test_same_run_ignores_only_hyperparameters():
    base = PlaygroundConfig()

    assert same_run(base, PlaygroundConfig(lr=1.0, batch_size=4, l2=0.1))
    assert not same_run(base, PlaygroundConfig(neurons=3))
    assert not same_run(base, PlaygroundConfig(seed=9))


def test_decision_grid_is_probability_map():
    playground = Playground(PlaygroundConfig())

    axis, probs = playground.decision_grid(resolution=20)

    assert axis.shape == (20,)
    assert probs.shape == (20, 20)
    assert probs.min() >= 0.0
    assert probs.max() <= 1.0


def test_playground_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)

    Playground(PlaygroundConfig(seed=4))

    assert torch.equal(torch.rand(3), expected)
