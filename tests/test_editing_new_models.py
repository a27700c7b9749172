"""The multi-scale (MSG-GAN) and the progressive (ProGAN) generators in every editing path: a LoadedGenerator from
the run, the slider renderer, IcGAN encoders, ``faceforge generate`` with its recipe, and the Edit pane.

Nothing in faceforge/editing or faceforge/gui/edit reads a model's name; these tests prove the generic paths work
for both, each conditional (projection D, y beside z in G). ProGAN is tested twice: a checkpoint taken during a
fade-in (G draws 8 px faces blended with 4 px ones, enlarged to 32 px) and one after it reached full size, so the
stage kept in the checkpoint's buffers is exercised both ways.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from faceforge.editing import LoadedGenerator
from faceforge.editing.edits import FastRenderer
from faceforge.editing.encoders import encode, load_encoders, reconstruct, train_encoders
from faceforge.training import start_run
from editing_helpers import one_thread
from helpers import random_dataset, tiny_config

LONG = 120_000
PHASE_IMAGES, BATCH = 16, 8  # ProGAN at 32 px: 6 phases of 16 images = 12 steps of 8 to reach full size
# case -> (model, loss, steps, the ProGAN stage the final checkpoint must hold or None)
CASES = {
    "msggan": ("msggan", "rahinge", 4, None),
    "progan-fading": ("progan", "wgan-gp", 4, {"res": 8, "alpha": 0.5}),  # step 4 trains at 24 images: half faded
    "progan-full": ("progan", "wgan-gp", 13, {"res": 32, "alpha": 1.0}),  # step 13 at 96: past the last phase
}


def _train(root: Path, case: str) -> SimpleNamespace:
    model, loss, steps, stage = CASES[case]
    data = random_dataset(n=64, res=32, n_attr=3)
    cfg = tiny_config(steps=steps, model=model, loss=loss, batch=BATCH)
    cfg.model.conditioning = "projection"
    cfg.model.phase_images = PHASE_IMAGES
    cfg.optim.lr_g = 5e-3  # a few steps at a high rate leave a generator whose image depends on y
    s = cfg.schedule
    s.log_every, s.sample_every, s.checkpoint_every = steps, 10**6, steps
    with one_thread():
        result = start_run(cfg, run_dir=root / case, dataset=data)
        assert result.state == "finished"
        train_encoders(root / case, steps=2, batch_size=4, dataset=data, channels=4, log_every=1)
    return SimpleNamespace(path=root / case, data=data, stage=stage)


@pytest.fixture(scope="module", params=list(CASES))
def trained(request, tmp_path_factory):
    """One trained run (with encoders) per case, shared by every test of the module (pytest groups the tests by
    case, so each case trains once)."""
    return _train(tmp_path_factory.mktemp("new-models"), request.param)


def _latent(gen, n=4, seed=1):
    z = torch.randn(n, gen.z_dim, generator=torch.Generator().manual_seed(seed))
    return z, gen.make_y(n)


def test_loaded_generator_draws_from_y_and_the_slider_renderer_agrees(trained):
    gen = LoadedGenerator.from_run(trained.path)
    assert gen.conditional and gen.attributes == ["attr0", "attr1", "attr2"] and gen.resolution == 32
    if trained.stage is not None:  # the checkpoint kept the stage: G_ema draws what it drew when saved
        assert gen.G.stage() == trained.stage
    z, y = _latent(gen)
    images = gen.images(z, y)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(images, gen.images(z, y))  # a pure function of (z, y)
    changed = gen.images(z, gen.make_y(4, {"attr0": -1.0 if float(y[0, 0]) > 0 else 1.0}, base=y))
    assert np.abs(changed.astype(int) - images.astype(int)).max() > 0, "one attribute moved, nothing changed"
    renderer = FastRenderer.for_generator(gen, threads=1)
    for i in range(2):
        fast = renderer(z[i:i + 1], y[i:i + 1])
        assert fast.shape == (1, 32, 32, 3)
        assert np.abs(fast.astype(int) - images[i:i + 1].astype(int)).max() <= 1


def test_icgan_encoders_encode_and_reconstruct(trained):
    gen, enc = LoadedGenerator.from_run(trained.path), load_encoders(trained.path)
    assert enc.matches(gen) and enc.attributes == gen.attributes and enc.E_y is not None
    photo = trained.data.images[5]
    z, y = encode(gen, enc, photo)
    assert z.shape == (1, gen.z_dim) and y.shape == (1, 3)
    assert reconstruct(gen, enc, photo).shape == (32, 32, 3)


def test_generate_and_its_recipe_give_the_same_pixels(trained, tmp_path):
    from PIL import Image

    from faceforge.cli import main

    x, again = tmp_path / "x.png", tmp_path / "y.png"
    assert main(["generate", "--run", str(trained.path), "--set", "attr0=1", "--out", str(x)]) == 0
    recipe = json.loads((tmp_path / "x.recipe.json").read_text())
    assert recipe["edits"] == {"attr0": 1.0} and all(row[0] == 1.0 for row in recipe["y"])
    assert main(["generate", "--recipe", str(tmp_path / "x.recipe.json"), "--out", str(again)]) == 0
    first, second = np.asarray(Image.open(x)), np.asarray(Image.open(again))
    assert first.shape[-1] == 3 and np.array_equal(first, second)


def test_edit_pane_shows_faces_a_slider_changes_the_face_and_interpolates(trained, qtbot):
    from faceforge.gui.edit import EditPane

    pane = EditPane()
    qtbot.addWidget(pane)
    pane.resize(1280, 800)
    pane.show()
    try:
        pane.set_run(trained.path)
        qtbot.waitUntil(lambda: pane._gen is not None and pane.images is not None and pane.face_image is not None,
                        timeout=LONG)
        assert pane.images.shape[1:] == (32, 32, 3) and pane.face_image.shape == (32, 32, 3)
        assert set(pane.controls.rows) == {"attr0", "attr1", "attr2"}
        before = pane.face_image.copy()
        row = pane.controls.rows["attr1"]
        target = 0 if row.slider.value() > row.slider.maximum() // 2 else row.slider.maximum()
        with qtbot.waitSignal(pane.faceRendered, timeout=LONG):
            row.slider.setValue(target)
        assert pane.settings() == {"attr1": pytest.approx(row.value_at(target))}
        qtbot.waitUntil(lambda: not np.array_equal(pane.face_image, before), timeout=10_000)
        z, y, _ = pane.current_latent()
        expected = pane._gen.images(z, y)[0]
        assert np.abs(pane.face_image.astype(int) - expected.astype(int)).max() <= 1
        # interpolation between two sample faces: its ends are those faces
        pane.reset_attributes()
        pane.select_face(0)
        pane.set_end("A")
        pane.select_face(3)
        with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
            pane.set_end("B")
        strip = pane.interp_tab.interpolation.images
        assert np.abs(strip[0].astype(int) - pane.images[0].astype(int)).max() <= 1
        assert np.abs(strip[-1].astype(int) - pane.images[3].astype(int)).max() <= 1
        assert not np.array_equal(strip[0], strip[-1])
    finally:
        pane.shutdown()
