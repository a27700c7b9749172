"""R1 (StyleGAN 2's regulariser on real images), applied lazily by the training loop."""
from __future__ import annotations

import torch

from faceforge.training import losses, start_run
from helpers import random_dataset, tiny_config


class LinearD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(3 * 4 * 4))

    def forward(self, x, y=None):
        return x.flatten(1) @ self.w


def test_r1_is_the_squared_gradient_norm_on_real_images():
    D = LinearD()
    real = torch.randn(5, 3, 4, 4)
    assert torch.allclose(losses.r1_penalty(D, real, None), D.w.detach().pow(2).sum())
    assert losses.r1_gamma(-1, resolution=64, batch=64) == 0.0002 * 64
    assert losses.r1_gamma(-4, resolution=64, batch=64) == 4 * 0.0002 * 64  # StyleGAN's default here
    assert losses.r1_gamma(0.5, resolution=64, batch=64) == 0.5


def test_lazy_r1_changes_what_d_learns(tmp_path):
    """r1_every=2 over 2 steps: step 0 carries R1; D's weights differ from a run without it."""
    def train(name, gamma):
        cfg = tiny_config(model="msggan", loss="rahinge", attrs=(), steps=2)
        cfg.loss.r1_gamma, cfg.loss.r1_every = gamma, 2
        return start_run(cfg, run_dir=tmp_path / name, dataset=random_dataset(n=32, n_attr=0))

    from faceforge.checkpoints import load_checkpoint
    from faceforge.runs import Run

    def d_weights(result):
        state = load_checkpoint(Run(result.run_dir).checkpoints()[-1])
        return torch.cat([v.flatten().float() for v in state["D"].values()])

    plain, with_r1 = train("plain", 0.0), train("r1", 10.0)
    assert not torch.equal(d_weights(plain), d_weights(with_r1))
