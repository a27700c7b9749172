"""Training: the loop, losses, EMA and snapshots. Plain functions with callbacks; no Qt.

The names below load on first use, so importing a light module of the package (``training.plans``, which the
window reads at start-up) does not import torch and the whole loop before the window is shown."""
from __future__ import annotations

import importlib

_LAZY = {"dump_event": "lifecycle", "resume_run": "lifecycle", "start_run": "lifecycle",
         "TrainResult": "loop", "Trainer": "loop"}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"faceforge.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'faceforge.training' has no attribute {name!r}")
