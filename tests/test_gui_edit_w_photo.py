"""The Edit pane's Photo tab on a run whose model has a W space (the toy W model, tests/toy_w_model.py): the same
workflow as for a DCGAN-family run - no encoders yet, Train encoders (here the W+ encoder), encode, Refine
(projection in W+) to the 'refined' state - and the photo's W+ code renders in the current face, moves with
an attribute slider, exports with a recipe of its styles and interpolates to a sampled face."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")

from gui_helpers import edit_pane  # noqa: E402
from faceforge.editing.ms_ssim import reconstruction_scores  # noqa: E402
from editing_helpers import one_thread  # noqa: E402
from helpers import random_dataset, tiny_config  # noqa: E402
from toy_w_model import NUM_WS, toy_w_registered  # noqa: E402

LONG = 120_000


@pytest.fixture(scope="module")
def w_run(tmp_path_factory):
    from faceforge.training import start_run

    with toy_w_registered() as name, one_thread():
        torch.manual_seed(0)
        run_dir = tmp_path_factory.mktemp("gw") / "run"
        assert start_run(tiny_config(model=name, steps=6, attrs=("attr0", "attr1")), run_dir=run_dir,
                         dataset=random_dataset(n_attr=2)).state == "finished"
        yield run_dir


@pytest.fixture
def pane(qtbot, w_run):
    with edit_pane(qtbot) as p:
        yield p


def test_a_photo_is_encoded_into_w_plus_refined_edited_exported_and_interpolated(pane, qtbot, w_run, tmp_path):
    from faceforge.gui.edit import photo as photo_module

    pane.set_run(w_run)
    qtbot.waitUntil(lambda: pane._gen is not None and Path(pane._gen.source).parent.parent == Path(w_run)
                    and pane.images is not None, timeout=LONG)
    gen = pane._gen
    face = gen.images(torch.randn(1, gen.z_dim, generator=torch.Generator().manual_seed(3)), gen.default_y(1))[0]
    photo = face.repeat(3, 0).repeat(3, 1)
    pane.photo.set_image(photo, "face.png")
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "no-encoders"):
        pane.photo_tab.crop_photo([0, 0, photo.shape[1], photo.shape[0]])
    tab = pane.photo_tab
    assert not tab.train_encoders_button.isHidden()
    tab.encoder_steps.setValue(120)
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "encoded"):
        tab.train_encoders()
    assert "W+" in tab.message.text() or pane.photo.encoded
    code = pane.photo.z
    assert code.dim() == 3 and code.shape[1] == NUM_WS  # a W+ code, not a z
    before = reconstruction_scores(pane.photo.aligned, pane.photo.reconstruction)["mse"][0]
    photo_module.REFINE_STEPS = 30
    try:
        with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "refined"):
            tab.refine()
    finally:
        photo_module.REFINE_STEPS = 200
    assert pane.photo.state == "refined" and pane.photo.z.dim() == 3
    after = reconstruction_scores(pane.photo.aligned, pane.photo.reconstruction)["mse"][0]
    assert after < before
    qtbot.waitUntil(lambda: pane.face_image is not None
                    and np.abs(pane.face_image.astype(int) - pane.photo.reconstruction.astype(int)).max() <= 1,
                    timeout=LONG)  # the current face is the refined photo
    shown = pane.face_image.copy()
    flip = -1.0 if float(pane.photo.y[0, 0]) > 0 else 1.0
    pane.set_attribute("attr0", flip)
    qtbot.waitUntil(lambda: not np.array_equal(pane.face_image, shown), timeout=LONG)
    pane.grab().save("/tmp/faceforge-w-photo-tab.png")
    # the edited photo exports with a recipe of its styles, and interpolates to a sampled face
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.current.export_png(tmp_path / "photo.png")
    from faceforge.editing.edits import regenerate
    from faceforge.recipes import Recipe

    recipe = Recipe.load(tmp_path / "photo.recipe.json")
    assert recipe.ws is not None and np.array_equal(regenerate(recipe, gen), gen.images(*pane.current_latent()[:2])[0])
    edited = pane.face_image.copy()
    pane.set_end("A")
    pane.select_face(0)
    with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
        pane.set_end("B")
    frames = pane.interp_tab.interpolation.images
    assert np.abs(frames[0].astype(int) - edited.astype(int)).max() <= 1 and not np.array_equal(frames[0], frames[-1])
    pane.grab().save("/tmp/faceforge-w-photo-interp.png")
