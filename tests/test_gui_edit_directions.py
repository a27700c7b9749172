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
