"""A toy model with a W space, implementing exactly the API contract a ``w_space`` model offers (mapping, truncate,
synthesis, num_ws, w_dim, w_avg, ``G(z, y, truncation=, truncation_layers=, noise=, mix=)``), so the editing, CLI,
training and GUI tests of W-space features do not depend on the real StyleGAN in faceforge/models."""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from faceforge.models import Capabilities, ModelSpec, register
from faceforge.models.registry import unregister
from helpers import ToyDiscriminator

TOY_W = "toy-w"
NUM_WS, W_DIM = 4, 8


class ToyWGenerator(nn.Module):
    """mapping: one linear layer; synthesis: per-layer linear maps of ws summed into an 8x8 image (plus a constant
    noise buffer), enlarged to the resolution. ``calls`` records every ws synthesis received (not in state_dict)."""

    num_ws, w_dim = NUM_WS, W_DIM

    def __init__(self, config):
        super().__init__()
        self.n_attributes, self.resolution = config.n_attributes, config.resolution
        self.map = nn.Linear(config.z_dim + config.n_attributes, W_DIM)
        self.layers = nn.ModuleList(nn.Linear(W_DIM, 3 * 8 * 8) for _ in range(NUM_WS))
        self.register_buffer("w_avg", torch.zeros(W_DIM))
        self.register_buffer("noise_const", torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)))
        self.calls: list[torch.Tensor] = []

    def mapping(self, z, y=None):
        if self.n_attributes:
            z = torch.cat([z, y.to(z.dtype)], dim=1)
        return nn.functional.leaky_relu(self.map(z), 0.2)

    def latent_weights(self):
        return [layer.weight.detach() for layer in self.layers]

    def truncate(self, w, psi, *, layers=None):
        ws = w.unsqueeze(1).repeat(1, NUM_WS, 1)
        cut = NUM_WS if layers is None else layers
        ws[:, :cut] = self.w_avg.lerp(ws[:, :cut], float(psi))
        return ws

    def synthesis(self, ws, *, noise="const"):
        self.calls.append(ws.detach().clone())
        x = sum(layer(ws[:, i]) for i, layer in enumerate(self.layers)).view(-1, 3, 8, 8)
        if noise == "const":
            x = x + 0.1 * self.noise_const
        elif noise == "random":
            x = x + 0.1 * torch.randn_like(x)
        return nn.functional.interpolate(torch.tanh(x), size=self.resolution, mode="nearest")

    def forward(self, z, y=None, *, truncation=1.0, truncation_layers=None, noise=None, mix=None):
        noise = noise or ("random" if self.training else "const")
        w = self.mapping(z, y)
        if self.training:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, 0.9))
        ws = self.truncate(w, truncation, layers=truncation_layers)
        if mix is not None:
            z2, k = mix
            ws[:, k:] = self.truncate(self.mapping(z2, y), truncation, layers=truncation_layers)[:, k:]
        return self.synthesis(ws, noise=noise)


@contextlib.contextmanager
def toy_w_registered():
    register(TOY_W, ModelSpec(Capabilities("a toy model with a W space", w_space=True, style_layers=NUM_WS,
                                           conditioning="optional", conditionings=("input",), resolutions=(32,),
                                           eval_sampling=True),
                              ToyWGenerator, ToyDiscriminator))
    try:
        yield TOY_W
    finally:
        unregister(TOY_W)


@contextlib.contextmanager
def toy_loaded_generator():
    """The toy W generator, registered, as the editing layer holds a run's (a LoadedGenerator), seeded."""
    from faceforge.config import TrainConfig
    from faceforge.editing import LoadedGenerator

    with toy_w_registered() as name:
        cfg = TrainConfig()
        cfg.model.name, cfg.model.resolution, cfg.model.z_dim = name, 32, 16
        torch.manual_seed(0)
        G = ToyWGenerator(cfg.model).eval().requires_grad_(False)
        yield LoadedGenerator(G=G, config=cfg, attributes=[], step=0, source="memory")
