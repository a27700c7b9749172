"""Strips of faces along components, so a person can see what each unsupervised direction (SeFa, GANSpace) does
and name the ones that mean something: one face moved from -3 to +3 spreads along each component.

The face is the Edit pane's current one as it is drawn (its z and labels, psi, layers and style mix, with the
direction sliders' edit applied first), so a strip starts where the user is. A W model moves the styles of every
layer; a z model moves z before the truncation scaling, as the sliders do.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from faceforge.directions.store import DirectionSet
from faceforge.editing.generator import LoadedGenerator

STRIP_AMOUNTS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # in spreads; the middle face is the face itself


@torch.no_grad()
def component_strips(gen: LoadedGenerator, dirs: DirectionSet, z: torch.Tensor, y: torch.Tensor | None, *,
                     truncation: float = 1.0, style: Any = None, edit: Callable | None = None,
                     amounts: tuple[float, ...] = STRIP_AMOUNTS, names: list[str] | None = None) -> np.ndarray:
    """uint8 (components, len(amounts), H, W, 3): the face (z (1, D) or a W+ code, y (1, A)) moved by each amount
    along each component of ``dirs`` (all of them, or ``names``). ``style``: a W model's StyleChoice (psi, layers,
    mix; None draws it plain); ``edit``: the sliders' LatentEdit, applied before the component's step."""
    chosen = list(names) if names is not None else list(dirs.names)
    steps = np.stack([np.outer(np.asarray(amounts, np.float64), dirs.spread(n) * dirs.normal(n).astype(np.float64))
                      for n in chosen])  # (K, S, D)
    k, s = steps.shape[:2]
    delta = torch.as_tensor(steps.reshape(k * s, -1), dtype=torch.float32)
    if gen.w_space:
        from faceforge.editing.wspace import StyleChoice, styles_for

        ws = styles_for(gen, z, y, style if style is not None else StyleChoice())
        ws = edit(ws) if edit is not None else ws
        moved = ws.expand(k * s, -1, -1) + delta[:, None, :]
        faces = gen.synthesize(moved)
    else:
        base = edit(z) if edit is not None else z
        moved = base.reshape(1, -1) + delta
        yy = None if y is None else y.reshape(1, -1).expand(k * s, -1)
        faces = gen.images(moved, yy, truncation=float(truncation))
    return faces.reshape(k, s, *faces.shape[1:])
