"""The Edit pane's Directions box on a run whose model has a W space (the toy W model, tests/toy_w_model.py), with a
real fit: the run's attribute classifier is trained (a few steps), "Fit directions…" fits in the background,
sliders appear labelled with their accuracy, moving one moves the current face and the grid by amount x spread x
normal in W, a keep tick projects it; on an encoded photo the same sliders move its W+ code, and the export's
recipe (directions file and amounts) rebuilds the shown pixels. Reloading keeps the sliders, a load anew resets
them, and moved sliders count as work when switching runs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")

from gui_helpers import edit_pane  # noqa: E402
from editing_helpers import one_thread  # noqa: E402
from helpers import tiny_config  # noqa: E402
from toy_w_model import toy_w_registered  # noqa: E402

LONG = 120_000


@pytest.fixture(scope="module")
def w_run(tmp_path_factory):
    """A toy W run on 128 built-in faces (labelled: the classifier learns their ground truth), its attribute
    classifier (3 steps) and its W+ encoder (6 steps); no directions yet."""
    from faceforge.editing import LoadedGenerator, photo_latents
    from faceforge.training import start_run
    from faceforge.training.classifier import train_for_run

    with toy_w_registered() as name, one_thread():
        torch.manual_seed(0)
        cfg = tiny_config(model=name, steps=6, attrs=())
        cfg.data.builtin_count = 128
        run_dir = tmp_path_factory.mktemp("gdw") / "run"
        assert start_run(cfg, run_dir=run_dir).state == "finished"
        train_for_run(run_dir, steps=3, batch_size=8, channels=8, precision="fp32", channels_last=False)
        gen = LoadedGenerator.from_run(run_dir)
        assert photo_latents.train(run_dir, gen=gen, steps=6, batch_size=8, log_every=50).path is not None
        yield run_dir


@pytest.fixture
def pane(qtbot, w_run):
    with toy_w_registered(), one_thread(), edit_pane(qtbot) as p:
        p.set_run(w_run)
        qtbot.waitUntil(lambda: p._gen is not None and p.images is not None and p.face_image is not None,
                        timeout=LONG)
        yield p


def _fitted(run_dir: Path):
    from faceforge.directions.fit import FitOptions, fit_for_run
    from faceforge.directions.store import list_directions, load_directions

    files = list_directions(run_dir)
    if files:
        return load_directions(files[-1])
    return fit_for_run(run_dir, options=FitOptions(samples=64, batch=32, seed=1))[0]


def _styles_edit(pane, key):
    """The directions set behind slider ``key`` and its name there."""
    return pane.directions.model.sets[key]


def test_fit_directions_in_the_box_then_sliders_move_face_and_grid_and_keep_projects(pane, qtbot, w_run):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from faceforge.directions.conditional import project_out
    from faceforge.directions.store import directions_dir
    from faceforge.editing.wspace import styles_for

    shutil.rmtree(directions_dir(w_run), ignore_errors=True)
    box = pane.directions
    box.refresh()
    assert not box.sliders and box.fit_button.isEnabled()
    box.samples.setValue(64)
    qtbot.mouseClick(box.fit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.message.text().startswith("Fitted"), timeout=LONG)
    assert "smile" in box.sliders and len(box.sliders) == 8  # one per attribute of the built-in faces' classifier
    labels = [w.text() for w in box.findChildren(QLabel)]
    assert sum(t.startswith("fitted, val acc ") and ", classifier " in t for t in labels) == 8
    for key in box.sliders:  # a continuous attribute's held-out score is a correlation, and says so
        dirs, name = box.model.sets[key]
        assert (", classifier r " in box.model.label(key)) == (dirs.fits[name]["kind"] == "continuous")
    assert {box.model.sets[k][0].fits[k]["kind"] for k in box.sliders} == {"continuous", "binary"}

    gen, face = pane._gen, pane.face
    grid, shown = pane.images.copy(), pane.face_image.copy()
    z = face.grid_z[face.index: face.index + 1]
    base = styles_for(gen, z, None, face.style())
    dirs, name = _styles_edit(pane, "smile")
    box.sliders["smile"].setValue(250)  # +2.5 spreads
    step = 2.5 * dirs.spread(name) * dirs.normal(name)
    moved = gen.synthesize(base + torch.as_tensor(step))[0]
    qtbot.waitUntil(lambda: np.array_equal(pane.face_image, moved), timeout=LONG)
    qtbot.waitUntil(lambda: not np.array_equal(pane.images, grid), timeout=LONG)
    assert not np.array_equal(moved, shown) and box.values["smile"].text() == "+2.50"

    box.keeps["glasses"].setChecked(True)  # move smile, keep glasses
    keep_n = dirs.normal("glasses")
    kept = 2.5 * dirs.spread(name) * project_out(dirs.normal(name), [keep_n])
    applied = face.latent_edit.steps[0][1]
    assert np.allclose(applied, kept, atol=1e-5) and abs(float(applied @ keep_n)) < 1e-4 * np.linalg.norm(applied)
    qtbot.waitUntil(lambda: np.array_equal(pane.face_image, gen.synthesize(base + torch.as_tensor(kept))[0]),
                    timeout=LONG)
    pane.grab().save("/tmp/faceforge-w-directions-fitted.png")


def test_direction_sliders_move_an_encoded_photo_and_its_recipe_rebuilds_it(pane, qtbot, w_run, tmp_path):
    from faceforge.cli import main
    from faceforge.editing.edits import regenerate
    from faceforge.editing.w_codes import code_to_ws
    from faceforge.recipes import Recipe
    from PIL import Image

    _fitted(w_run)
    box = pane.directions
    box.refresh()
    gen = pane._gen
    face = gen.images(torch.randn(1, gen.z_dim, generator=torch.Generator().manual_seed(3)), None)[0]
    photo = face.repeat(3, 0).repeat(3, 1)
    pane.photo.set_image(photo, "face.png")
    with qtbot.waitSignal(pane.photoChanged, timeout=LONG, check_params_cb=lambda s: s == "encoded"):
        pane.photo_tab.crop_photo([0, 0, photo.shape[1], photo.shape[0]])
    code = pane.photo.z
    assert code.dim() == 3 and pane.face.showing_photo
    qtbot.waitUntil(lambda: np.abs(pane.face_image.astype(int) - pane.photo.reconstruction.astype(int)).max() <= 1,
                    timeout=LONG)
    dirs, name = _styles_edit(pane, "smile")
    box.sliders["smile"].setValue(-200)
    step = torch.as_tensor(-2.0 * dirs.spread(name) * dirs.normal(name))
    edited = gen.synthesize(code_to_ws(gen.G, code, None) + step)[0]
    qtbot.waitUntil(lambda: np.array_equal(pane.face_image, edited), timeout=LONG)  # the photo's W+ code moved
    assert not np.array_equal(edited, pane.photo.reconstruction)
    qtbot.waitUntil(lambda: np.array_equal(pane.photo_tab.edited_view._array, edited), timeout=LONG)  # Photo tab
    pane.modes.setCurrentWidget(pane.photo_tab)
    qtbot.wait(200)
    pane.grab().save("/tmp/faceforge-w-photo-directions.png")

    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.current.export_png(tmp_path / "photo.png")
    data = json.loads((tmp_path / "photo.recipe.json").read_text())
    assert data["kind"] == "edit" and data["edits"] == {"dir:smile": -2.0}
    assert data["directions"]["files"][0]["path"] == dirs.path and data["directions"]["layers"] == "all"
    recipe = Recipe.load(tmp_path / "photo.recipe.json")
    assert np.array_equal(regenerate(recipe, gen), pane.face_image)  # the pane's pixels, rebuilt
    assert main(["generate", "--recipe", str(tmp_path / "photo.recipe.json"), "--out", str(tmp_path / "again.png")]) \
        == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png").convert("RGB")), pane.face_image)


def test_reload_keeps_the_sliders_a_load_anew_resets_them_and_moved_sliders_are_work(pane, qtbot, w_run, tmp_path):
    from faceforge.directions.store import directions_dir
    from faceforge.recipes import Recipe
    from faceforge.runs import Run

    dirs = _fitted(w_run)
    box = pane.directions
    box.refresh()
    assert not pane.has_work()
    box.sliders["smile"].setValue(150)
    box.keeps["glasses"].setChecked(True)
    assert pane.has_work()  # a moved direction is work: switching runs asks first
    asked = []
    pane.confirm_switch = lambda path: asked.append(path) or False
    assert not pane.use_run(tmp_path / "another-run") and asked and pane._run == Path(w_run)

    dirs.save(directions_dir(w_run), "fitted-meanwhile")  # e.g. by faceforge directions fit in a terminal
    with qtbot.waitSignal(pane.modelLoaded, timeout=LONG):
        pane.reload()  # the same run's latest checkpoint: sliders and keeps stay, the new file shows
    assert box.model.amounts.get("smile") == 1.5 and box.sliders["smile"].value() == 150
    assert box.keeps["glasses"].isChecked() and "fitted-meanwhile/smile" in box.sliders
    assert pane.face.latent_edit is not None and pane.face.latent_edit.record() == {"dir:smile": 1.5}

    older = sorted(Run(w_run).path.glob("checkpoints/*.pt"))[0]  # a recipe of the same run's older checkpoint
    Recipe(checkpoint=str(older.resolve()), run=str(w_run), seed=0, n=1, z=[[0.0] * pane._gen.z_dim],
           kind="sample").save(tmp_path / "old.recipe.json")
    with qtbot.waitSignal(pane.modelLoaded, timeout=LONG):
        assert pane.open_recipe(tmp_path / "old.recipe.json")
    assert all(s.value() == 0 for s in box.sliders.values()) and not any(k.isChecked() for k in box.keeps.values())
    assert pane.face.latent_edit is None and not pane.has_work()


def test_a_recipe_with_directions_reopens_with_its_sliders_and_its_pixels(pane, qtbot, w_run, tmp_path):
    """A W model's recipe keeps the cell's own z and the moved styles: reopened (after the sliders were reset and
    another face chosen), the sliders, keep tick and layer choice come back and the face shown is the recipe's
    pixels, as ``regenerate`` rebuilds them."""
    from PIL import Image

    from faceforge.editing.edits import regenerate
    from faceforge.recipes import Recipe

    _fitted(w_run)
    box = pane.directions
    box.refresh()
    pane.select_face(3)
    box.sliders["smile"].setValue(-180)
    box.keeps["glasses"].setChecked(True)
    box.set_layers("all")
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.current.export_png(tmp_path / "w.png")
    exported = np.asarray(Image.open(tmp_path / "w.png").convert("RGB"))
    recipe = Recipe.load(tmp_path / "w.recipe.json")
    assert np.array_equal(regenerate(recipe, pane._gen), exported)

    box.reset()
    box.keeps["glasses"].setChecked(False)
    pane.select_face(0)
    qtbot.waitUntil(lambda: not np.array_equal(pane.face_image, exported), timeout=LONG)
    assert pane.open_recipe(tmp_path / "w.recipe.json")  # the same checkpoint: restored at once
    assert box.sliders["smile"].value() == -180 and box.keeps["glasses"].isChecked()
    assert box.layers.currentIndex() == 1 and box.model.layers == "all"
    qtbot.waitUntil(lambda: pane.face.index == 3 and pane.face.pending_z is None, timeout=LONG)
    qtbot.waitUntil(lambda: np.array_equal(pane.face_image, exported), timeout=LONG)
    pane.grab().save("/tmp/faceforge-w-directions-recipe.png")
