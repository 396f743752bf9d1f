"""One-time process set-up, run when ``app.py`` first imports this module.

Streamlit re-executes ``app.py`` on every run but imports modules once, so work here
happens once per server process.
"""

from __future__ import annotations

import gc
import logging

import torch
import torchvision  # noqa: F401  (imported here so its objects are frozen below)

from cnnlab.devices import configure_threads

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

# torch's thread count is process-wide, so it is decided once here.
TORCH_THREADS = configure_threads()

# Streamlit runs a full gc.collect() after every script run (fragment polls included); with
# torch's many long-lived objects that costs ~0.1 s per run. Freezing them moves them out
# of the collector's reach. config.toml also turns runner.postScriptGC off.
gc.collect()
gc.freeze()

torch.manual_seed(0)
