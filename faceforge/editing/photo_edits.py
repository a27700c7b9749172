"""A photo's edit through the encoders, outside the GUI (``faceforge edit``): encode, optionally refine, then set
attributes and move the latent along fitted directions; the edited and reconstructed faces, and their recipes.

Two kinds of edit combine. Attributes (a conditional model's own y) are the IcGAN edit ``G(z, y')``; a W model's
photo is a W+ code that moves with the mean w of y' (:mod:`faceforge.editing.w_codes`). Fitted directions
(``latent_edit``, a callable on latents such as :class:`faceforge.directions.apply.DirectionEdit`) add their step
to the photo's own latent: z for a model without W, the W+ code (N, num_ws, w_dim) for one with W, whose styles
under any y are ``mean_w(y) + code``, so adding to the code adds to the styles exactly as a sampled face's edit
does. This module only takes the callable: the directions package is above editing and is never imported here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceforge.editing.edits import code_styles, set_attributes
from faceforge.recipes import Recipe, as_lists
from faceforge.tasks import ProgressFn, StopFn


@dataclass
class PhotoEdit:
    """A photo through the encoders: its latent, its attributes as read, the edit asked for, and the images.
    ``z_edit`` is the latent the edited face is drawn from (``z`` moved by the directions; ``z`` without them)."""

    z: torch.Tensor
    y: torch.Tensor | None  # as read from the photo by E_y
    y_edit: torch.Tensor | None  # y with the settings applied
    reconstruction: np.ndarray  # G(z, y)
    edited: np.ndarray  # G(z_edit, y_edit)
    settings: dict[str, float]
    refine_steps: int = 0
    z_edit: torch.Tensor | None = None
    directions: dict[str, Any] | None = None  # the recipe's record of the directions used (files, keep, layers)
    direction_amounts: dict[str, float] | None = None  # "dir:NAME": amount in spreads

    def recipes(self, gen, *, run: str | Path | None = None) -> tuple[Recipe, Recipe]:
        """(the edit's recipe, the reconstruction's): the edit keeps the moved latent (and for a W model its
        styles), the settings in units and the directions' amounts, so ``generate --recipe`` rebuilds it."""
        ck = str(Path(gen.source).resolve())
        rr = str(Path(run).resolve()) if run else None
        moved = self.z if self.z_edit is None else self.z_edit
        edit = Recipe(checkpoint=ck, run=rr, n=1, z=as_lists(moved), y=as_lists(self.y_edit),
                      edits={**self.settings, **(self.direction_amounts or {})}, kind="edit",
                      ws=code_styles(gen, moved, self.y_edit), directions=self.directions)
        recon = Recipe(checkpoint=ck, run=rr, n=1, z=as_lists(self.z), y=as_lists(self.y), kind="reconstruction",
                       ws=code_styles(gen, self.z, self.y))
        return edit, recon


def edit_photo(gen, encoders, aligned: np.ndarray, settings: dict[str, float] | None = None, *,
               latent_edit=None, refine_steps: int = 0, optimise_y: bool = False,
               progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> PhotoEdit:
    """Encode an aligned face (E_z, E_y; or the W+ encoder for a W model), optionally refine the latent by
    ``refine_steps`` of optimisation (projection in W+ for a W model), then set the attributes (``settings``, in
    units) and apply ``latent_edit`` (fitted directions: a callable on z or on the W+ code, with ``record()`` and
    ``source()`` for the recipe) to the latent."""
    from faceforge.editing.photo_latents import encode, refine

    z, y = encode(gen, encoders, aligned)
    if refine_steps > 0:
        z, y = refine(gen, aligned, z, y, steps=refine_steps, optimise_y=optimise_y, progress=progress,
                      should_stop=should_stop)
    y_edit = set_attributes(gen, y, settings or {})
    z_edit = latent_edit(z) if latent_edit is not None else z
    return PhotoEdit(z=z, y=y, y_edit=y_edit, reconstruction=gen.images(z, y)[0],
                     edited=gen.images(z_edit, y_edit)[0], settings=dict(settings or {}), refine_steps=refine_steps,
                     z_edit=z_edit if latent_edit is not None else None,
                     directions=latent_edit.source() if latent_edit is not None else None,
                     direction_amounts=latent_edit.record() if latent_edit is not None else None)
