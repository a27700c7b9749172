"""Dataset pane: a folder with a CelebA label file loads, filters by attributes, shows thumbnails decoded off the
GUI thread, shows one image large with its labels, and lists bad files after a check; the lazy thumbnail model
handles 200,000 rows."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from faceforge.gui.dataset_pane import DatasetPane  # noqa: E402
from faceforge.gui.tasks import TaskRunner  # noqa: E402
from faceforge.gui.thumbnails import FETCH_BATCH, ThumbnailModel  # noqa: E402

LONG = 60_000
# (file, Smiling, Eyeglasses)
ROWS = [(f"{i:06d}.png", 1 if i % 2 else -1, 1 if i % 3 == 0 else -1) for i in range(1, 13)]


@pytest.fixture
def labelled_folder(tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, _, _ in ROWS:
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(folder / name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    labels = tmp_path / "list_attr_celeba.txt"
    # Pale_Skin: a column that is not among the usual CelebA attributes (not proposed for conditioning)
    lines = [str(len(ROWS)), "Smiling Eyeglasses Pale_Skin"] + [f"{n}  {s:2d} {e:2d} -1" for n, s, e in ROWS]
    labels.write_text("\n".join(lines) + "\n")
    return folder, labels


@pytest.fixture
def pane(qtbot):
    runner = TaskRunner()
    p = DatasetPane(runner)
    qtbot.addWidget(p)
    p.resize(1200, 700)
    p.show()
    yield p
    p.shutdown()
    runner.shutdown()


def test_folder_with_celeba_labels_loads_and_filters(pane, qtbot, labelled_folder):
    folder, labels = labelled_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(labels))
    view = pane.view
    assert len(view) == 13  # 12 images + the broken one (scanning never decodes)
    assert view.attributes == ["Smiling", "Eyeglasses", "Pale_Skin"]
    assert np.isnan(view.labels).all(axis=1).sum() == 1  # the broken file has no label row
    assert pane.table.rowCount() == 3
    assert pane.table.item(0, 2).text() == "50.0 %"  # 6 of 12 smiling
    # the attributes the model will condition on default to the common CelebA ones
    assert pane.checked_attributes() == ["Smiling", "Eyeglasses"]
    with qtbot.waitSignal(pane.conditioningChanged, timeout=5000) as changed:
        pane.table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    assert changed.args[0] == ["Smiling"]

    pane.set_filter("Smiling", "+")
    smiling = [n for n, s, _ in ROWS if s > 0]
    assert pane.model.total_rows == len(smiling)
    pane.set_filter("Eyeglasses", "-")
    wanted = [n for n, s, e in ROWS if s > 0 and e < 0]
    assert pane.model.total_rows == len(wanted)
    shown = [view.images.name(int(i)) for i in pane.shown_indices()]
    assert shown == wanted
    assert "match Smiling+, Eyeglasses−" in pane.count_label.text()
    pane.clear_filters()
    assert pane.model.total_rows == 13


def test_thumbnails_decode_off_the_gui_thread_and_a_click_shows_labels(pane, qtbot, labelled_folder):
    folder, labels = labelled_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(labels))
    qtbot.waitUntil(lambda: len(pane.model.cache) + len(pane.model._broken) >= 13, timeout=LONG)
    assert len(pane.model.cache) == 12  # every good file decoded
    assert pane.model._broken  # the broken file got the "unreadable" placeholder, not a crash
    index = pane.model.index(0)
    pane.grid.clicked.emit(index)
    qtbot.waitUntil(lambda: pane.large.array() is not None, timeout=LONG)
    assert pane.large_name.text() == "000001.png"
    text = pane.large_labels.toPlainText()
    assert "Smiling" in text and "-1.00" in text


def test_check_lists_bad_files_with_reasons(pane, qtbot, labelled_folder):
    folder, labels = labelled_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(labels))
    with qtbot.waitSignal(pane.checkFinished, timeout=LONG) as done:
        pane.start_check()
    assert done.args[0] is not None
    assert pane.bad_table.rowCount() == 1
    assert pane.bad_table.item(0, 0).text().endswith("broken.png")
    assert pane.bad_table.item(0, 1).text()  # a reason, in words
    assert "12" in pane.check_summary.text()


def test_opening_a_missing_folder_is_a_readable_error(pane, qtbot, tmp_path):
    with qtbot.waitSignal(pane.loadFailed, timeout=LONG) as failed:
        pane.open_source(str(tmp_path / "nope"))
    assert "nope" in failed.args[0]
    assert "Traceback" not in failed.args[0]


def test_builtin_faces_are_rendered_in_a_worker(pane, qtbot, monkeypatch):
    import faceforge.gui.dataset_pane as dp

    monkeypatch.setattr(dp, "PREVIEW_COUNT", 200)
    monkeypatch.setattr(dp, "PREVIEW_CHUNK", 100)
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source("builtin:faces")
    assert len(pane.view) == 200 and pane.view.builtin
    assert pane.checked_attributes() == pane.view.attributes  # all built-in attributes by default
    assert not pane.check_button.isEnabled()
    pane.chart_choice.setCurrentIndex(1)  # the values of one attribute: a histogram over -1..1
    import pyqtgraph as pg

    bars = [i for i in pane.chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == 1 and bars[0].opts["height"].sum() == 200
    assert pane.chart_choice.currentText() == "Values of smile"


class CountingSource:
    """200,000 virtual images; records which threads decode."""

    def __init__(self, n=200_000):
        self.n = n
        self.threads = set()
        self.lock = threading.Lock()

    def __len__(self):
        return self.n

    def name(self, i):
        return f"img{i:06d}.jpg"

    def thumb(self, i, size):
        with self.lock:
            self.threads.add(threading.get_ident())
        return np.full((size, size, 3), i % 255, np.uint8)

    def image(self, i):
        return self.thumb(i, 64)


def test_lazy_model_at_200k_rows(qtbot):
    source = CountingSource()
    model = ThumbnailModel()
    model.set_source(source)
    assert model.rowCount() == FETCH_BATCH and model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 2 * FETCH_BATCH
    first = model.data(model.index(5), Qt.ItemDataRole.DecorationRole)  # a placeholder, and a request
    assert first is not None and 5 not in model.cache
    qtbot.waitUntil(lambda: 5 in model.cache, timeout=10_000)
    assert threading.get_ident() not in source.threads  # never decoded on the GUI thread
    model.set_rows(np.arange(0, 200_000, 7))  # a filter: cache kept, keyed by dataset index
    assert model.total_rows == len(range(0, 200_000, 7)) and model.rowCount() == FETCH_BATCH
    model.loader.shutdown()


def test_clicking_a_filter_cell_cycles_any_plus_minus(pane, qtbot, labelled_folder):
    folder, labels = labelled_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(labels))
    with qtbot.waitSignal(pane.filterChanged, timeout=5000) as shown:
        pane.table.cellClicked.emit(0, 3)  # Smiling: any -> +
    assert shown.args[0] == 6 and pane.table.item(0, 3).text().startswith("+")
    with qtbot.waitSignal(pane.filterChanged, timeout=5000) as shown:
        pane.table.cellClicked.emit(0, 3)  # + -> −
    assert shown.args[0] == 6 and pane.table.item(0, 3).text().startswith("−")
    with qtbot.waitSignal(pane.filterChanged, timeout=5000) as shown:
        pane.table.cellClicked.emit(0, 3)  # − -> any
    assert shown.args[0] == 13
