"""The Train pane's style-mixing figure, proved with a toy W-space model (tests/toy_w_model.py): a W run shows the
figure of the snapshot on screen under the grid, live from the training worker and from samples/mixing/ when the
run is opened again or the scrubber moves; a DCGAN-family run (the 0.1.0 fixture run) shows none."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from faceforge.config import TrainConfig  # noqa: E402
from faceforge.gui import growth_view  # noqa: E402
from faceforge.gui.snapshots import load_png  # noqa: E402
from faceforge.runs import Run  # noqa: E402
from toy_w_model import toy_w_registered  # noqa: E402
from gui_helpers import main_window

LONG = 120_000
OLD_RUN = Path(__file__).parent / "data" / "old-run" / "runs" / "00000-builtin-faces-cdcgan32"


@pytest.fixture
def window(qtbot):
    with toy_w_registered(), main_window(qtbot) as w:
        yield w


def toy_config() -> TrainConfig:
    cfg = TrainConfig(seed=1, name="toy-w")
    cfg.data.source, cfg.data.builtin_count, cfg.data.attributes = "builtin:faces", 64, ["smile", "glasses"]
    cfg.data.resolution = cfg.model.resolution = 32
    cfg.model.name, cfg.model.z_dim = "toy-w", 8
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = 12, 8, 2, 6, 6, 4
    s.metrics_every = 0
    cfg.perf.device, cfg.perf.precision, cfg.perf.channels_last, cfg.perf.gemm_layers = "cpu", "fp32", False, []
    cfg.perf.threads, cfg.perf.adapt_threads = 1, False
    return cfg


def varied(widget) -> bool:
    image = widget.grab().toImage()
    assert not image.isNull() and image.width() > 0 and image.height() > 0
    return len({image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}) > 16


def test_a_w_run_shows_the_style_mixing_figure_live_and_when_opened_and_a_dcgan_run_does_not(window, qtbot,
                                                                                               monkeypatch, tmp_path):
    pane = window.train_pane
    mixing = pane.growth.mixing
    reads = []
    real_load = growth_view.load_figure
    # live: from the event (the first snapshot may come before the pane opened the run: read from its file)
    monkeypatch.setattr(growth_view, "load_figure", lambda *a, **k: reads.append(a[1]))
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        assert window.start_training(toy_config())
    assert finished.args[0]["state"] == "finished", finished.args[0]
    run_dir = Path(finished.args[0]["run_dir"])
    qtbot.waitUntil(lambda: mixing.shown_step == 12, timeout=10_000)
    on_disk = load_png(Run(run_dir).mixing_path(12))
    assert np.array_equal(mixing.view.array(), on_disk) and set(reads) <= {0}
    assert mixing.isVisibleTo(pane) and mixing.title.text().startswith("Style mixing, step 12:")
    assert varied(mixing.view) and not pane.growth.scales.isVisibleTo(pane)
    if os.environ.get("FACEFORGE_SHOTS"):
        pane.grab().save(str(Path(os.environ["FACEFORGE_SHOTS"]) / "train-pane-mixing.png"))

    monkeypatch.setattr(growth_view, "load_figure", real_load)
    pane.show_run(None)
    assert not mixing.isVisibleTo(pane)
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        pane.show_run(run_dir)
    qtbot.waitUntil(lambda: mixing.shown_step == 12, timeout=10_000)
    assert np.array_equal(mixing.view.array(), on_disk)
    pane.samples.scrub_to(1)  # the scrubber moves: the figure of that snapshot, from its file
    qtbot.waitUntil(lambda: mixing.shown_step == 6, timeout=10_000)
    assert np.array_equal(mixing.view.array(), load_png(Run(run_dir).mixing_path(6)))

    old = tmp_path / OLD_RUN.name
    shutil.copytree(OLD_RUN, old)
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        pane.show_run(old)
    assert not mixing.isVisibleTo(pane) and pane.samples.current_step is not None
