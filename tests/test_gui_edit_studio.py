"""The Edit pane as a studio: pick a face from the grid, edit it with throttled sliders (FastRenderer off the GUI
thread), export it with a recipe that regenerates the same pixels, interpolate between two faces (strip + GIF),
render the axis-incremental figure, and edit a real photo through the encoders (alignment, fallbacks, training the
encoders, refinement). Tiny models (32 px, 8 channels, z 16, 4 steps) keep each test to a few seconds."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QPalette  # noqa: E402

from gui_helpers import edit_pane  # noqa: E402
from faceforge.gui.edit import grid as edit_grid  # noqa: E402
from faceforge.gui.edit import photo as edit_photo  # noqa: E402
from helpers import tiny_config  # noqa: E402

LONG = 120_000
ASTRONAUT = Path(__file__).parent / "data" / "editing_astronaut.jpg"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    import torch

    from faceforge.training import start_run

    cfg = tiny_config(steps=12, attrs=("*",), batch=8)
    # no EMA lag and a brisk learning rate: a 12-step model whose outputs clearly depend on y, so pixel-level
    # comparisons below measure the pane, not an untrained net's near-constant grey
    cfg.optim.ema_beta, cfg.optim.lr_g = 0.0, 2e-3
    cfg.data.source = "builtin:faces"
    cfg.data.builtin_count = 200
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return start_run(cfg, runs_root=tmp_path_factory.mktemp("runs")).run_dir
    finally:
        torch.set_num_threads(previous)


@pytest.fixture
def pane(qtbot):
    with edit_pane(qtbot) as p:
        yield p


def _load(pane, qtbot, run):
    pane.set_run(run)
    qtbot.waitUntil(lambda: pane.images is not None and pane.face_image is not None, timeout=LONG)


def _settle(qtbot):
    qtbot.wait(300)  # past both throttles, so no render is pending


def test_click_a_face_then_sliders_edit_it_throttled(pane, qtbot, tiny_run):
    _load(pane, qtbot, tiny_run)
    assert pane.images.shape == (16, 32, 32, 3)
    pane.grab().save("/tmp/shot_edit_studio_samples.png")
    # a model without W: truncation scales z, and the W controls are off, saying why
    assert (pane.truncation.minimum(), pane.truncation.maximum()) == (10, 150)
    assert not pane.controls.styles.isEnabled() and "W space" in pane.controls.styles.toolTip()
    assert not pane.current.style_source_button.isEnabled() and "W space" in pane.current.style_source_button.toolTip()
    assert not pane.interp_tab.space.isEnabled() and pane.interp_tab.space.currentData() == "z"
    # click the second face of the second row
    rect, image = pane.grid.target_rect(), pane.grid.image()
    scale = rect.width() / image.width()
    cell = 32 + edit_grid.GRID_PAD
    pos = QPoint(int(rect.x() + (edit_grid.GRID_PAD + cell * 1 + 16) * scale), int(rect.y() + (edit_grid.GRID_PAD + cell + 16) * scale))
    assert pane.grid.cell_at(pos.x(), pos.y()) == 5
    qtbot.mouseClick(pane.grid, Qt.MouseButton.LeftButton, pos=pos)
    assert pane.face.index == 5
    # the current face is outlined in the grid, in the palette's highlight colour
    assert pane.grid.selected == 5
    edge = pane.grid.cell_rect(5)
    shot = pane.grid.grab().toImage()
    assert shot.pixelColor(int(edge.left()) - 2, int(edge.center().y())) == \
        pane.grid.palette().color(QPalette.ColorRole.Highlight)
    qtbot.waitUntil(lambda: pane.face_image is not None and
                    np.abs(pane.face_image.astype(int) - pane.images[5]).max() <= 2, timeout=LONG)
    _settle(qtbot)  # the click's own face render must not be taken for the slider's below
    before = pane.face_image.copy()
    name = next(iter(pane.controls.sliders))
    with qtbot.waitSignal(pane.faceRendered, timeout=LONG):
        pane.set_attribute(name, 2.0)
    assert not np.array_equal(pane.face_image, before)
    # a drag: many values in a burst; few renders, and the picture ends on the last value
    count = []
    pane.faceRendered.connect(lambda: count.append(1))
    for v in np.linspace(-2, 1.5, 40):
        pane.set_attribute(name, float(v))
    qtbot.waitUntil(lambda: pane.settings() == {name: 1.5}, timeout=LONG)
    _settle(qtbot)
    qtbot.wait(500)
    assert 1 <= len(count) < 40
    z, y, trunc = pane.current_latent()
    expected = pane._gen.images(z, y, truncation=trunc)[0]
    assert np.abs(pane.face_image.astype(int) - expected).max() <= 2
    # seed buttons and truncation re-render the grid
    old = pane.images.copy()
    with qtbot.waitSignal(pane.rendered, timeout=LONG):
        pane.seed.setValue(pane.seed.value() + 1)
    assert not np.array_equal(old, pane.images)
    with qtbot.waitSignal(pane.rendered, timeout=LONG):
        pane.truncation.setValue(50)


def test_exported_png_is_regenerated_exactly_by_the_cli(pane, qtbot, tiny_run, tmp_path):
    from PIL import Image

    from faceforge.cli import main

    _load(pane, qtbot, tiny_run)
    pane.select_face(2)
    pane.set_attribute(next(iter(pane.controls.sliders)), -1.5)
    pane.truncation.setValue(70)
    _settle(qtbot)
    out = tmp_path / "face.png"
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.export_png(out)
    assert out.exists() and (tmp_path / "face.recipe.json").exists()
    assert "face.recipe.json" in pane.current.export_note.text()
    assert main(["generate", "--recipe", str(tmp_path / "face.recipe.json"), "--out", str(tmp_path / "again.png")]) in (0, None)
    a, b = np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "again.png"))
    assert a.shape == (32, 32, 3) and np.array_equal(a, b)
    assert np.abs(a.astype(int) - pane.face_image).max() <= 2  # what the user saw


def test_interpolation_strip_gif_and_axis_figure(pane, qtbot, tiny_run, tmp_path):
    from PIL import Image

    _load(pane, qtbot, tiny_run)
    pane.select_face(0)
    pane.set_end("A")
    assert "other end" in pane.interp_tab.message.text()
    pane.select_face(7)
    pane.interp_tab.steps.setValue(6)
    with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
        pane.set_end("B")
    interp = pane.interp_tab
    qtbot.waitUntil(lambda: interp.interpolation is not None and len(interp.interpolation.images) == 6, timeout=LONG)
    assert pane.interp_tab.strip.array() is not None
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.interp_tab.export(tmp_path / "ab.gif")
    gif = Image.open(tmp_path / "ab.gif")
    assert gif.n_frames == 10 and gif.size == (128, 128)  # boomerang, scaled to 128 px
    assert (tmp_path / "ab.recipe.json").exists()
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.interp_tab.export(tmp_path / "ab.png")
    assert Image.open(tmp_path / "ab.png").size[0] > 6 * 32
    first, last = interp.interpolation.images[0].copy(), interp.interpolation.images[-1].copy()
    assert not np.array_equal(first, last)
    with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
        interp.swap_button.click()  # B to A now
    assert np.array_equal(interp.interpolation.images[0], last) and np.array_equal(interp.interpolation.images[-1], first)

    attrs = list(pane.controls.sliders)
    pane.figure_tab.attr1.setCurrentText(attrs[0])
    pane.figure_tab.attr2.setCurrentText(attrs[1])
    pane.figure_tab.faces.setValue(2)
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.figure_tab.render(tmp_path / "fig.png")
    assert pane.figure_tab.figure.ncols == 7 and len(pane.figure_tab.figure.images) == 14
    assert (tmp_path / "fig.recipe.json").exists() and pane.figure_tab.view.array() is not None
    # for people: a copy with the column headings, faces enlarged to 128 px (here 4x from 32 px); the plain one
    # is what the recipe rebuilds
    plain = np.asarray(Image.open(tmp_path / "fig.png"))
    labelled = np.asarray(Image.open(tmp_path / "fig-labelled.png"))
    assert labelled.shape[1] == 4 * plain.shape[1] and labelled.shape[0] > 4 * plain.shape[0]
    assert np.array_equal(labelled[-4 * plain.shape[0]:][::4, ::4], plain)
    assert np.array_equal(pane.figure_tab.view.array(), labelled)
    pane.grab().save("/tmp/shot_edit_studio_figure.png")
    pane.modes.setCurrentIndex(2)
    qtbot.wait(50)
    pane.grab().save("/tmp/shot_edit_studio_interp.png")
    pane.figure_tab.values.setText("a, b")
    pane.figure_tab.render(None)
    assert "numbers" in pane.figure_tab.message.text()


def test_photo_without_a_face_says_so_and_offers_a_manual_crop(pane, qtbot, tiny_run, tmp_path):
    from PIL import Image

    run = tmp_path / tiny_run.name
    shutil.copytree(tiny_run, run)
    _load(pane, qtbot, run)
    flat = tmp_path / "wall.png"
    Image.new("RGB", (120, 90), (128, 130, 125)).save(flat)
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "failed"):
        pane.import_photo(flat)
    text = pane.photo_tab.message.text()
    assert "no face" in text or "OpenCV" in text or "opencv" in text
    assert not pane.photo_tab.fallback.isHidden() and pane.photo_tab.face_combo.isHidden()
    assert pane.photo_tab.crop_edit.text() == "15,0,105,90"
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "no-encoders"):
        pane.photo_tab.whole_button.click()
    assert pane.photo_tab.aligned_view.array().shape == (32, 32, 3)
    assert not pane.photo_tab.train_encoders_button.isHidden()
    pane.photo_tab.crop_edit.setText("1,2,x")
    pane.photo_tab.crop_button.click()
    assert "four numbers" in pane.photo_tab.message.text()
    pane.import_photo(tmp_path / "missing.png")
    assert "not found" in pane.photo_tab.message.text()
    from PySide6.QtGui import QGuiApplication, QImage

    img = QImage(40, 30, QImage.Format.Format_RGB888)
    img.fill(0x336699)
    QGuiApplication.clipboard().setImage(img)
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG):
        pane.photo_tab.paste_button.click()
    assert pane.photo.image.shape == (30, 40, 3) and tuple(pane.photo.image[0, 0]) == (0x33, 0x66, 0x99)


def test_photo_import_trains_encoders_edits_refines_and_exports(pane, qtbot, tiny_run, tmp_path, monkeypatch):
    pytest.importorskip("cv2")
    from PIL import Image

    from faceforge.cli import main

    run = tmp_path / tiny_run.name
    shutil.copytree(tiny_run, run)
    _load(pane, qtbot, run)
    pane.photo_tab.encoder_steps.setValue(3)
    pane.photo_tab.encoder_batch = 8
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "no-encoders"):
        pane.import_photo(ASTRONAUT)
    assert "Aligned" in pane.photo_tab.message.text() or "no encoders" in pane.photo_tab.message.text()
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "encoded"):
        pane.photo_tab.train_encoders_button.click()
    tab = pane.photo_tab
    assert tab.aligned_view.array().shape == (32, 32, 3) and tab.recon_view.array().shape == (32, 32, 3)
    assert pane.face.showing_photo and pane.photo_tab.refine_button.isEnabled()
    qtbot.waitUntil(lambda: pane.photo_tab.edited_view.array() is not None, timeout=LONG)
    before = pane.photo_tab.edited_view.array().copy()
    name = next(iter(pane.controls.sliders))
    with qtbot.waitSignal(pane.faceRendered, timeout=LONG):
        pane.set_attribute(name, 2.0 if pane.face.edits.values[name] < 0 else -2.0)
    assert not np.array_equal(pane.photo_tab.edited_view.array(), before)

    monkeypatch.setattr(edit_photo, "REFINE_STEPS", 4)
    z0 = pane.photo.z.clone()
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "refined"):
        pane.photo_tab.refine()
    assert not pane.photo.z.equal(z0) and pane.photo_tab.progress.isHidden()
    assert pane.settings()  # the edit survives refinement
    _settle(qtbot)
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.export_png(tmp_path / "edit.png")
    main(["generate", "--recipe", str(tmp_path / "edit.recipe.json"), "--out", str(tmp_path / "again.png")])
    assert np.array_equal(np.asarray(Image.open(tmp_path / "edit.png")), np.asarray(Image.open(tmp_path / "again.png")))
    qtbot.wait(200)
    pane.grab().save("/tmp/shot_edit_studio.png")
    assert pane.grid.selected is None  # the photo is the current face, not a grid cell
    # a grid click goes back to sampled faces
    pane.select_face(1)
    assert not pane.face.showing_photo and pane.grid.selected == 1
