"""The window as a new user meets it: a toolbar that says what its buttons do, a relaunch that continues where
the last session ended, light and dark colour schemes that every title follows, and presets in the New-run dialog
that keep the dataset the user opened."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtGui import QKeySequence, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolBar  # noqa: E402

from faceforge.gui.main_window import MainWindow  # noqa: E402
from faceforge.gui.new_run_dialog import NewRunDialog  # noqa: E402
from faceforge.gui.settings import GuiSettings  # noqa: E402
from faceforge.runs import Run  # noqa: E402
from faceforge.training.plans import PRESETS, quick_look_config  # noqa: E402

LONG = 120_000
NAMES = [f"{i:06d}.jpg" for i in range(1, 9)]


@pytest.fixture
def celeba(tmp_path):
    """CelebA as downloaded: img_align_celeba/ with list_attr_celeba.txt beside it."""
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in NAMES:
        Image.fromarray(rng.integers(0, 255, (24, 20, 3), dtype=np.uint8)).save(folder / name)
    rows = [f"{n} {1 if i % 2 else -1} {1 if i % 3 else -1} -1" for i, n in enumerate(NAMES)]
    labels = folder.parent / "list_attr_celeba.txt"
    labels.write_text("\n".join([str(len(NAMES)), "Smiling Male Eyeglasses", *rows]) + "\n")
    return folder, labels


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    import faceforge.gui.dataset_pane as dp

    monkeypatch.setattr(dp, "PREVIEW_COUNT", 200)
    monkeypatch.setattr(dp, "PREVIEW_CHUNK", 100)
    made = []

    def make(**kwargs):
        kwargs.setdefault("warm_up", False)
        kwargs.setdefault("settings", GuiSettings(tmp_path / "gui.json"))
        w = MainWindow(**kwargs)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()


def test_the_toolbar_says_what_each_button_does_and_its_shortcut(window):
    w = window(initial_dataset=None)
    toolbar = w.findChild(QToolBar, "main-toolbar")
    shown = [a for a in toolbar.actions() if not a.isSeparator()]
    assert [a.iconText() for a in shown] == ["Open dataset", "Open run", "New run", "Start", "Pause", "Stop",
                                             "Export grid"]
    assert toolbar.toolButtonStyle().name == "ToolButtonTextBesideIcon"
    keys = QKeySequence(QKeySequence.StandardKey.Open).toString(QKeySequence.SequenceFormat.NativeText)
    assert w.act_open_folder.toolTip().endswith(f"({keys})") and w.act_start.toolTip().endswith("(F5)")
    icons = [a.icon().pixmap(16, 16).toImage() for a in (w.act_open_folder, w.act_open_run, w.act_new_run)]
    assert icons[0] != icons[1] and icons[1] != icons[2] and icons[0] != icons[2]


def test_a_relaunch_reopens_the_last_dataset_run_and_tab(window, qtbot, celeba, tmp_path):
    folder, labels = celeba
    run = Run(tmp_path / "runs" / "00001-celeba")
    run.write_config(quick_look_config())
    first = window(initial_dataset=None)
    with qtbot.waitSignal(first.datasetLoaded, timeout=LONG):
        first.open_dataset(str(folder))  # its labels are found beside it
    first.open_run(run.path)
    first.tabs.setCurrentWidget(first.dataset_pane)
    first.close()

    again = window(initial_dataset=None, settings=GuiSettings(tmp_path / "gui.json"))
    with qtbot.waitSignal(again.datasetLoaded, timeout=LONG):
        again.reopen_last()
    assert again.dataset_pane.source == str(folder) and again.dataset_pane.labels_path == str(labels)
    assert again.train_pane.shown_run == run.path
    assert again.tabs.currentWidget() is again.dataset_pane


def test_declined_labels_stay_declined_after_a_relaunch(window, qtbot, celeba, tmp_path):
    folder, _ = celeba
    first = window(initial_dataset=None)
    with qtbot.waitSignal(first.datasetLoaded, timeout=LONG):
        first.open_dataset(str(folder))
    with qtbot.waitSignal(first.datasetLoaded, timeout=LONG):
        first.dataset_pane.drop_labels()
    again = window(initial_dataset=None, settings=GuiSettings(tmp_path / "gui.json"))
    with qtbot.waitSignal(again.datasetLoaded, timeout=LONG):
        again.reopen_last()
    assert again.dataset_pane.source == str(folder) and again.dataset_pane.labels_path is None


def test_a_first_launch_opens_the_builtin_faces_with_the_count_training_uses(window, qtbot):
    w = window(initial_dataset=None)
    with qtbot.waitSignal(w.datasetLoaded, timeout=LONG):
        w.reopen_last()
    assert w.dataset_pane.view.builtin
    assert "previewing 200 of 10,000 images" in w.dataset_pane.title.text()


def test_dark_and_light_schemes_reach_every_title(window, qtbot, monkeypatch):
    from faceforge.gui import app

    w = window(initial_dataset=None)
    qapp = QApplication.instance()
    before = qapp.palette()
    try:
        w.act_schemes["dark"].trigger()
        title = w.dataset_pane.title
        qtbot.waitUntil(lambda: title.palette().color(QPalette.ColorRole.Window).lightness() < 100, timeout=5000)
        assert title.palette().color(title.foregroundRole()).lightness() > 200  # light text on dark
        assert w.settings.color_scheme == "dark" and w.act_schemes["dark"].isChecked()
        w.act_schemes["light"].trigger()
        qtbot.waitUntil(lambda: title.palette().color(title.foregroundRole()).lightness() < 50, timeout=5000)
        monkeypatch.setenv(app.COLOR_SCHEME_ENV, "dark")
        assert app.startup_color_scheme("light") == "dark"
        monkeypatch.setenv(app.COLOR_SCHEME_ENV, "purple")
        assert app.startup_color_scheme("light") == "light"  # a typo is ignored (and logged)
    finally:
        w.act_schemes["system"].trigger()
        QApplication.processEvents()
    assert qapp.palette().color(QPalette.ColorRole.Window) == before.color(QPalette.ColorRole.Window)


def test_every_preset_keeps_the_celeba_dataset_and_its_labels(window, qtbot, celeba, monkeypatch):
    folder, labels = celeba
    w = window(initial_dataset=None)
    with qtbot.waitSignal(w.datasetLoaded, timeout=LONG):
        w.open_dataset(str(folder), str(labels))
    seen = []

    def exec_and_check(dialog):
        for name in PRESETS:
            dialog.preset.textActivated.emit(name)
            cfg = dialog.config()
            seen.append((name, cfg.data.source, cfg.data.labels, cfg.data.attributes, dialog.preset.currentText()))
        return NewRunDialog.DialogCode.Rejected

    monkeypatch.setattr(NewRunDialog, "exec", exec_and_check)
    w.new_run()
    assert [s[0] for s in seen] == list(PRESETS)
    for name, source, labels_file, attributes, box in seen:
        assert (source, labels_file) == (str(folder), str(labels)), name
        assert attributes == ["Smiling", "Male", "Eyeglasses"] and box == name
    assert Path(w.plan.data.source) == folder  # a cancelled dialog leaves the plan as it was


def test_the_new_run_dialog_finds_celebas_labels_beside_a_chosen_folder(qtbot, celeba):
    from faceforge.gui.tasks import TaskRunner

    folder, labels = celeba
    runner = TaskRunner()
    dialog = NewRunDialog(runner, config=quick_look_config(), train_threads=1)
    qtbot.addWidget(dialog)
    dialog._set_source(str(folder), None)  # what the Folder… button does with the chosen folder
    assert dialog.labels.text() == str(labels)
    qtbot.waitUntil(lambda: dialog._attribute_names() == ["Smiling", "Male", "Eyeglasses"], timeout=LONG)
    assert dialog.config().data.labels == str(labels)
    dialog.reject()
    runner.shutdown()


def test_a_bad_labels_file_is_no_cannot_open_the_dataset_error(window, qtbot, celeba, tmp_path):
    folder, _ = celeba
    bad = tmp_path / "notes.txt"
    bad.write_text("Photos from the reunion.\nAsk Anna before sharing them.\nThanks everyone!\n")
    w = window(initial_dataset=None)
    with qtbot.waitSignal(w.datasetLoaded, timeout=LONG):
        w.open_dataset(str(folder), str(bad))
    assert w.last_error == ""  # no "Cannot open the dataset" box: the images opened
    assert "is not a CelebA attribute file or a CSV" in w.dataset_pane.labels_info.text()
    assert w.plan.data.labels is None and w.plan.data.source == str(folder)
