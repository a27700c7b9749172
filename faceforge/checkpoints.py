"""Safe checkpoint files: a dict of tensors and plain values, written atomically, loaded with
``torch.load(weights_only=True)`` so a file from an unknown source can never run code.

A checkpoint holds G, D, G_ema, both optimisers, the step, RNG states and the run's config (as JSON text), in the
nanoGPT style; ``faceforge generate --checkpoint FILE`` needs nothing else.
"""
from __future__ import annotations

import io
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

from faceforge.fileio import atomic_write_bytes

FORMAT = "faceforge-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^ckpt-(\d{8})\.pt$")


class CheckpointError(ValueError):
    """A file that is not a usable FaceForge checkpoint; the message says why in plain words."""


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:08d}.pt"


def step_of(path: Path) -> int | None:
    m = _NAME.match(Path(path).name)
    return int(m.group(1)) if m else None


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


def load_checkpoint(path: Path, *, map_location: str = "cpu") -> dict[str, Any]:
    """Load weights and plain data only. Pickles that would import or call anything are refused."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path.name} is empty (0 bytes); it was probably cut off while being written")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path.name} is not a FaceForge checkpoint (not a PyTorch zip archive). "
            "Legacy pickles are refused because unpickling can run code."
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"refused to load {path.name}: it contains objects other than weights and plain data "
            f"(it would run code when loaded). Only FaceForge checkpoints are accepted. Details: {str(exc).splitlines()[0]}"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(f"{path.name} is damaged or truncated: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is a PyTorch file but not a FaceForge checkpoint (no '{FORMAT}' marker)")
    if int(state.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{path.name} was written by a newer FaceForge; please update FaceForge to open it")
    return state


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints in a run's checkpoints/ folder, oldest first (by step, from the name)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(step_of(p), p) for p in folder.iterdir()]
    return [p for s, p in sorted((s, p) for s, p in found if s is not None)]


def prune_checkpoints(folder: Path, keep: int) -> None:
    for old in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
