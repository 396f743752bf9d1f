"""Device choice (CUDA, then MPS, then CPU) and the mixed-precision rules, without a GPU.

The CUDA paths themselves need a GPU; these tests pin the decisions around them.
"""

from __future__ import annotations

import pytest
import torch

from cnnlab import devices
from cnnlab.data import load_mnist_5k
from cnnlab.training import TrainConfig, train


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(devices, "mps_available", lambda: mps)
    assert devices.pick_device("auto").type == expected


def test_missing_device_is_rejected(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "mps_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        devices.pick_device("cuda")
    with pytest.raises(ValueError, match="MPS is not available"):
        devices.pick_device("mps")
    with pytest.raises(ValueError, match="unknown device"):
        devices.pick_device("tpu")


def test_amp_offered_on_cuda_only():
    assert devices.supports_amp(torch.device("cuda"))
    assert not devices.supports_amp(torch.device("cpu"))
    assert not devices.supports_amp(torch.device("mps"))


def test_amp_dtype_follows_bf16_support(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert devices.amp_dtype(torch.device("cuda")) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert devices.amp_dtype(torch.device("cuda")) == torch.float16
    assert devices.amp_dtype(torch.device("cpu")) == torch.float16


def test_amp_request_on_cpu_trains_in_float32():
    # The lab's mixed-precision switch is ignored on CPU, so the run equals one without it.
    data = load_mnist_5k()
    config = TrainConfig(device="cpu", max_steps=5, batch_size=32)
    plain = train(config, data)
    with_amp = train(TrainConfig(device="cpu", max_steps=5, batch_size=32, amp=True), data)
    for a, b in zip(plain.model.parameters(), with_amp.model.parameters(), strict=True):
        assert a.dtype == torch.float32
        assert torch.equal(a, b)
