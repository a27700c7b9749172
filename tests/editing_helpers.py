"""Shared, cached builders for the editing tests (no tests here).

``trained_run()`` trains one tiny conditional generator on the built-in faces and its IcGAN encoders, once per test
process (``functools.cache``), so every editing test file can use the same model without paying for it twice.
"""
from __future__ import annotations

import contextlib
import functools
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from helpers import ArrayDataset, tiny_config

RES = 32
Z_DIM = 32
N_FACES = 2048
G_STEPS, G_BATCH, G_LR = 300, 32, 5e-4  # a higher learning rate than DCGAN's 2e-4 learns more in so few steps
E_STEPS, E_BATCH = 200, 32


@functools.cache
def builtin_data(n: int = N_FACES, seed: int = 0) -> ArrayDataset:
    from faceforge.data import make_builtin

    images, labels, names = make_builtin(n, RES, seed)
    return ArrayDataset(images=images, labels=labels, attributes=names, name="builtin")


@contextlib.contextmanager
def one_thread():
    """Tiny models gain nothing from a second intra-op thread, and lose a lot when another process competes for
    the cores (OpenMP threads spin at every barrier); the old setting is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def trained_run() -> SimpleNamespace:
    """A 32 px conditional DCGAN (widths 16, z 32) trained for 300 steps on 2,048 built-in faces, plus encoders
    trained for it (about 20 s of one core). Returns a namespace: path, gen, encoders, data, holdout, events."""
    with one_thread():
        return _trained_run()


def _trained_run() -> SimpleNamespace:
    from faceforge.editing import LoadedGenerator
    from faceforge.editing.encoders import load_encoders, train_encoders
    from faceforge.training import start_run

    root = Path(tempfile.mkdtemp(prefix="faceforge-editing-"))
    data = builtin_data()
    cfg = tiny_config(steps=G_STEPS, attrs=data.attributes, batch=G_BATCH)
    cfg.optim.lr_g = cfg.optim.lr_d = G_LR
    cfg.model.g_channels = cfg.model.d_channels = 16
    cfg.model.z_dim = Z_DIM
    s = cfg.schedule
    s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = 100, 10**6, 10**6, 16
    result = start_run(cfg, run_dir=root / "run", dataset=data)
    assert result.state == "finished"
    events: list[dict] = []
    enc_result = train_encoders(root / "run", steps=E_STEPS, batch_size=E_BATCH, dataset=data, log_every=50,
                                progress=events.append)
    gen = LoadedGenerator.from_run(root / "run")
    encoders = load_encoders(root / "run")
    holdout = builtin_data(256, seed=99)  # faces the encoders never saw
    return SimpleNamespace(path=root / "run", gen=gen, encoders=encoders, data=data, holdout=holdout,
                           events=events, enc_result=enc_result)


def random_generator(*, res: int = 32, n_attr: int = 3, z_dim: int = 16, channels: int = 8, seed: int = 0):
    """An untrained conditional generator wrapped as a LoadedGenerator (for plumbing tests: shapes, recipes)."""
    import torch

    from faceforge.editing import LoadedGenerator
    from faceforge.models import build_generator

    cfg = tiny_config(res=res, attrs=tuple(f"attr{i}" for i in range(n_attr)))
    cfg.model.z_dim, cfg.model.n_attributes = z_dim, n_attr
    cfg.model.g_channels = cfg.model.d_channels = channels
    torch.manual_seed(seed)
    G = build_generator(cfg.model).eval().requires_grad_(False)
    return LoadedGenerator(G=G, config=cfg, attributes=[f"attr{i}" for i in range(n_attr)], step=0,
                           source="memory", attribute_means=torch.zeros(n_attr))


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())


def age_data(n: int = 256, seed: int = 0) -> ArrayDataset:
    """Built-in faces labelled as a user's CSV would be: "Smiling" 1/0 (binary, from the built-in smile), the
    built-in second column as it is, and "Age" in years (18-80, continuous)."""
    from faceforge.data import make_builtin

    images, labels, names = make_builtin(n, RES, seed)
    smiling = (labels[:, 0] > 0).astype(np.float32)
    age = np.random.default_rng(seed + 1).uniform(18, 80, n).astype(np.float32)
    return ArrayDataset(images=images, labels=np.stack([smiling, labels[:, 1], age], axis=1),
                        attributes=["Smiling", names[1], "Age"], name="age-faces")


def age_run(root: Path, *, steps: int = 8, checkpoint_every: int = 4, data: ArrayDataset | None = None) -> Path:
    """A tiny conditional run (32 px, widths 8, z 16) on :func:`age_data`: its config records the label scales
    (Age standardised) and its checkpoints a label sample. Returns the run folder."""
    from faceforge.training import start_run

    data = data if data is not None else age_data()
    cfg = tiny_config(steps=steps, attrs=data.attributes, batch=8)
    cfg.optim.ema_beta, cfg.optim.lr_g = 0.0, 2e-3
    cfg.schedule.checkpoint_every = checkpoint_every
    with one_thread():
        result = start_run(cfg, run_dir=Path(root) / "age-run", dataset=data)
    assert result.state == "finished"
    return Path(root) / "age-run"
