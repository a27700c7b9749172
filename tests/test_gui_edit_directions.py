"""The Edit pane's Directions box (issue #17): a tiny run's fitted directions appear as sliders labelled with where
they came from; moving one redraws the current face with z + amount x spread x normal; a kept direction is
projected out of the step (the drawn face is exactly that projected edit); an export's recipe records the moved z
and "dir:NAME"; and Fit directions… without a classifier says how to train one."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from faceforge.gui.edit import EditPane  # noqa: E402
from helpers import random_dataset, tiny_config  # noqa: E402

LONG = 60_000


class TwoPixelScorer:
    """A toy classifier with two continuous attributes read off the pixels: mean red and top-half brightness."""

    names, kinds, resolution, info = ["redness", "brightness"], ["continuous", "continuous"], 32, {}

    def score(self, images):
        images = np.asarray(images, np.float32)
        return np.stack([images[..., 0].mean(axis=(1, 2)), images[:, :16].mean(axis=(1, 2, 3))], 1)


@pytest.fixture(scope="module")
def run_with_directions(tmp_path_factory):
    import torch

    from faceforge.directions import FitOptions, fit_directions
    from faceforge.directions.store import directions_dir
    from faceforge.editing import LoadedGenerator
    from faceforge.training import start_run

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_dir = tmp_path_factory.mktemp("runs") / "dir-run"
        assert start_run(tiny_config(model="dcgan", steps=2, attrs=()), run_dir=run_dir,
                         dataset=random_dataset(n=16, n_attr=0)).state == "finished"
        dirs = fit_directions(LoadedGenerator.from_run(run_dir), TwoPixelScorer(),
                              options=FitOptions(samples=96, batch=48, seed=1))
        dirs.save(directions_dir(run_dir), "toy")
    finally:
        torch.set_num_threads(before)
    return run_dir, dirs


def test_direction_sliders_edit_the_face_keep_projects_and_export_records(qtbot, run_with_directions, tmp_path):
    from faceforge.directions.conditional import project_out

    run_dir, dirs = run_with_directions
    pane = EditPane()
    qtbot.addWidget(pane)
    pane.resize(1280, 800)
    pane.show()
    try:
        pane.set_run(run_dir)
        qtbot.waitUntil(lambda: pane.images is not None and pane.face_image is not None, timeout=LONG)
        box = pane.directions
        assert list(box.sliders) == ["redness", "brightness"]
        # an unconditional model: no default attributes to choose, and its one-line Attributes box leaves the room
        # to the directions
        controls = pane.controls
        assert not controls.labels.isEnabled() and controls.seed.isEnabled()
        assert controls.attr_scroll.height() < box.height()
        assert box.model.label("redness").startswith("fitted, val acc ") and "classifier" in box.model.label("redness")
        qtbot.wait(300)
        gen, face = pane._gen, pane.face
        z = face.grid_z[face.index: face.index + 1]
        plain = pane.face_image.copy()

        box.sliders["redness"].setValue(300)  # +3 spreads, by the slider
        step = 3 * dirs.spread("redness") * dirs.normal("redness")
        moved = gen.images(z + torch_tensor(step), None, truncation=face.truncation)[0]
        qtbot.waitUntil(lambda: np.array_equal(pane.face_image, moved), timeout=LONG)
        assert not np.array_equal(moved, plain)

        box.keeps["brightness"].setChecked(True)  # change redness but keep brightness
        applied = face.latent_edit.steps[0][1]
        keep_n = dirs.normal("brightness")
        assert abs(float(step @ keep_n)) > 1e-3  # the plain step would move brightness too ...
        assert abs(float(applied @ keep_n)) < 1e-4 * np.linalg.norm(applied)  # ... the applied one does not
        expected = 3 * dirs.spread("redness") * project_out(dirs.normal("redness"), [keep_n])
        assert np.allclose(applied, expected, atol=1e-5)
        kept = gen.images(z + torch_tensor(expected), None, truncation=face.truncation)[0]
        qtbot.waitUntil(lambda: np.array_equal(pane.face_image, kept), timeout=LONG)
        pane.grab().save("/tmp/shot_edit_directions.png")
        pane.set_end("A")  # an interpolation end is the face as shown, directions included
        end = pane.ends.get("A").z.reshape(1, -1)
        assert torch_tensor(end).allclose((z + torch_tensor(expected)) * face.truncation, atol=1e-6)

        with qtbot.waitSignal(pane.exported, timeout=LONG):
            pane.export_png(tmp_path / "edited.png")
        recipe = json.loads((tmp_path / "edited.recipe.json").read_text())
        assert recipe["edits"] == {"dir:redness": 3.0}
        assert np.allclose(np.array(recipe["z"]).reshape(-1), (z.numpy() + expected).reshape(-1), atol=1e-5)

        box.fit()  # the run has no attribute classifier: the box says how to train one, and starts nothing
        assert "faceforge classifier train --run" in box.message.text() and box._slot.task is None
    finally:
        pane.shutdown()


def torch_tensor(step):
    import torch

    return torch.as_tensor(step, dtype=torch.float32)


def open_pane(qtbot, run_dir):
    pane = EditPane()
    qtbot.addWidget(pane)
    pane.resize(1280, 800)
    pane.show()
    pane.set_run(run_dir)
    qtbot.waitUntil(lambda: pane.images is not None and pane.face_image is not None, timeout=LONG)
    return pane


def test_a_direction_value_label_reads_the_same_at_zero_however_it_got_there(qtbot, run_with_directions):
    from faceforge.gui.edit.directions_box import amount_text

    pane = open_pane(qtbot, run_with_directions[0])
    try:
        box = pane.directions
        untouched = box.values["brightness"].text()
        box.sliders["redness"].setValue(120)
        assert box.values["redness"].text() == "+1.20"
        box.sliders["redness"].setValue(0)
        assert box.values["redness"].text() == untouched == "0.00"
        box.set_amount("redness", -0.001)
        assert box.values["redness"].text() == "0.00" and amount_text(-0.75) == "-0.75"
    finally:
        pane.shutdown()


def test_opening_a_recipe_puts_the_direction_sliders_back_and_shows_its_pixels(qtbot, run_with_directions,
                                                                              tmp_path):
    """A z model's recipe keeps the moved z: reopened, the sliders, keep ticks and the face come back (its cell is
    the recipe's z less the step) and the face shown is the exported PNG; a recipe whose directions file is not the
    run's (another SHA-256) opens without them and the status line says which and why."""
    from PIL import Image

    run_dir, _dirs = run_with_directions
    pane = open_pane(qtbot, run_dir)
    try:
        box = pane.directions
        qtbot.wait(300)
        pane.select_face(2)
        box.sliders["redness"].setValue(150)
        box.keeps["brightness"].setChecked(True)
        with qtbot.waitSignal(pane.exported, timeout=LONG):
            pane.export_png(tmp_path / "moved.png")
    finally:
        pane.shutdown()
    exported = np.asarray(Image.open(tmp_path / "moved.png").convert("RGB"))
    record = json.loads((tmp_path / "moved.recipe.json").read_text())
    assert record["edits"] == {"dir:redness": 1.5} and record["directions"]["keep"] == ["brightness"]

    fresh = EditPane()
    qtbot.addWidget(fresh)
    fresh.resize(1280, 800)
    fresh.show()
    messages = []
    fresh.statusMessage.connect(messages.append)
    try:
        with qtbot.waitSignal(fresh.modelLoaded, timeout=LONG):
            assert fresh.open_recipe(tmp_path / "moved.recipe.json")
        box = fresh.directions
        assert box.sliders["redness"].value() == 150 and box.values["redness"].text() == "+1.50"
        assert box.keeps["brightness"].isChecked() and not box.keeps["redness"].isChecked()
        assert fresh.face.latent_edit.record() == {"dir:redness": 1.5}
        qtbot.waitUntil(lambda: fresh.face.index == 2 and fresh.face.pending_z is None, timeout=LONG)
        qtbot.waitUntil(lambda: np.array_equal(fresh.face_image, exported), timeout=LONG)
        assert messages[-1] == "Opened the recipe of seed 0's face"
        fresh.grab().save("/tmp/shot_edit_directions_recipe.png")

        record["directions"]["files"][0]["sha256"] = "0" * 64  # another fit than the run's
        (tmp_path / "other.recipe.json").write_text(json.dumps(record))
        assert fresh.open_recipe(tmp_path / "other.recipe.json")
        assert box.sliders["redness"].value() == 0 and not box.keeps["brightness"].isChecked()
        assert fresh.face.latent_edit is None
        assert "dir:redness +1.50" in messages[-1] and "keep brightness" in messages[-1]
        assert "SHA-256" in messages[-1] and "not restored" in messages[-1]
        assert "dir:redness" in box.message.text()
        fresh.grab().save("/tmp/shot_edit_directions_recipe_mismatch.png")
    finally:
        fresh.shutdown()
