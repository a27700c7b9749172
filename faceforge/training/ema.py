"""An exponential moving average of G's weights: samples from G_ema are visibly cleaner and it is what editing uses."""
from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(G: nn.Module) -> nn.Module:
    ema = copy.deepcopy(G).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, G: nn.Module, beta: float) -> None:
    ema_params = list(ema.parameters())
    torch._foreach_lerp_(ema_params, [p.detach() for p in G.parameters()], 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), G.buffers()):  # BatchNorm running stats: copy, they are not weights
        b_ema.copy_(b)
