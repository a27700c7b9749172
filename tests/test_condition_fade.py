"""Conditional StyleGAN, MSG-GAN and ProGAN start unconditional and fade their labels in (condition_fade): with
the labels in from the first step their labels barely took hold on CelebA."""
from __future__ import annotations

import pytest
import torch

from faceforge.config import ModelConfig
from faceforge.models import build_models, capabilities


@pytest.mark.parametrize("name", ["msggan", "progan", "stylegan"])
def test_labels_do_nothing_before_the_fade_and_count_after_it(name):
    config = ModelConfig(name=name, resolution=32, z_dim=16, w_dim=16, g_channels=8, d_channels=8, n_attributes=3,
                         conditioning="projection", condition_fade=(100, 300))
    assert capabilities(name).follows_images  # so the training loop calls grow() before every step
    torch.manual_seed(0)
    G, D = build_models(config, loss_kind="wgan-gp" if name == "progan" else "bce")
    G.eval()
    z, x = torch.randn(4, 16), torch.randn(4, 3, 32, 32)
    on, off = torch.ones(4, 3), -torch.ones(4, 3)
    with torch.no_grad():
        for m in (G, D):
            m.grow(50)
        assert torch.equal(G(z, on), G(z, off)) and torch.equal(D(x, on), D(x, off))
        for m in (G, D):
            m.grow(10 ** 7)
        assert not torch.allclose(G(z, on), G(z, off), atol=1e-5)
        assert not torch.allclose(D(x, on), D(x, off), atol=1e-6)
