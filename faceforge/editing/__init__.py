"""Sampling and editing over trained generators (no Qt).

The names below load on first use, so the Edit pane's light state classes (``editing.state``) do not import torch
before the window is shown."""
from __future__ import annotations

import importlib

__all__ = ["LoadedGenerator", "parse_settings", "seeded_z"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("faceforge.editing.generator"), name)
    raise AttributeError(f"module 'faceforge.editing' has no attribute {name!r}")
