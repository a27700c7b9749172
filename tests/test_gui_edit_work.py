"""The Edit pane keeps the user's work: its model changes only when asked for in the pane (asking first when
there is work), "Follow training" redraws from new checkpoints keeping seed, sliders and photo (marked stale until
refined), sliders and spin boxes speak each attribute's units, E_y's readings are marked as estimates with their
reliability, and the ordinary "no encoders yet" case is an info message, not a logged error."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")

from gui_helpers import edit_pane  # noqa: E402
from faceforge.gui.edit.controls import format_value  # noqa: E402
from editing_helpers import age_data, age_run, one_thread  # noqa: E402

LONG = 120_000


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("work")
    return age_run(root / "a", steps=8, checkpoint_every=4), age_run(root / "b", steps=4, checkpoint_every=4)


@pytest.fixture
def pane(qtbot):
    with edit_pane(qtbot) as p:
        yield p
    p.shutdown()


def _loaded(pane, qtbot, run):
    qtbot.waitUntil(lambda: pane._gen is not None and Path(pane._gen.source).parent.parent == Path(run)
                    and pane.images is not None and pane.face_image is not None, timeout=LONG)


def _encode_photo(pane, qtbot):
    photo = np.asarray(age_data(1, seed=7).images[0]).repeat(3, 0).repeat(3, 1)
    pane.photo.set_image(photo, "face.png")
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s in ("encoded", "no-encoders")):
        pane.photo_tab.crop_photo([0, 0, photo.shape[1], photo.shape[0]])


def test_values_speak_units_and_default_faces_vary(pane, qtbot, runs):
    run, _ = runs
    pane.offer_run(run)  # the first run shown becomes the pane's (it had none)
    _loaded(pane, qtbot, run)
    gen = pane._gen
    age = gen.scale("Age")
    row = pane.controls.rows["Age"]
    assert (row.spin.minimum(), row.spin.maximum()) == pytest.approx((age.low, age.high), abs=0.1)
    assert (pane.controls.rows["Smiling"].spin.minimum(), pane.controls.rows["Smiling"].spin.maximum()) == (-2, 2)
    # varied default faces: each cell its own label row from the sample; the sliders show the cell's, in years
    assert len({tuple(r) for r in pane.face.grid_y.tolist()}) > 1
    pane.select_face(2)
    assert row.spin.value() == pytest.approx(float(age.to_units(pane.face.grid_y[2, 2])), abs=0.1)
    # a typed value is in years and reaches the network standardised
    pane.set_attribute("Age", 60.0)
    z, y, _ = pane.current_latent()
    assert float(y[0, 2]) == pytest.approx((60 - age.mean) / age.std, abs=1e-4)
    assert row.mark.text() == "set" and pane.settings() == {"Age": 60.0}
    assert row.slider.value() == row.position_of(60.0)
    # neutral (mean) for every face
    with qtbot.waitSignal(pane.rendered, timeout=LONG):
        pane.controls.labels.setCurrentIndex(pane.controls.labels.findData("mean"))
    assert torch.equal(pane.face.grid_y, gen.attribute_means.repeat(len(pane.face.grid_y), 1))
    assert format_value(-0.0001) == "0.00" and format_value(-0.5) == "-0.50"


def test_train_tab_browsing_never_replaces_the_model_and_switching_keeps_the_photo(pane, qtbot, runs, caplog):
    run, other = runs
    pane.offer_run(run)
    _loaded(pane, qtbot, run)
    caplog.set_level(logging.INFO)
    _encode_photo(pane, qtbot)  # no encoders yet: said plainly, with the button, and nothing logged as an error
    assert "no encoders yet" in pane.photo_tab.message.text() and not pane.photo_tab.train_encoders_button.isHidden()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    qtbot.waitUntil(lambda: "About" in pane.photo_tab.encoder_estimate.text(), timeout=LONG)
    pane.current.export_note.setText("Wrote edit.png and edit.recipe.json")
    pane.offer_run(other)  # the Train tab shows another run: offered, not loaded
    qtbot.wait(200)
    assert pane._loaded_run == run and not pane.use_shown_button.isHidden()
    asked = []
    pane.confirm_switch = lambda path: asked.append(path) or False  # the user says no
    pane.use_shown_button.click()
    assert asked == [other] and pane._loaded_run == run and pane.photo.image is not None
    pane.confirm_switch = lambda path: asked.append(path) or True
    pane.use_shown_button.click()
    _loaded(pane, qtbot, other)
    assert pane.photo.image is not None and pane.photo.aligned is not None  # kept, aligned again for the new model
    assert pane.current.export_note.text() == "" and pane.use_shown_button.isHidden()


def test_follow_training_keeps_seed_sliders_and_photo_and_marks_it_stale(pane, qtbot, runs, tmp_path):
    from faceforge.editing.encoders import train_encoders
    from faceforge.training import resume_run

    run = tmp_path / "run"
    shutil.copytree(runs[0], run)
    with one_thread():
        train_encoders(run, steps=4, batch_size=8, dataset=age_data(), log_every=2)
    pane.set_run(run)
    _loaded(pane, qtbot, run)
    pane.seed.setValue(5)
    _encode_photo(pane, qtbot)
    assert pane.photo.encoded and pane.face.showing_photo
    marks = {name: r.mark.text() for name, r in pane.controls.rows.items()}
    assert set(marks.values()) == {"est."}  # E_y's readings are estimates ...
    assert "held-out" in pane.controls.estimate_note.text()  # ... with their reliability
    pane.set_attribute("Smiling", 1.0)  # corrected by the user
    assert pane.controls.rows["Smiling"].mark.text() == "set" and pane.controls.rows["Age"].mark.text() == "est."
    recon0 = pane.photo.reconstruction.copy()
    pane.follow.setChecked(True)
    assert not pane.check_for_checkpoint()  # nothing newer yet
    with one_thread():
        resume_run(run, steps=12, dataset=age_data())
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "regenerated"):
        assert pane.check_for_checkpoint()
    assert pane._gen.step == 12 and pane.face.seed == 5 and pane.settings() == {"Smiling": 1.0}
    assert pane.photo.encoded and pane.photo.stale and not np.array_equal(pane.photo.reconstruction, recon0)
    assert not pane.photo_tab.stale_note.isHidden() and "Refine" in pane.photo_tab.stale_note.text()
    assert pane.photo_tab.refine_button.isEnabled()
    from faceforge.gui.edit import photo as edit_photo

    edit_photo.REFINE_STEPS = 2
    try:
        with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "refined"):
            pane.photo_tab.refine()
    finally:
        edit_photo.REFINE_STEPS = 200
    assert not pane.photo.stale and pane.photo_tab.stale_note.isHidden()
    # exports: 2x, and a before/after sheet for a photo edit
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.current.export_png(tmp_path / "edit.png", scale=2)
    from PIL import Image

    assert Image.open(tmp_path / "edit.png").size == (64, 64)
    assert (tmp_path / "edit-sheet.png").exists() and "edit-sheet.png" in pane.current.export_note.text()


def test_interpolation_exports_mp4(pane, qtbot, runs, tmp_path):
    pytest.importorskip("av")
    run, _ = runs
    pane.set_run(run)
    _loaded(pane, qtbot, run)
    pane.select_face(0)
    pane.set_end("A")
    pane.select_face(3)
    with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
        pane.set_end("B")
    a, b = pane.interp_tab.a_view, pane.interp_tab.b_view
    assert a.target_rect().size() == b.target_rect().size() and a.height() == b.height()
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.interp_tab.export(tmp_path / "ab.mp4")
    assert (tmp_path / "ab.mp4").stat().st_size > 0 and (tmp_path / "ab.recipe.json").exists()
