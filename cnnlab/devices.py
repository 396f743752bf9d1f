"""Device choice: CUDA, then Apple MPS, then CPU, and what mixed precision each allows."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class DeviceInfo:
    """The compute device as the sidebar shows it."""

    type: str  # "cuda", "mps" or "cpu"
    name: str  # e.g. "NVIDIA H200" or the CPU's model name
    threads: int  # torch's intra-op threads (CPU work)


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def pick_device(request: str = "auto") -> torch.device:
    """Return the device for ``request``: ``auto`` (CUDA > MPS > CPU), ``cpu``, ``cuda``, ``mps``.

    Raises ``ValueError`` for an unknown name or a device this machine does not have.
    """
    if request not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {request!r}; expected one of {DEVICE_CHOICES}")
    if request == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if request == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available; use 'auto'")
    if request == "mps" and not mps_available():
        raise ValueError("device 'mps' requested but Apple MPS is not available; use 'auto'")
    return torch.device(request)


def _cpu_name() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_device(device: torch.device) -> DeviceInfo:
    """Return the device's type and human-readable name."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple GPU (MPS)"
    else:
        name = _cpu_name()
    return DeviceInfo(type=device.type, name=name, threads=torch.get_num_threads())


def supports_amp(device: torch.device) -> bool:
    """Return whether the lab offers automatic mixed precision on ``device`` (CUDA only)."""
    return device.type == "cuda"


def amp_dtype(device: torch.device) -> torch.dtype:
    """Return bfloat16 where the GPU supports it (no loss scaling needed), else float16."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def configure_threads(threads: int | None = None) -> int:
    """Set torch's process-wide CPU thread count once at start-up and return it.

    ``CNNLAB_TORCH_THREADS`` overrides; the default keeps torch's own choice (one per
    core), which is the fastest for a single training job.
    """
    env = os.environ.get("CNNLAB_TORCH_THREADS")
    if threads is None and env:
        threads = int(env)
    if threads:
        torch.set_num_threads(threads)
        log.info("torch CPU threads set to %d", threads)
    return torch.get_num_threads()
