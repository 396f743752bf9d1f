"""A procedural colored-shapes dataset: RGB images of one shape each, drawn with OpenCV.

Useful where color matters: the label can be the shape, the color, or both. Everything is
deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cnnlab.data import LabData, from_uint8, stratified_split

SHAPES = ("circle", "square", "triangle", "cross")
COLORS = {  # RGB
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 30),
}
TARGETS = ("shape", "color", "shape_color")


@dataclass(frozen=True)
class ShapesConfig:
    shapes: tuple[str, ...] = SHAPES
    colors: tuple[str, ...] = tuple(COLORS)
    target: str = "shape"  # what the label is: "shape", "color" or "shape_color"
    image_size: int = 32
    min_size: float = 0.3  # shape size as a fraction of the image side
    max_size: float = 0.7
    noise_std: float = 8.0  # Gaussian pixel noise, in 0-255 units
    background: int = 0  # gray level of the background, 0-255
    samples_per_class: int = 300
    n_test: int | None = None  # default: 20 % of all samples
    seed: int = 0


def _validate(config: ShapesConfig) -> None:
    unknown = set(config.shapes) - set(SHAPES)
    if unknown or not config.shapes:
        raise ValueError(f"shapes must be a non-empty subset of {SHAPES}, got {config.shapes}")
    unknown = set(config.colors) - set(COLORS)
    if unknown or not config.colors:
        raise ValueError(f"colors must be a non-empty subset of {tuple(COLORS)}")
    if config.target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {config.target!r}")
    if not 8 <= config.image_size <= 256:
        raise ValueError(f"image_size must be in 8..256, got {config.image_size}")
    if not 0 < config.min_size <= config.max_size <= 1:
        raise ValueError("sizes must satisfy 0 < min_size <= max_size <= 1")


def class_names(config: ShapesConfig) -> tuple[str, ...]:
    """Return the class names in label order."""
    if config.target == "shape":
        return config.shapes
    if config.target == "color":
        return config.colors
    return tuple(f"{c} {s}" for c in config.colors for s in config.shapes)


def draw_shape(
    canvas: np.ndarray, shape: str, center: tuple[int, int], radius: int, color, angle: float
) -> None:
    """Draw a filled ``shape`` on the uint8 RGB ``canvas`` (H, W, 3) in place."""
    cx, cy = center
    if shape == "circle":
        cv2.circle(canvas, (cx, cy), radius, color, thickness=-1, lineType=cv2.LINE_AA)
        return
    if shape == "square":
        corners = [(radius, radius), (-radius, radius), (-radius, -radius), (radius, -radius)]
    elif shape == "triangle":
        corners = [
            (radius * np.cos(a), radius * np.sin(a)) for a in (-np.pi / 2, np.pi / 6, 5 * np.pi / 6)
        ]
    else:  # cross: two bars
        arm = max(1, radius // 3)
        corners_h = [(-radius, -arm), (radius, -arm), (radius, arm), (-radius, arm)]
        corners_v = [(y, x) for x, y in corners_h]
        for bar in (corners_h, corners_v):
            _fill_rotated(canvas, bar, center, angle, color)
        return
    _fill_rotated(canvas, corners, center, angle, color)


def _fill_rotated(canvas, corners, center, angle, color) -> None:
    cos, sin = np.cos(angle), np.sin(angle)
    points = np.array(
        [(center[0] + x * cos - y * sin, center[1] + x * sin + y * cos) for x, y in corners]
    )
    cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], color, lineType=cv2.LINE_AA)


def generate_shapes(config: ShapesConfig) -> tuple[np.ndarray, np.ndarray]:
    """Draw the dataset: uint8 images (N, S, S, 3) RGB and int64 labels (N,)."""
    _validate(config)
    rng = np.random.default_rng(config.seed)
    names = class_names(config)
    images, labels = [], []
    for color in config.colors:
        for shape in config.shapes:
            if config.target == "shape":
                label = config.shapes.index(shape)
            elif config.target == "color":
                label = config.colors.index(color)
            else:
                label = names.index(f"{color} {shape}")
            # Same number of images per class whatever the target.
            repeats = {"shape": len(config.colors), "color": len(config.shapes)}
            count = max(1, round(config.samples_per_class / repeats.get(config.target, 1)))
            for _ in range(count):
                images.append(_draw_one(rng, config, shape, COLORS[color]))
                labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _draw_one(rng: np.random.Generator, config: ShapesConfig, shape: str, color) -> np.ndarray:
    size = config.image_size
    canvas = np.full((size, size, 3), config.background, dtype=np.uint8)
    radius = int(rng.uniform(config.min_size, config.max_size) * size / 2)
    radius = max(2, radius)
    cx = int(rng.integers(radius, size - radius + 1))
    cy = int(rng.integers(radius, size - radius + 1))
    draw_shape(canvas, shape, (cx, cy), radius, color, angle=float(rng.uniform(0, np.pi)))
    if config.noise_std > 0:
        noise = rng.normal(0, config.noise_std, canvas.shape)
        canvas = np.clip(canvas + noise, 0, 255).astype(np.uint8)
    return canvas


def load_shapes(config: ShapesConfig = ShapesConfig()) -> LabData:
    """Generate the dataset and split it (stratified, by ``config.seed``) as ``LabData``."""
    images, labels = generate_shapes(config)
    n_test = config.n_test if config.n_test is not None else len(labels) // 5
    train, test = stratified_split(labels, n_test, config.seed)
    return from_uint8("shapes", class_names(config), images, labels, train, test)
