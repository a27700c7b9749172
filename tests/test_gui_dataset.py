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


@pytest.fixture
def aged_folder(tmp_path):
    """CelebA's layout (images/ + list_attr_celeba.txt beside it) and a CSV with Age in years."""
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name, _, _ in ROWS:
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(folder / name)
    lines = [str(len(ROWS)), "Smiling Eyeglasses"] + [f"{n}  {s:2d} {e:2d}" for n, s, e in ROWS]
    (tmp_path / "celeba" / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    ages = tmp_path / "ages.csv"
    ages.write_text("filename,Smiling,Age\n" + "".join(f"{n},{s},{18 + 6 * i}\n" for i, (n, s, _) in enumerate(ROWS)))
    return folder, ages


def test_a_continuous_column_shows_its_range_and_filters_by_a_range_in_its_units(pane, qtbot, aged_folder):
    import pyqtgraph as pg

    folder, ages = aged_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(ages))
    assert pane.attributes == ["Smiling", "Age"]
    assert pane.table.item(0, 2).text() == "50.0 %"  # yes/no: the share positive
    assert pane.table.item(1, 2).text() == "18–84, mean 51.0"  # a quantity: range and mean in years
    pane.table.selectRow(1)  # the chart shows its histogram over 18..84 years, the range boxes appear
    assert pane.chart_choice.currentText() == "Values of Age"
    bars = [i for i in pane.chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert bars[0].opts["height"].sum() == 12 and bars[0].opts["x"].min() > 18 and bars[0].opts["x"].max() < 84
    editor = pane.attribute_panel.range_filter
    assert editor.isVisible() and (editor.low.minimum(), editor.high.maximum()) == (18, 84)
    with qtbot.waitSignal(pane.filterChanged, timeout=5000) as shown:
        editor.low.setValue(30)
    assert shown.args[0] == 10  # ages 30..84: rows 3..12
    with qtbot.waitSignal(pane.filterChanged, timeout=5000) as shown:
        editor.high.setValue(48)
    assert shown.args[0] == 4 and pane.table.item(1, 3).text() == "30–48"
    assert "match Age 30–48" in pane.count_label.text()
    pane.set_filter("Smiling", "+")
    assert pane.model.total_rows == len([i for i in range(12) if 30 <= 18 + 6 * i <= 48 and ROWS[i][1] > 0])
    with qtbot.waitSignal(pane.conditioningChanged, timeout=5000) as changed:  # "Use" works for a quantity too
        pane.table.item(1, 0).setCheckState(Qt.CheckState.Checked)
    assert "Age" in changed.args[0]
    editor.clear_button.click()
    pane.set_filter("Smiling", "any")
    assert pane.model.total_rows == 12 and pane.table.item(1, 3).text() == "any"
    pane.grid.clicked.emit(pane.model.index(2))
    assert pane.large_labels.toPlainText().splitlines()[1].split() == ["Age", "30"]


def test_celeba_labels_beside_the_folder_are_found_and_can_be_dropped(pane, qtbot, aged_folder):
    folder, _ = aged_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder))
    found = folder.parent / "list_attr_celeba.txt"
    assert pane.labels_path == str(found) and pane.attributes == ["Smiling", "Eyeglasses"]
    assert pane.labels_row.isVisible() and pane.labels_info.text().startswith(f"Found labels: {found}")
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.drop_labels_button.click()
    assert pane.labels_path is None and pane.attributes == [] and not pane.labels_row.isVisible()
    assert pane.attribute_panel.no_labels.isVisible() and not pane.find_labels


def test_a_bad_labels_file_keeps_the_images_and_says_only_why(pane, qtbot, labelled_folder, tmp_path):
    folder, _ = labelled_folder
    bad = tmp_path / "bad.csv"
    bad.write_text("filename,Smiling\n000001.png,1\n000002.png\n")
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(bad))
    assert "faces — 13 images" in pane.title.text()  # the count stays in the title
    assert "line 3" in pane.labels_info.text() and pane.labels_row.isVisible()
    assert "This dataset has no labels" not in pane.attribute_panel.no_labels.text()
    assert pane.attribute_panel.no_labels.isVisible() and pane.labels_path is None


def test_unreadable_files_are_counted_without_asking(pane, qtbot, labelled_folder):
    folder, labels = labelled_folder
    with qtbot.waitSignal(pane.checkFinished, timeout=LONG) as done:  # small datasets are checked by themselves
        pane.open_source(str(folder), str(labels))
    assert done.args[0] is not None and len(done.args[0].bad) == 1
    assert "(1 cannot be read)" in pane.title.text()
    assert pane.check_summary.text().startswith("1 of 13 images cannot be read and are left out")
    assert "training uses the other 12" in pane.check_summary.text()


def test_the_large_view_forgets_the_previous_dataset(pane, qtbot, labelled_folder, tmp_path):
    folder, labels = labelled_folder
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(folder), str(labels))
    broken = [i for i in range(len(pane.view)) if pane.view.images.name(i) == "broken.png"][0]
    pane.grid.clicked.emit(pane.model.index(broken))
    qtbot.waitUntil(lambda: pane.large._empty_text.startswith("Cannot show"), timeout=LONG)
    other = tmp_path / "other"
    other.mkdir()
    Image.new("RGB", (16, 16)).save(other / "x.png")
    with qtbot.waitSignal(pane.datasetLoaded, timeout=LONG):
        pane.open_source(str(other))
    assert pane.large._empty_text == "Click a thumbnail to see it large with its labels"
    assert pane.large_name.text() == "" and pane.large.array() is None
