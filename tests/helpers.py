"""Small shared builders for core tests: tiny configs and in-memory datasets (fast on 2 cores)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from faceforge.checkpoints import load_checkpoint
from faceforge.config import TrainConfig
from faceforge.models import capabilities
from faceforge.runs import Run


class ArrayDataset(SimpleNamespace):
    def __len__(self):
        return len(self.images)


def random_dataset(n=128, res=32, n_attr=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.choice([-1.0, 1.0], (n, n_attr)).astype(np.float32) if n_attr else None
    return ArrayDataset(images=rng.integers(0, 255, (n, res, res, 3), dtype=np.uint8), labels=labels,
                        attributes=[f"attr{i}" for i in range(n_attr)], name="random")


def tiny_config(*, steps=6, model="cdcgan", loss="bce", res=32, attrs=("attr0", "attr1", "attr2"), batch=8):
    cfg = TrainConfig(seed=3)
    cfg.model.name = model
    cfg.model.resolution = cfg.data.resolution = res
    cfg.model.g_channels = cfg.model.d_channels = 8
    cfg.model.z_dim = 16
    cfg.data.attributes = list(attrs) if capabilities(model).conditioning != "never" else []
    cfg.loss.kind = loss
    s = cfg.schedule
    s.metrics_every = 0
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = steps, batch, 2, 3, 3, 9
    cfg.perf.precision, cfg.perf.channels_last = "fp32", False  # no timing probes in unit tests
    cfg.perf.gemm_layers = []
    cfg.perf.adapt_threads = False  # a thread-count change under a loaded CI machine would break bit-identity
    return cfg


def assert_same_weights(dir_a, dir_b):
    a = load_checkpoint(Run(dir_a).latest_checkpoint())
    b = load_checkpoint(Run(dir_b).latest_checkpoint())
    for key in ("G", "D", "G_ema"):
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name} differs after resume"
    return a, b


class ToyDiscriminator(nn.Module):
    """(x, y) -> one logit per image: a 4x4 stride-4 convolution and a linear head that also sees y. The D of the
    toy models (tests/test_toy_model.py, tests/toy_w_model.py): any model's D only has to give one logit per image."""

    def __init__(self, config, d_norm):
        super().__init__()
        self.n_attributes = config.n_attributes
        self.conv = nn.Conv2d(3, 4, 4, stride=4)
        side = config.resolution // 4
        self.fc = nn.Linear(4 * side * side + config.n_attributes, 1)

    def forward(self, x, y=None):
        h = nn.functional.leaky_relu(self.conv(x), 0.2).flatten(1)
        if self.n_attributes:
            h = torch.cat([h, y.to(h.dtype)], dim=1)
        return self.fc(h).flatten()


def cosine(a, b) -> float:
    """The cosine of two vectors (a recovered direction against the planted one)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
