"""A planted generator for the data-faces tests: the toy W generator (tests/toy_w_model.py) whose top-left pixel's
red, green and blue are, before tanh, known linear functions of w; directions planted exactly on them (normal,
intercept at 0, a spread); and a toy scorer that reads those three channels."""
from __future__ import annotations

import numpy as np
import torch

from faceforge.config import TrainConfig
from faceforge.directions.store import DirectionSet
from faceforge.editing import LoadedGenerator

from toy_w_model import ToyWGenerator

CHANNELS = ("red", "green", "blue")


class TopLeftScorer:
    """The "classifier": each channel of the top-left pixel, in uint8 levels."""

    names, kinds, resolution, info = list(CHANNELS), ["continuous"] * 3, 32, {}

    def score(self, images):
        return np.asarray(images)[:, 0, 0, :3].astype(np.float32)


def planted_generator(name: str, *, n_attributes: int = 0, attributes=()) -> LoadedGenerator:
    cfg = TrainConfig()
    cfg.model.name, cfg.model.resolution, cfg.model.z_dim = name, 32, 16
    cfg.model.n_attributes = n_attributes
    torch.manual_seed(0)
    G = ToyWGenerator(cfg.model).eval().requires_grad_(False)
    return LoadedGenerator(G=G, config=cfg, attributes=list(attributes), step=0, source="memory",
                           attribute_means=torch.zeros(n_attributes) if n_attributes else None)


def planted_directions(gen: LoadedGenerator, *, spread: float = 0.25, accuracy: float = 0.95) -> DirectionSet:
    """Each channel's exact linear function of w (every style layer gets the same w), as a fitted direction whose
    boundary is where the channel is 0 before tanh (mid-grey)."""
    G = gen.G
    normals, fits = [], {}
    for c, name in enumerate(CHANNELS):
        row = c * 64  # pixel (0, 0) of channel c in the 8x8 map
        grad = sum(layer.weight[row] for layer in G.layers).double().numpy()
        const = float(sum(layer.bias[row] for layer in G.layers)) + 0.1 * float(G.noise_const[0, c, 0, 0])
        norm = float(np.linalg.norm(grad))
        normals.append(grad / norm)
        fits[name] = {"spread": spread, "intercept": const / norm, "val_accuracy": accuracy,
                      "remainder_accuracy": accuracy}
    return DirectionSet(space="w", names=list(CHANNELS), normals=np.stack(normals), fits=fits)


def sliders_for(dirs: DirectionSet):
    from faceforge.directions.sliders import DirectionSliders

    sliders = DirectionSliders()
    sliders.sets = {name: (dirs, name) for name in dirs.names}
    return sliders
