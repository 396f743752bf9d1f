"""Server-side time of the image lessons' work on a 1-megapixel photo.

Times (median of 7 runs) a color conversion (RGB -> HSV and Lab), a 5x5 Gaussian
convolution through ``cnnlab.convolution.apply_kernel`` (zero and reflect padding, next to
a plain depthwise ``F.conv2d`` on a contiguous NCHW tensor), and the lab model's feature maps
for one photo (``prepare_image`` + ``run_with_feature_maps``). The reference is one plain
``cv2.GaussianBlur`` 5x5 on the same image, measured in the same run.
Target on 2 CPU cores: < 100 ms each. Usage: ``python bench/image_ops.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnlab.colorspaces import convert  # noqa: E402
from cnnlab.convolution import apply_kernel  # noqa: E402
from cnnlab.data import load_mnist_5k  # noqa: E402
from cnnlab.inspection import block_outputs, prepare_image, run_with_feature_maps  # noqa: E402
from cnnlab.kernels import preset_kernel  # noqa: E402
from cnnlab.models import build_model, preset  # noqa: E402


def median_ms(work, repeats: int = 7) -> float:
    work()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)  # 1 megapixel
    kernel = preset_kernel("gaussian", size=5)
    data = load_mnist_5k()
    model = build_model(preset("small")).eval()
    nchw = torch.tensor(photo).permute(2, 0, 1)[None].float().div(255).contiguous()
    weight = torch.tensor(kernel, dtype=torch.float32).expand(3, 1, 5, 5).contiguous()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, image 1000x1000 RGB")

    results = {
        "reference cv2.GaussianBlur 5x5": median_ms(lambda: cv2.GaussianBlur(photo, (5, 5), 0)),
        "color conversion RGB->HSV": median_ms(lambda: convert(photo, "hsv")),
        "color conversion RGB->Lab": median_ms(lambda: convert(photo, "lab")),
        "5x5 convolution (conv2d, per channel)": median_ms(
            lambda: apply_kernel(
                photo,
                kernel,
                stride=1,
                padding=2,
                padding_mode="zeros",
                dilation=1,
                color_mode="per_channel",
            )  # fmt: skip
        ),
        "5x5 convolution, reflect padding": median_ms(
            lambda: apply_kernel(photo, kernel, padding=2, padding_mode="reflect")
        ),
        "  contiguous NCHW conv2d (for comparison)": median_ms(
            lambda: F.conv2d(nchw, weight, padding=2, groups=3)
        ),
        "lab model feature maps": median_ms(
            lambda: run_with_feature_maps(
                model, prepare_image(photo, 1, 28, data.mean, data.std).tensor, block_outputs(model)
            )
        ),
    }
    reference = results["reference cv2.GaussianBlur 5x5"]
    for name, ms in results.items():
        print(f"{name:40s} {ms:8.1f} ms  ({ms / reference:5.1f} x reference)  target < 100 ms")


if __name__ == "__main__":
    main()
