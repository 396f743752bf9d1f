"""Paths of cnnlab's shipped assets and of its download folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
SAMPLES_DIR = ASSETS_DIR / "samples"
MNIST_5K_PATH = ASSETS_DIR / "mnist_5k.npz"


def data_dir() -> Path:
    """Return the folder for downloaded datasets.

    ``CNNLAB_DATA_DIR`` sets it; the default is ``$XDG_CACHE_HOME/cnnlab`` (or
    ``~/.cache/cnnlab``), outside the project so a clone stays clean.
    """
    configured = os.environ.get("CNNLAB_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "cnnlab"
