"""Timings of this machine's kernels, measured once and remembered.

Which precision, memory format and convolution kernel is fastest is measured on the real model when a run starts
(see device.py and models/gemm_conv.py). At 128 px that measuring takes most of a minute, and its answer only
depends on the CPU, the torch build, the thread count and the layer shapes, so it is kept in the user's cache
folder under exactly that key. A new CPU, torch version or model shape is measured afresh; deleting
``timings.json`` forgets everything.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from faceforge.fileio import atomic_write_text

log = logging.getLogger(__name__)

_FILE = "timings.json"
_MAX_ENTRIES = 256
FORMAT = 1


def _path():
    from faceforge.paths import cache_dir

    return cache_dir() / _FILE


def machine_key() -> dict[str, Any]:
    import torch

    from faceforge.device import cpu_name

    return {"cpu": cpu_name(), "torch": torch.__version__, "threads": torch.get_num_threads()}


def _load() -> dict[str, Any]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
        return data["entries"] if data.get("format") == FORMAT and isinstance(data.get("entries"), dict) else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # missing or damaged: measure again


def remembered(kind: str, key: dict[str, Any], measure: Callable[[], Any]) -> tuple[Any, bool]:
    """``measure()``'s JSON-able result for ``(kind, key)`` on this machine: from the file if it was measured
    before, else measured now and stored. Returns (result, whether it was remembered)."""
    full = json.dumps({"kind": kind, **machine_key(), **key}, sort_keys=True, default=str)
    entries = _load()
    if full in entries:
        return entries[full], True
    result = measure()
    entries = _load()  # another process may have added entries meanwhile
    entries[full] = result
    if len(entries) > _MAX_ENTRIES:  # oldest first (dicts keep insertion order)
        entries = dict(list(entries.items())[-_MAX_ENTRIES:])
    try:
        atomic_write_text(_path(), json.dumps({"format": FORMAT, "entries": entries}))
    except OSError as exc:  # a read-only or full cache folder costs a re-measurement next time, nothing more
        log.info("could not remember timings: %s", exc)
    return result, False
