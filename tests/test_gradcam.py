import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnlab.gradcam import (
    ClassLogit,
    GradCAM,
    cam_layer_choices,
    default_target_layer,
    heatmap_rgb,
    overlay,
    spatial_layers,
    upsample_and_normalize,
)
from cnnlab.models import CNNConfig, SmallCNN


class TinyNet(nn.Module):
    """conv -> ReLU -> conv (the Grad-CAM layer) -> ReLU(inplace) -> flatten -> linear."""

    def __init__(self, in_channels: int = 1, size: int = 8, classes: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1, stride=2)
        self.act = nn.ReLU(inplace=True)
        self.fc = nn.Linear(4 * (size // 2) ** 2, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.act(self.features(x)), 1))


class PooledNet(nn.Module):
    """conv -> global average pool -> linear: the CAM architecture of Zhou et al. (2016)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 5, 3, padding=1)
        self.fc = nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean(dim=(2, 3)))


def reference_cam(model: TinyNet, x: torch.Tensor, class_index: int) -> np.ndarray:
    """Grad-CAM written out step by step, with the gradient from torch.autograd.grad."""
    activations = model.features(x)  # (N, K, h, w)
    logits = model.fc(torch.flatten(F.relu(activations), 1))
    (gradients,) = torch.autograd.grad(logits[:, class_index].sum(), activations)
    alpha = gradients.mean(dim=(2, 3))
    cam = F.relu((alpha[:, :, None, None] * activations).sum(dim=1))
    up = F.interpolate(cam[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)
    up = up[:, 0]
    peak = up.amax(dim=(1, 2), keepdim=True)
    return (up / peak).detach().numpy()


@pytest.fixture
def tiny() -> TinyNet:
    torch.manual_seed(0)
    return TinyNet().eval()


def test_gradcam_matches_reference(tiny):
    torch.manual_seed(1)
    x = torch.randn(1, 1, 8, 8)
    with GradCAM(tiny, "conv2") as cam:
        result = cam(x, ClassLogit(2))
    expected = reference_cam(tiny, x, 2)
    assert result.heatmap.shape == (1, 8, 8)
    np.testing.assert_allclose(result.heatmap, expected, atol=1e-5)


def test_gradcam_scores_are_logits(tiny):
    x = torch.randn(2, 1, 8, 8)
    with GradCAM(tiny, "conv2") as cam:
        result = cam(x, ClassLogit(1))
    np.testing.assert_allclose(result.scores, tiny(x)[:, 1].detach().numpy(), atol=1e-6)


def test_gradcam_batch_equals_single_images(tiny):
    x = torch.randn(3, 1, 8, 8)
    with GradCAM(tiny, "conv2") as cam:
        batch = cam(x, ClassLogit(0)).heatmap
        singles = [cam(x[i : i + 1], ClassLogit(0)).heatmap[0] for i in range(3)]
    np.testing.assert_allclose(batch, np.stack(singles), atol=1e-5)


def test_gradcam_alpha_for_pooled_linear_head():
    # With a global average pool before a linear layer, dy/dA^k_ij = w_ck / (h * w), so
    # Grad-CAM's alpha is the class's weight row divided by the number of positions.
    torch.manual_seed(0)
    model = PooledNet().eval()
    x = torch.randn(1, 1, 6, 6)
    with GradCAM(model, "conv") as cam:
        result = cam(x, ClassLogit(1))
    expected_alpha = model.fc.weight[1].detach().numpy() / 36
    np.testing.assert_allclose(result.alpha[0], expected_alpha, rtol=1e-5)

    activations = model.conv(x)[0].detach().numpy()
    expected_coarse = np.maximum((expected_alpha[:, None, None] * activations).sum(axis=0), 0)
    np.testing.assert_allclose(result.coarse[0], expected_coarse, rtol=1e-4, atol=1e-6)


def test_gradcam_range_and_peak(tiny):
    x = torch.randn(4, 1, 8, 8)
    with GradCAM(tiny, "conv2") as cam:
        result = cam(x, ClassLogit(0))
    assert result.heatmap.dtype == np.float32
    assert result.heatmap.min() >= 0.0
    assert result.heatmap.max() <= 1.0
    for heatmap, coarse, peak in zip(result.heatmap, result.coarse, result.peak, strict=True):
        expected_max = 1.0 if coarse.max() > 0 else 0.0
        assert heatmap.max() == pytest.approx(expected_max, abs=1e-6)
        # Bilinear interpolation never exceeds the largest coarse value.
        assert peak <= coarse.max() + 1e-6


def test_gradcam_without_evidence_is_zero():
    coarse = torch.zeros(1, 3, 3)
    heatmap, peak = upsample_and_normalize(coarse, (9, 9))
    assert heatmap.shape == (1, 9, 9)
    assert float(heatmap.abs().max()) == 0.0
    assert float(peak[0]) == 0.0


def test_gradcam_survives_inplace_relu(tiny):
    # conv2's output feeds a ReLU(inplace=True); the kept activations must stay pre-ReLU.
    x = torch.randn(1, 1, 8, 8)
    with GradCAM(tiny, "conv2") as cam:
        result = cam(x, ClassLogit(1))
    np.testing.assert_allclose(result.heatmap, reference_cam(tiny, x, 1), atol=1e-5)


def test_gradcam_hooks_removed_after_use(tiny):
    with GradCAM(tiny, "conv2") as cam:
        cam(torch.randn(1, 1, 8, 8), ClassLogit(0))
        assert len(tiny.conv2._forward_hooks) == 1
    assert len(tiny.conv2._forward_hooks) == 0


def test_gradcam_hooks_removed_after_exception(tiny):
    def broken_target(_logits: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("target failed")

    with pytest.raises(RuntimeError, match="target failed"), GradCAM(tiny, "conv2") as cam:
        cam(torch.randn(1, 1, 8, 8), broken_target)
    assert len(tiny.conv2._forward_hooks) == 0


def test_gradcam_release_is_idempotent(tiny):
    cam = GradCAM(tiny, "conv2")
    cam.release()
    cam.release()
    assert len(tiny.conv2._forward_hooks) == 0
    with pytest.raises(RuntimeError):
        cam(torch.randn(1, 1, 8, 8), ClassLogit(0))


def test_gradcam_leaves_parameter_grads_alone(tiny):
    with GradCAM(tiny, "conv2") as cam:
        cam(torch.randn(1, 1, 8, 8), ClassLogit(0))
    assert all(p.grad is None for p in tiny.parameters())


def test_gradcam_inside_inference_mode(tiny):
    x = torch.randn(1, 1, 8, 8)
    with torch.inference_mode(), GradCAM(tiny, "conv2") as cam:
        result = cam(x, ClassLogit(2))
    np.testing.assert_allclose(result.heatmap, reference_cam(tiny, x, 2), atol=1e-5)


def test_gradcam_unknown_layer(tiny):
    with pytest.raises(ValueError, match="no module named"):
        GradCAM(tiny, "conv9")


def test_gradcam_rejects_layer_called_twice():
    shared = nn.Conv2d(2, 2, 3, padding=1)
    model = nn.Sequential()
    model.add_module("stem", nn.Conv2d(1, 2, 3, padding=1))
    model.add_module("twice", nn.Sequential(shared, shared))
    model.add_module("head", nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 2)))
    with pytest.raises(ValueError, match="ran 2 times"), GradCAM(model, "twice.0") as cam:
        cam(torch.randn(1, 1, 4, 4), ClassLogit(0))
    assert len(shared._forward_hooks) == 0


def test_gradcam_single_image_with_batchnorm_in_train_mode():
    # A model left in train mode would make BatchNorm fail on one 1x1 image; Grad-CAM runs
    # it in eval mode and restores the mode afterwards.
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2))  # fmt: skip
    model.train()
    with GradCAM(model, "0") as cam:
        result = cam(torch.randn(1, 1, 5, 5), ClassLogit(0))
    assert result.heatmap.shape == (1, 5, 5)
    assert model.training


def test_gradcam_on_lab_cnn_grayscale():
    torch.manual_seed(0)
    model = SmallCNN(CNNConfig()).eval()  # 1 x 28 x 28 input, two conv blocks
    layers = spatial_layers(model, (1, 28, 28))
    target = default_target_layer(layers)
    with GradCAM(model, target) as cam:
        result = cam(torch.randn(1, 1, 28, 28), ClassLogit(3))
    assert target == "features"
    assert result.coarse.shape == (1, 7, 7)
    assert result.heatmap.shape == (1, 28, 28)


@pytest.mark.parametrize(
    ("name", "default", "stage"),
    [("resnet18", "layer4", "layer3"), ("mobilenet_v3_small", "features", "features.8")],
)
def test_target_layer_for_torchvision_models(name, default, stage):
    model = torchvision.models.get_model(name, weights=None).eval()
    layers = spatial_layers(model, (3, 64, 64))  # 64 px keeps the test fast; names match 224
    choices = [layer.name for layer in cam_layer_choices(layers, [stage])]
    assert default_target_layer(layers) == default
    assert choices[-1] == default
    assert stage in choices
    assert all(isinstance(dict(model.named_modules())[n], nn.Conv2d)
               for n in choices if n not in (default, stage))  # fmt: skip


def test_mobilenet_skips_squeeze_excitation_convs():
    # The SE blocks' 1x1 convs run on pooled 1x1 maps: no layout to explain.
    model = torchvision.models.get_model("mobilenet_v3_small", weights=None).eval()
    names = [layer.name for layer in spatial_layers(model, (3, 64, 64))]
    assert not any(".fc1" in name or ".fc2" in name for name in names)


def test_heatmap_rgb_ends_of_viridis():
    colors = heatmap_rgb(np.array([[0.0, 1.0]]))
    # Viridis runs from dark purple (68, 1, 84) to yellow (253, 231, 37).
    np.testing.assert_allclose(colors[0, 0] * 255, [68, 1, 84], atol=2)
    np.testing.assert_allclose(colors[0, 1] * 255, [253, 231, 37], atol=2)


def test_overlay_blend():
    image = np.full((4, 4, 3), 0.5, dtype=np.float32)
    heatmap = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    blended = overlay(image, heatmap, opacity=0.25)
    expected = 0.75 * image + 0.25 * heatmap_rgb(heatmap)
    assert blended.shape == (4, 4, 3)
    np.testing.assert_allclose(blended, expected, atol=1e-6)


def test_overlay_grayscale_image():
    blended = overlay(np.zeros((3, 3)), np.ones((3, 3)), opacity=0.0)
    assert blended.shape == (3, 3, 3)
    assert float(blended.max()) == 0.0


def test_overlay_size_mismatch():
    with pytest.raises(ValueError, match="differ in size"):
        overlay(np.zeros((3, 3, 3)), np.zeros((4, 4)))
