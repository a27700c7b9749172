"""The Edit pane on a run whose model has W, proved with the toy W model (tests/toy_w_model.py; nothing here names a
real model): the truncation slider is psi towards the average face over a chosen layer range, live in the grid and
the current face; a face used as the style source mixes its coarse styles into the others, and the export's recipe
rebuilds the same pixels through ``faceforge generate --recipe`` and when the pane opens it; interpolation in W ends exactly on the two faces
and differs from z's slerp."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")

from gui_helpers import edit_pane, settle  # noqa: E402
from faceforge.gui.edit import EditPane  # noqa: E402
from helpers import random_dataset, tiny_config  # noqa: E402
from toy_w_model import toy_w_registered  # noqa: E402

LONG = 120_000


@pytest.fixture(scope="module")
def w_run(tmp_path_factory) -> Path:
    from faceforge.training import start_run

    with toy_w_registered() as name:
        run_dir = tmp_path_factory.mktemp("wgui") / "run"
        result = start_run(tiny_config(model=name, steps=4, attrs=()), run_dir=run_dir,
                           dataset=random_dataset(n_attr=0))
        assert result.state == "finished"
        return run_dir


@pytest.fixture
def pane(qtbot):
    with toy_w_registered(), edit_pane(qtbot) as p:
        yield p




def test_truncation_mixing_and_w_interpolation_in_the_edit_pane(pane, qtbot, w_run, tmp_path):
    from PIL import Image

    from faceforge.cli import main

    pane.set_run(w_run)
    qtbot.waitUntil(lambda: pane.images is not None and pane.face_image is not None, timeout=LONG)
    gen = pane._gen
    styles = pane.controls.styles
    assert (pane.truncation.minimum(), pane.truncation.maximum()) == (0, 100) and "w_avg" in pane.truncation.toolTip()
    assert styles.isEnabled() and pane.current.style_source_button.isEnabled() and pane.interp_tab.space.isEnabled()

    # psi 0 at every layer: every face is the average face, the current one too
    free = pane.images.copy()
    with qtbot.waitSignal(pane.rendered, timeout=LONG):
        pane.truncation.setValue(0)
    settle(qtbot, pane)
    average = gen.synthesize(gen.G.w_avg.reshape(1, 1, -1).repeat(1, gen.num_ws, 1))[0]
    assert all(np.array_equal(face, average) for face in pane.images)
    assert np.array_equal(pane.face_image, average)
    # ... and at the coarse layers only: the faces differ again, nearer the average than free ones
    styles.truncation_layers.choose("coarse")
    settle(qtbot, pane)
    assert pane.face.truncation_layers == "coarse" and len({f.tobytes() for f in pane.images}) == len(free)
    distance = lambda images: np.abs(images.astype(int) - average).mean()  # noqa: E731
    assert distance(pane.images) < distance(free)
    styles.truncation_layers.choose("0-9")  # not a range of this model: said, nothing changes
    assert "layers" in styles.message.text() and pane.face.truncation_layers == "coarse"
    pane.truncation.setValue(70)

    # style mixing: face 1 gives its coarse styles to face 3 (and to every face of the grid)
    pane.select_face(1)
    settle(qtbot, pane)
    pane.current.style_source_button.click()
    assert pane.face.mix is not None and pane.face.mix.index == 1 and "layers 0-0" in styles.source_label.text()
    pane.select_face(3)
    settle(qtbot, pane)
    mixed = pane.face_image.copy()
    pane.face.clear_mix()
    settle(qtbot, pane)
    own = pane.face_image.copy()
    assert not np.array_equal(mixed, own)
    styles.mix_seed.setValue(1)  # the seed's first face as the source instead: live again
    styles.use_seed_button.click()
    settle(qtbot, pane)
    assert not np.array_equal(pane.face_image, own)
    pane.face.set_mix_source(pane.face.grid_z[1:2], pane.face.seed, 1)
    settle(qtbot, pane)
    assert np.array_equal(pane.face_image, mixed)
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.current.export_png(tmp_path / "mixed.png", scale=1)
    assert main(["generate", "--recipe", str(tmp_path / "mixed.recipe.json"), "--out", str(tmp_path / "again.png")]) == 0
    exported = np.asarray(Image.open(tmp_path / "mixed.png"))
    assert np.array_equal(exported, np.asarray(Image.open(tmp_path / "again.png")))
    assert np.array_equal(exported, mixed)  # what the user saw
    # the recipe opened in a fresh pane: its checkpoint, seed, psi, layers and mix come back, and its face
    fresh = EditPane()
    qtbot.addWidget(fresh)
    fresh.resize(1280, 800)
    fresh.show()
    try:
        assert fresh.open_recipe(tmp_path / "mixed.recipe.json")
        qtbot.waitUntil(lambda: fresh.face.index == 3 and fresh.face.mix is not None, timeout=LONG)
        settle(qtbot, fresh)
        assert np.array_equal(fresh.face_image, exported)
        assert (fresh.truncation.value(), fresh.face.truncation_layers, fresh.face.mix.index) == (70, "coarse", 1)
        assert fresh.controls.styles.truncation_layers.combo.currentData() == "coarse"
    finally:
        fresh.shutdown()
    pane.grab().save("/tmp/shot_edit_w_samples.png")

    # interpolation in W: the ends are exactly the two faces, the middle is not z's slerp
    pane.face.clear_mix()
    pane.select_face(0)
    settle(qtbot, pane)
    face_a = pane.face_image.copy()
    pane.set_end("A")
    pane.select_face(5)
    settle(qtbot, pane)
    face_b = pane.face_image.copy()
    interp = pane.interp_tab
    interp.steps.setValue(5)
    assert interp.space.currentData() == "w"
    with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
        pane.set_end("B")
    strip = interp.interpolation
    assert strip.kind == "interpolation-w" and len(strip.images) == 5
    assert np.array_equal(strip.images[0], face_a) and np.array_equal(strip.images[-1], face_b)
    with qtbot.waitSignal(pane.interpolationRendered, timeout=LONG):
        interp.space.setCurrentIndex(interp.space.findData("z"))
    assert not np.array_equal(interp.interpolation.images[2], strip.images[2])
    qtbot.wait(50)
    pane.grab().save("/tmp/shot_edit_w_interp.png")


def test_setting_both_interpolation_ends_at_once_maps_their_styles_off_the_gui_thread(pane, qtbot, w_run,
                                                                                       monkeypatch):
    """set_end maps a W face's styles on the pane's task pool, one slot per end: A then B without waiting sets
    both, each to its own face's styles as shown."""
    import threading

    from faceforge.editing import wspace

    pane.set_run(w_run)
    qtbot.waitUntil(lambda: pane.images is not None and pane.face_image is not None, timeout=LONG)
    settle(qtbot, pane)
    gen, style = pane._gen, pane.face.style()
    expected = {i: wspace.styles_for(gen, pane.face.grid_z[i: i + 1], None, style)[0] for i in (0, 5)}
    original, threads = wspace.styles_for, []

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(wspace, "styles_for", recording)
    pane.select_face(0)
    pane.set_end("A")
    pane.select_face(5)
    pane.set_end("B")
    qtbot.waitUntil(lambda: pane.ends.complete, timeout=LONG)
    assert threads and threading.main_thread() not in threads
    assert torch.equal(pane.ends.get("A").ws, expected[0]) and torch.equal(pane.ends.get("B").ws, expected[5])
    assert torch.equal(pane.ends.get("B").z, pane.face.grid_z[5]) and pane.ends.get("B").style == style
    qtbot.wait(300)
    pane.grab().save("/tmp/faceforge-w-ends-at-once.png")

    class Shift:  # a direction slider's edit (directions/sliders.LatentEdit): a callable on ws
        def __call__(self, ws):
            return ws + 0.5

        def record(self):
            return {"dir:shift": 1.0}

    pane.face.set_latent_edit(Shift())
    pane.set_end("A")  # the end is the face as shown: its styles moved by the directions
    qtbot.waitUntil(lambda: torch.equal(pane.ends.get("A").ws, expected[5] + 0.5), timeout=LONG)
