"""One photo workflow for every model: train the encoders, load them, encode a photo, refine its latent.

A model with a W space (``caps.w_space``, asked of the registry through ``LoadedGenerator.w_space``, never by
name) takes the W+ path: the W+ encoder (:mod:`faceforge.editing.w_encoders`) and projection in W+
(:mod:`faceforge.editing.w_projection`), its latent a W+ code (:mod:`faceforge.editing.w_codes`). Any other model
takes the IcGAN path (:mod:`faceforge.editing.encoders`): E_z, E_y and a refinement of z. The CLI, the Edit pane
and :func:`faceforge.editing.photo_edits.edit_photo` call only these, so neither front end knows which path it is on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from faceforge.tasks import ProgressFn, StopFn


def uses_w(gen) -> bool:
    return bool(gen.w_space)


def describe(gen) -> str:
    """What the encoders learn, for people."""
    if uses_w(gen):
        return "a W+ encoder (on generated faces) that turns a photo into this model's per-layer styles"
    return "E_z (on generated faces) and E_y (on the run's labelled data), which turn a photo into z and attributes"


def train(run, *, gen, steps: int, batch_size: int, progress: ProgressFn | None = None,
          should_stop: StopFn | None = None, **kwargs):
    """Train the photo encoders this run's model needs (same events either way)."""
    if uses_w(gen):
        from faceforge.editing.w_encoders import train_w_encoder

        return train_w_encoder(run, steps=steps, batch_size=batch_size, gen=gen, progress=progress,
                               should_stop=should_stop, **kwargs)
    from faceforge.editing.encoders import train_encoders

    return train_encoders(run, steps=steps, batch_size=batch_size, gen=gen, progress=progress,
                          should_stop=should_stop, **kwargs)


def load(run, *, gen, device: str = "cpu"):
    if uses_w(gen):
        from faceforge.editing.w_encoders import load_w_encoder

        return load_w_encoder(run, generator_step=gen.step, device=device)
    from faceforge.editing.encoders import load_encoders

    return load_encoders(run, generator_step=gen.step, device=device)


def has_encoders(run) -> bool:
    from faceforge.runs import Run

    return bool(Run(Path(run)).encoder_files())


def encode(gen, encoders, image: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(latent, y): z (1, z_dim), or a W+ code (1, num_ws, w_dim) for a W model."""
    if uses_w(gen):
        from faceforge.editing.w_encoders import encode_w

        return encode_w(gen, encoders, image)
    from faceforge.editing.encoders import encode as encode_z

    return encode_z(gen, encoders, image)


def refine(gen, image: np.ndarray, latent: torch.Tensor, y: torch.Tensor | None, steps: int = 200, *,
           progress: ProgressFn | None = None, should_stop: StopFn | None = None, optimise_y: bool = False,
           seconds: float | None = None):
    """Refine by optimisation: projection in W+ for a W model (y stays as read), else z (and y if asked)."""
    if uses_w(gen):
        from faceforge.editing.w_projection import project

        return project(gen, image, latent, y, steps, progress=progress, should_stop=should_stop, seconds=seconds)
    from faceforge.editing.encoders import refine as refine_z

    return refine_z(gen, image, latent, y, steps, optimise_y=optimise_y, progress=progress,
                    should_stop=should_stop, seconds=seconds)


def measure_step_seconds(gen, *, batch_size: int) -> float:
    if uses_w(gen):
        from faceforge.editing.w_encoders import measure_w_step_seconds

        return measure_w_step_seconds(gen, batch_size=batch_size)
    from faceforge.editing.encoder_quality import measure_step_seconds as measure_z

    return measure_z(gen, batch_size=batch_size)
