"""The main window: opens on the built-in faces with all three panes, standard shortcuts, recent items and
window settings in the (temp) config folder, drops, readable errors; the New-run dialog; the Edit pane."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QKeySequence, QPalette  # noqa: E402

from faceforge import paths  # noqa: E402
from faceforge.gui.main_window import MainWindow  # noqa: E402
from faceforge.gui.new_run_dialog import NewRunDialog  # noqa: E402
from faceforge.training import start_run  # noqa: E402
from faceforge.training.plans import quick_look_config  # noqa: E402

LONG = 120_000


@pytest.fixture
def make_window(qtbot, monkeypatch):
    import faceforge.gui.dataset_pane as dp

    monkeypatch.setattr(dp, "PREVIEW_COUNT", 300)  # a few hundred faces keep the test quick
    monkeypatch.setattr(dp, "PREVIEW_CHUNK", 150)
    made = []

    def make(**kwargs):
        kwargs.setdefault("warm_up", False)
        w = MainWindow(**kwargs)
        w.confirm_stop_on_close = lambda: True
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    cfg = quick_look_config()
    cfg.data.builtin_count = 200
    cfg.data.attributes = ["smile", "glasses"]
    cfg.model.g_channels = cfg.model.d_channels = 8
    cfg.model.z_dim = 16
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = 12, 8, 2, 6, 6, 16
    cfg.perf.precision, cfg.perf.channels_last = "fp32", False
    cfg.perf.gemm_layers = []
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # as the window's worker does; much faster on 2 busy cores
    try:
        return start_run(cfg, runs_root=tmp_path_factory.mktemp("runs")).run_dir
    finally:
        torch.set_num_threads(previous)


def test_window_opens_on_the_builtin_faces_with_all_panes(make_window, qtbot):
    w = make_window()
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == ["Dataset", "Train", "Edit", "Data faces"]
    assert len(w.data_faces_pane.table) == 43  # the example table, so the Data faces tab is never empty
    with qtbot.waitSignal(w.datasetLoaded, timeout=LONG):
        pass
    assert w.dataset_pane.view.builtin and len(w.dataset_pane.view) == 300
    # ready to train with one click: the plan is the quick look on the built-in faces
    assert w.plan.data.source == "builtin:faces" and w.plan.model.name == "cdcgan"
    assert w.plan.data.attributes == w.dataset_pane.checked_attributes()
    assert w.act_start.isEnabled() and "Start will train" in w.train_pane.plan_label.text()
    # standard shortcuts
    assert w.act_open_folder.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert w.act_new_run.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert w.act_export.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert w.act_quit.shortcut() == QKeySequence(QKeySequence.StandardKey.Quit)
    assert w.act_start.shortcut().toString() == "F5"
    menus = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert menus == ["File", "Train", "View", "Help"]
    # plots follow the palette (light/dark)
    base = w.palette().color(QPalette.ColorRole.Base)
    assert w.train_pane.plots.view.backgroundBrush().color() == base


def test_recent_runs_and_datasets_persist_in_the_config_folder(make_window, qtbot, finished_run, tmp_path):
    w = make_window(initial_dataset=None)
    with qtbot.waitSignal(w.train_pane.runShown, timeout=LONG):
        w.open_path(finished_run)  # as if dropped on the window
    assert w.tabs.currentWidget() is w.train_pane
    folder = tmp_path / "imgs"
    folder.mkdir()
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 100, 50)).save(folder / "a.png")
    with qtbot.waitSignal(w.datasetLoaded, timeout=LONG):
        w.open_path(folder)
    data = json.loads((paths.config_dir() / "gui.json").read_text())
    assert data["recent_runs"][0] == str(finished_run)
    assert data["recent_datasets"][0]["source"] == str(folder)
    assert w.plan.data.source == str(folder) and w.plan.model.name == "dcgan"  # no labels: unconditional
    from faceforge.gui.window_menus import fill_recent_runs

    fill_recent_runs(w)
    assert w.recent_runs_menu.actions()[0].text() == finished_run.name
    w.close()
    assert (paths.config_dir() / "window.ini").exists()


def test_errors_are_readable_messages_not_tracebacks(make_window, tmp_path):
    w = make_window(initial_dataset=None)
    assert w.open_run(tmp_path) is False
    assert "not a FaceForge run folder" in w.last_error
    assert "Traceback" not in w.last_error


def test_new_run_dialog_presets_and_estimate(qtbot):
    from faceforge.gui.tasks import TaskRunner

    runner = TaskRunner()
    dialog = NewRunDialog(runner, config=quick_look_config(), train_threads=1)
    qtbot.addWidget(dialog)
    cfg = dialog.config()
    assert (cfg.model.name, cfg.model.resolution, cfg.schedule.steps, cfg.schedule.batch_size) == ("cdcgan", 32, 2000, 64)
    assert cfg.data.source == "builtin:faces" and cfg.data.attributes
    assert dialog.preset.currentText() == "Quick look, CPU, 32 px"  # the box names what the fields are
    dialog.preset.textActivated.emit("Faces 64 px (CelebA settings)")
    cfg = dialog.config()
    assert (cfg.model.resolution, cfg.schedule.steps) == (64, 20000)
    assert cfg.data.source == "builtin:faces" and cfg.data.attributes  # a preset never changes the data
    assert dialog.preset.currentText() == "Faces 64 px (CelebA settings)"
    dialog.steps.setValue(1234)
    assert dialog.preset.currentText() == "Custom"  # edited fields: no preset claims them
    dialog.preset.textActivated.emit("Quick look, CPU, 32 px")
    assert dialog.config().model.resolution == 32 and dialog.preset.currentText() == "Quick look, CPU, 32 px"
    for i in range(dialog.attributes.count()):
        dialog.attributes.item(i).setCheckState(dialog.attributes.item(i).checkState().Unchecked)
    assert dialog.config().model.name == "dcgan" and dialog.problem() == ""  # no attributes: the twin
    dialog.model.setCurrentIndex(dialog.model.findData("cdcgan"))
    assert "at least one attribute" in dialog.problem()
    dialog.attributes.item(0).setCheckState(dialog.attributes.item(0).checkState().Checked)
    assert dialog.config().model.name == "cdcgan"
    dialog.conditioning.setCurrentIndex(dialog.conditioning.findData("projection"))
    assert dialog.config().model.conditioning == "projection"  # every placement is selectable
    dialog.width_spin.setValue(8)
    dialog.batch.setValue(8)
    assert dialog.config().perf.threads == 0 and dialog.threads.text().startswith("automatic")
    dialog.threads.setValue(1)  # the user's choice of CPU threads goes into the run's config
    assert dialog.config().perf.threads == 1
    assert dialog.problem() == ""
    with qtbot.waitSignal(dialog.estimated, timeout=LONG) as est:
        dialog.run_estimate()
    assert "per 1,000 steps" in est.args[0]
    dialog.reject()
    runner.shutdown()


def test_edit_pane_renders_faces_and_attribute_sliders_change_them(make_window, qtbot, finished_run):
    w = make_window(initial_dataset=None)
    edit = w.edit_pane
    w.tabs.setCurrentWidget(edit)
    with qtbot.waitSignal(edit.modelLoaded, timeout=LONG) as loaded:
        edit.set_run(finished_run)
    assert loaded.args[0]["attributes"] == ["smile", "glasses"]
    qtbot.waitUntil(lambda: edit.images is not None, timeout=LONG)
    before = edit.images.copy()
    assert before.shape == (16, 32, 32, 3) and edit.grid.array() is not None
    with qtbot.waitSignal(edit.rendered, timeout=LONG):
        edit.set_attribute("glasses", 2.0)
    assert edit.settings() == {"glasses": 2.0}
    assert not np.array_equal(edit.images, before)
    with qtbot.waitSignal(edit.rendered, timeout=LONG):
        edit.seed.setValue(edit.seed.value() + 1)
    with qtbot.waitSignal(edit.rendered, timeout=LONG):
        edit.reset_attributes()
    assert edit.settings() == {}


def test_edit_pane_says_why_when_a_run_has_no_checkpoint(make_window, qtbot, tmp_path):
    from faceforge.runs import Run

    run = Run(tmp_path / "00000-empty")
    run.write_config(quick_look_config())
    w = make_window(initial_dataset=None)
    w.tabs.setCurrentWidget(w.edit_pane)
    with qtbot.waitSignal(w.edit_pane.statusMessage, timeout=LONG) as msg:
        w.edit_pane.set_run(run.path)
    assert "no checkpoint" in msg.args[0]


def test_no_display_prints_what_to_do_instead_of_aborting(monkeypatch, capsys):
    from faceforge.gui import app

    monkeypatch.setattr(app.sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert app.main(["faceforge"]) == 2
    assert "faceforge train" in capsys.readouterr().err


def test_the_estimate_times_with_the_thread_count_training_will_have(monkeypatch):
    import torch

    from faceforge.gui import new_run_dialog
    from faceforge.training import estimate as estimate_mod

    monkeypatch.setattr(estimate_mod, "estimate_run", lambda config, steps: {"threads": torch.get_num_threads()})
    before = torch.get_num_threads()
    assert new_run_dialog.estimate(quick_look_config(), 1) == {"threads": 1}  # what the dialog runs on the pool
    assert torch.get_num_threads() == before  # the pool thread gets its own count back


def test_the_attribute_classifier_trains_from_the_window_and_shows_held_out_results(make_window, qtbot,
                                                                                     finished_run, monkeypatch):
    import faceforge.training.classifier as core

    train_for_run = core.train_for_run
    monkeypatch.setattr(core, "train_for_run", lambda run_dir, **kw: train_for_run(run_dir, epochs=0.3, **kw))
    w = make_window(initial_dataset=None)
    assert w.open_classifier() is None and "Open or select a run" in w.statusBar().currentMessage()
    w.open_run(finished_run)
    dialog = w.open_classifier()
    assert finished_run.name in dialog.intro.text()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.metrics is not None, timeout=LONG)
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "glasses" in names and "smile" in names  # every labelled attribute, not only the conditioned ones
    glasses = names.index("glasses")
    assert "%" in dialog.table.item(glasses, 1).text() and "majority" in dialog.table.item(glasses, 2).text()
    assert "mean error" in dialog.table.item(names.index("smile"), 1).text()  # built-in smile is continuous
    assert (finished_run / "classifier").is_dir() and "Saved in" in dialog.message.text()
    dialog.reject()
