"""Recipes: the small JSON beside every exported image that says exactly how to regenerate it.

``NAME.png`` (or ``.gif``) gets ``NAME.recipe.json`` (checkpoint, seed, z, y, truncation, edits, and for a GIF
how its frames play); ``faceforge generate --recipe`` rebuilds the same pixels from it. z and y are stored as numbers, so a recipe does not depend on RNG details.

For a model with a W space (version 2) the recipe also keeps ``ws``, the per-layer styles exactly as the synthesis
network used them after truncation and style mixing, ``mix`` (the second face's seed and the layers it gave) and
``truncation_layers`` (the layers psi applied to; the Edit pane records them, absent means all);
rebuilding then runs only the synthesis network on ``ws`` with its constant noise. An edit along fitted directions
keeps the moved z or ws, its amounts in ``edits`` ("dir:NAME") and in ``directions`` the files it came from. Version 1 recipes have no ``ws``
and still rebuild from z and y.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceforge.fileio import atomic_write_text

RECIPE_VERSION = 2  # 2: ws and mix for W-space models (version 1 recipes load unchanged)


@dataclass
class Recipe:
    checkpoint: str
    run: str | None = None
    seed: int | None = None
    n: int = 1
    z: list[list[float]] = field(default_factory=list)
    y: list[list[float]] | None = None
    truncation: float = 1.0
    edits: dict[str, float] = field(default_factory=dict)  # the settings asked for, in each column's units
    labels: str | None = None  # default attributes: "data" (rows drawn from the training labels by seed) or "mean"
    ncols: int | None = None
    scale: int = 1  # the PNG was enlarged by this whole factor (nearest-neighbour) when exported
    kind: str = "grid"
    # for an animation (GIF or MP4): how its frames play (frame_ms or fps, boomerang, scale), to rebuild it as it was
    animation: dict[str, Any] | None = None
    # a W-space model: the styles synthesis used, (N, num_ws, w_dim), after truncation (psi = ``truncation``) and mixing
    ws: list[list[list[float]]] | None = None
    # style mixing: {"seed": the second faces' z seed, "layers": as asked ("coarse", "0-3"), "range": [start, stop)}
    mix: dict[str, Any] | None = None
    # a W-space model: the layers truncation applied to, {"layers": "all" | "coarse" | "0-3", "range": [start, stop)}
    # (absent: all of them)
    truncation_layers: dict[str, Any] | None = None
    # fitted directions that moved the latent (their amounts are in ``edits`` as "dir:NAME"): {"files": [{"path",
    # "sha256"}], "keep": [names held still], "layers": "all" | "relevant" | a range}; the pixels come from z / ws
    directions: dict[str, Any] | None = None
    version: int = RECIPE_VERSION

    def save(self, path: Path) -> None:
        atomic_write_text(Path(path), json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "Recipe":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise ValueError(f"cannot read recipe {path}: {exc}") from None


def recipe_path(image_path: Path) -> Path:
    image_path = Path(image_path)
    return image_path.with_name(image_path.stem + ".recipe.json")


def as_lists(t: Any) -> list[list[float]] | None:
    if t is None:
        return None
    return np.asarray(t, dtype=np.float32).tolist()
