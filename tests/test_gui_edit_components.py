"""The Edit pane's Components tab and the Directions box's layer ranking (issue #17), offscreen on a tiny W model
(tests/toy_w_model.py) and a tiny DCGAN: SeFa and GANSpace strips render the current face moved along each
component (its middle face is the face itself, its ends differ); naming a component adds a slider whose +3 draws
the strip's right end; a fit with a layer ranking shows its bars in ranked order, kept layers highlighted; and the
"layers" choice changes which style rows an edit moves (off, with a reason, for a z model)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_helpers import edit_pane, settle  # noqa: E402
from helpers import random_dataset, tiny_config  # noqa: E402
from toy_w_model import NUM_WS, W_DIM, toy_w_registered  # noqa: E402

LONG = 60_000
SHOTS = "/tmp/shots-unsup"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    import torch

    from faceforge.training import start_run

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        with toy_w_registered() as name:
            for model in ("dcgan", name):
                run_dir = tmp_path_factory.mktemp("comp") / model
                assert start_run(tiny_config(model=model, steps=2, attrs=()), run_dir=run_dir,
                                 dataset=random_dataset(n=16, n_attr=0)).state == "finished"
                out[model] = run_dir
        louder(out["dcgan"])
    finally:
        torch.set_num_threads(before)
    return out


def louder(run_dir, gain=300.0):
    """Two steps leave a DCGAN's faces flat grey (its N(0, 0.02) output layer): scale that layer so the faces
    have contrast a strip can show (the checkpoint stays a valid one)."""
    from faceforge.checkpoints import load_checkpoint, save_checkpoint

    for path in (run_dir / "checkpoints").glob("*.pt"):
        state = load_checkpoint(path)
        for key in ("G", "G_ema"):
            last = [k for k in state[key] if k.endswith(".weight") and state[key][k].dim() == 4][-1]
            state[key][last] = state[key][last] * gain
        save_checkpoint(path, {k: v for k, v in state.items() if k not in ("format", "format_version")})


@pytest.fixture
def pane(qtbot):
    with toy_w_registered(), edit_pane(qtbot) as p:
        yield p




def open_run(qtbot, pane, run_dir):
    pane.set_run(run_dir)
    qtbot.waitUntil(lambda: pane.images is not None and pane.face_image is not None, timeout=LONG)
    settle(qtbot, pane)


def check_strips(tab, face_image):
    strips = tab.strips
    assert strips.ndim == 5 and strips.shape[1] == 7 and strips.shape[0] == len(tab.views)
    for row in strips:
        assert row.std() > 1.0  # faces, not a blank
        assert np.abs(row[0].astype(int) - row[-1].astype(int)).max() > 0  # the ends differ along the strip
    assert np.abs(strips[0, 3].astype(int) - face_image.astype(int)).max() <= 1  # the middle is the face itself


@pytest.mark.parametrize("model", ["toy-w", "dcgan"])
def test_strips_render_and_a_named_component_becomes_a_slider(model, pane, qtbot, runs, tmp_path):
    open_run(qtbot, pane, runs[model])
    tab = pane.components_tab
    tab.components.setValue(4)
    with qtbot.waitSignal(tab.rendered, timeout=LONG):
        pane.modes.setCurrentWidget(tab)  # SeFa at once when the tab opens
    assert tab.method == "sefa" and [v.array() is not None for v in tab.views] == [True] * 4
    check_strips(tab, pane.face_image)
    if model == "toy-w":
        qtbot.wait(100)  # the layout settles (the message's new height)
        pane.grab().save(f"{SHOTS}-sefa-toyw.png")

    tab.samples.setValue(300)
    with qtbot.waitSignal(tab.rendered, timeout=LONG):
        tab.compute_ganspace()
    assert tab.method == "ganspace" and tab.showing.count() == 2 and not tab.progress.isVisible()
    check_strips(tab, pane.face_image)
    qtbot.wait(100)
    pane.grab().save(f"{SHOTS}-ganspace-{model}.png")
    right_end = tab.strips[0, -1].copy()

    assert list(pane.directions.sliders) == []
    path = tab.name_component("ganspace-0", "Glow")
    assert path is not None and path.name == "named.json" and "Glow" in tab.message.text()
    box = pane.directions
    assert list(box.sliders) == ["Glow"] and box.model.label("Glow") == "named, GANSpace ganspace-0"
    settle(qtbot, pane)
    plain = pane.face_image.copy()
    box.sliders["Glow"].setValue(300)  # +3 spreads: the face the strip showed at its right end
    qtbot.waitUntil(lambda: np.abs(pane.face_image.astype(int) - right_end.astype(int)).max() <= 1, timeout=LONG)
    assert not np.array_equal(pane.face_image, plain)
    moved_face = pane.face_image.copy()
    qtbot.waitUntil(lambda: tab.strips is not None and np.abs(
        tab.strips[1, 3].astype(int) - moved_face.astype(int)).max() <= 1, timeout=LONG)  # strips follow the edit
    assert tab.name_component("ganspace-1", "no = sign") is None and "letters" in tab.message.text()
    if model == "dcgan":
        assert not box.layers.isEnabled() and "without W" in box.layers.toolTip()
        assert not box.relevance.isEnabled() and box.chart.isHidden()


def ranked_set():
    from faceforge.directions.store import DirectionSet

    rank = {"gains": [0.01, 0.40, 0.25, -0.02], "ranking": [1, 2, 0, 3], "kept": [1, 2], "all_gain": 0.7,
            "kept_gain": 0.62, "amount": 2.0, "samples": 32, "target": 0.8}
    normals = np.random.default_rng(0).standard_normal((2, W_DIM))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return DirectionSet(space="w", names=["Smiling", "Plain"], normals=normals,
                        fits={"Smiling": {"spread": 1.0, "val_accuracy": 0.9, "layers": rank},
                              "Plain": {"spread": 1.0, "val_accuracy": 0.8}})


def test_the_layer_ranking_chart_and_the_layers_choice(pane, qtbot, runs, tmp_path):
    import torch

    from faceforge.directions.store import directions_dir

    run = runs["toy-w"]
    for old in directions_dir(run).glob("*"):
        old.unlink()
    ranked_set().save(directions_dir(run), "fit")
    open_run(qtbot, pane, run)
    box = pane.directions
    assert box.layers.isEnabled() and box.layers.currentText() == "layers: relevant" and box.relevance.isEnabled()
    assert not box.chart.isHidden() and list(box.chart_buttons) == ["Smiling"]
    assert [layer for layer, _, _ in box.chart.bars()] == [1, 2, 0, 3]  # ranked order
    assert [kept for _, _, kept in box.chart.bars()] == [True, True, False, False]
    assert "Smiling" in box.chart.title and "kept 1, 2" in box.chart.title
    pane.resize(1400, 900)
    box.set_amount("Smiling", 2.0)
    settle(qtbot, pane)
    pane.grab().save(f"{SHOTS}-chart.png")
    box.chart.grab().save(f"{SHOTS}-chart-only.png")

    ws = torch.zeros(1, NUM_WS, W_DIM)
    moved_rows = lambda: [i for i in range(NUM_WS) if pane.face.latent_edit(ws)[0, i].abs().sum() > 0]  # noqa: E731
    assert moved_rows() == [1, 2]
    relevant_face = pane.face_image.copy()
    box.layers.setCurrentIndex(1)  # widen to every layer
    assert box.model.layers == "all" and moved_rows() == [0, 1, 2, 3]
    qtbot.waitUntil(lambda: not np.array_equal(pane.face_image, relevant_face), timeout=LONG)
    gen, face = pane._gen, pane.face
    from faceforge.editing.wspace import styles_for

    z = face.grid_z[face.index: face.index + 1]
    expected = gen.synthesize(face.latent_edit(styles_for(gen, z, None, face.style())))[0]
    qtbot.waitUntil(lambda: np.abs(pane.face_image.astype(int) - expected.astype(int)).max() <= 1, timeout=LONG)
    box.layers.setCurrentIndex(0)
    assert moved_rows() == [1, 2]


def test_fit_directions_with_rank_layers_asks_for_the_ranking(pane, qtbot, runs, monkeypatch):
    import faceforge.directions.fit as fit_module
    from faceforge.directions.store import directions_dir
    from faceforge.models.classifier import WEIGHTS_NAME, classifier_dir

    run = runs["toy-w"]
    for old in directions_dir(run).glob("*"):
        old.unlink()
    classifier_dir(run).mkdir(parents=True, exist_ok=True)
    (classifier_dir(run) / WEIGHTS_NAME).write_bytes(b"")  # the box only checks that the run has one
    asked = []

    def fake_fit(run_dir, *, options, progress, should_stop, **_):
        asked.append(options)
        progress({"kind": "directions", "stage": "relevance", "attribute": "Smiling", "done": 3, "total": 10})
        dirs = ranked_set()
        return dirs, dirs.save(directions_dir(run_dir), "fit")

    monkeypatch.setattr(fit_module, "fit_for_run", fake_fit)
    open_run(qtbot, pane, run)
    box = pane.directions
    assert box.chart.isHidden() and not box.layers.isEnabled() and "rank layers" in box.layers.toolTip()
    box.relevance.setChecked(True)
    box.samples.setValue(64)
    with qtbot.waitSignal(box.fitted, timeout=LONG):
        box.fit()
    assert asked and asked[0].relevance is True and asked[0].samples == 64
    assert not box.chart.isHidden() and box.layers.isEnabled() and box.model.ranked == ["Smiling"]


def test_components_saved_by_the_cli_for_this_checkpoint_are_shown_without_sampling(pane, qtbot, runs):
    from faceforge.directions.ganspace import ganspace_directions
    from faceforge.directions.store import directions_dir
    from faceforge.editing import LoadedGenerator

    run = runs["dcgan"]
    saved = ganspace_directions(LoadedGenerator.from_run(run), components=3, samples=64)
    path = saved.save(directions_dir(run), "ganspace")
    try:
        open_run(qtbot, pane, run)
        tab = pane.components_tab
        assert [tab.showing.itemText(i) for i in range(tab.showing.count())] == ["GANSpace"]
        with qtbot.waitSignal(tab.rendered, timeout=LONG):
            pane.modes.setCurrentWidget(tab)
        assert tab.method == "ganspace" and len(tab.views) == 3 and not tab.progress.isVisible()
        assert np.array_equal(tab.sets["ganspace"].normals, saved.normals)
    finally:  # the other tests expect no sliders but their own
        path.unlink()
        path.with_suffix(".npy").unlink()
