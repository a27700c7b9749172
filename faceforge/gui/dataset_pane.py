"""The Dataset tab: look at the images before training on them.

A thumbnail grid (lazy model + pooled decoding, see ``thumbnails.py``), the attributes of a labelled dataset with
their positive rates, a bar chart, attribute filters (e.g. Smiling=+, Eyeglasses=-) implemented as an index array
over the label matrix, the choice of attributes the conditional model will use (they feed the New-run dialog), a
large view of one image with its labels, and a file check (``check_dataset``) with progress, time left, Cancel and
a table of the files that cannot be used and why.

Everything slow - scanning 200,000 files, reading a label file, rendering the built-in faces, checking files -
runs on the task pool; this module only arranges what comes back.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QListView, QPlainTextEdit, QPushButton, QScrollArea, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.plots import style_plot
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.thumbnails import INDEX_ROLE, ArraySource, ImageSource, RefSource, ThumbnailModel, source_label

log = logging.getLogger(__name__)

BUILTIN = "builtin:faces"
PREVIEW_COUNT = 2000  # built-in faces rendered for browsing (training renders its own, at its own resolution)
PREVIEW_CHUNK = 500
PREVIEW_RESOLUTION = 64
THUMB_SIZE = 64
DEFAULT_CONDITIONING = ["Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair", "Black_Hair", "Bald",
                        "Mouth_Slightly_Open", "Wearing_Hat", "Mustache"]
FILTER_CHOICES = (("any", "any"), ("+", "+ yes"), ("-", "− no"))  # a click on the cell cycles through them
FILTER_ROLE = Qt.ItemDataRole.UserRole + 7


@dataclass
class DatasetView:
    """A dataset as the pane shows it: images to browse and, when labelled, one label row per image."""

    source: str
    labels_path: str | None
    images: ImageSource
    labels: np.ndarray | None  # (N, A) float32 in -1..1; NaN where an image has no label row
    attributes: list[str]
    name: str
    notes: list[str] = field(default_factory=list)

    @property
    def builtin(self) -> bool:
        return self.source.startswith("builtin:")

    def __len__(self) -> int:
        return len(self.images)


def open_dataset_view(source: str, labels_path: str | None, *, state) -> DatasetView:
    """Runs on the pool. Folder/zip: scan (fast, no decoding) and match the labels file; built-in: render faces."""
    if source.startswith("builtin:"):
        from faceforge.data.synthetic import make_builtin

        images, attrs, names = [], [], []
        for k in range(PREVIEW_COUNT // PREVIEW_CHUNK):
            if state.should_stop():
                raise RuntimeError("cancelled")
            im, at, names = make_builtin(PREVIEW_CHUNK, PREVIEW_RESOLUTION, k)
            images.append(im)
            attrs.append(at)
            state.set_progress((k + 1) * PREVIEW_CHUNK, PREVIEW_COUNT)
        return DatasetView(source, None, ArraySource(np.concatenate(images)), np.concatenate(attrs), list(names),
                           "Built-in faces")
    from faceforge.data import scan

    refs = scan(source)
    view = DatasetView(source, labels_path, RefSource(refs), None, [], display_name(source))
    if labels_path:
        from faceforge.data import read_labels

        table = read_labels(Path(labels_path))
        labels = np.full((len(refs), len(table.names)), np.nan, np.float32)
        try:
            idx, values, report = _match(refs, table)
        except ValueError as exc:  # nothing matches: show the images, say why there are no labels
            view.notes.append(str(exc))
        else:
            labels[idx] = values
            view.labels, view.attributes = labels, list(table.names)
            view.notes.extend(report.notes() if hasattr(report, "notes") else [])
    return view


def display_name(source: str) -> str:
    """'celeba-10k/images' rather than a bare 'images': the folder and its parent, or the zip's name."""
    path = Path(source)
    if path.suffix.lower() == ".zip" or not path.parent.name:
        return path.name or source
    return f"{path.parent.name}/{path.name}"


def _match(refs, table):
    """The data layer's own matching (full path, then file name, then stem; case-insensitive), so the pane shows
    exactly the labels training will use."""
    from faceforge.data import match_labels

    return match_labels(refs, table)


def check_files(source: str, labels_path: str | None, *, state):
    from faceforge.data import check_dataset

    return check_dataset(source, labels_path, progress=state.set_progress, should_stop=state.should_stop)


def load_large(images: ImageSource, index: int):
    return images.image(index)


def positive_rates(labels: np.ndarray) -> np.ndarray:
    """Share of labelled images with a value above 0, per attribute (NaN rows ignored)."""
    with np.errstate(invalid="ignore"):
        known = ~np.isnan(labels)
        return np.where(known.sum(0) > 0, (labels > 0).sum(0) / np.maximum(known.sum(0), 1), np.nan)


def filter_rows(labels: np.ndarray | None, n: int, wanted: dict[int, str]) -> np.ndarray:
    """Dataset indices whose labels satisfy every ``column -> '+'/'-'`` requirement (unlabelled rows fail)."""
    if labels is None or not wanted:
        return np.arange(n, dtype=np.int64)
    mask = np.ones(n, bool)
    with np.errstate(invalid="ignore"):
        for col, sign in wanted.items():
            mask &= labels[:, col] > 0 if sign == "+" else labels[:, col] < 0
    return np.flatnonzero(mask)


class ThumbnailGrid(QListView):
    """An icon grid whose cells widen a little so the columns fill the width (no empty strip on the right)."""

    def __init__(self, cell: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.cell = cell
        self.setGridSize(QSize(cell, cell))

    def resizeEvent(self, event) -> None:  # noqa: N802
        width = self.viewport().width() - 2 * self.spacing()
        columns = max(1, width // self.cell)
        cell_w = max(self.cell, width // columns)
        if cell_w != self.gridSize().width():  # only when it changes: a relayout of 200,000 cells is not free
            self.setGridSize(QSize(cell_w, self.cell))
        super().resizeEvent(event)


class DatasetPane(QWidget):
    datasetLoaded = Signal(object)  # DatasetView
    loadFailed = Signal(str)
    conditioningChanged = Signal(list)
    filterChanged = Signal(int)  # rows shown
    checkFinished = Signal(object)  # DatasetReport or None when cancelled/failed
    statusMessage = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.view: DatasetView | None = None
        self._pending: tuple[str, str | None] | None = None
        self._load_slot = TaskSlot(runner, self)
        self._check_slot = TaskSlot(runner, self)
        self._preview_slot = TaskSlot(runner, self)
        self._filters: dict[int, str] = {}
        self._filling = False

        # ---- top bar
        self.title = QLabel("No dataset")
        self.title.setStyleSheet("font-weight: 600; font-size: 13pt")
        self.open_folder_button = QPushButton("Open folder…")
        self.open_zip_button = QPushButton("Open zip…")
        self.builtin_button = QPushButton("Built-in faces")
        self.labels_button = QPushButton("Labels file…")
        self.labels_button.setToolTip("CelebA list_attr_celeba.txt, or a CSV: filename,attr1,attr2,…")
        self.check_button = QPushButton("Check files…")
        self.check_button.setToolTip("Decode every image and list the ones that cannot be used, with the reason")
        self.open_folder_button.clicked.connect(self.browse_folder)
        self.open_zip_button.clicked.connect(self.browse_zip)
        self.builtin_button.clicked.connect(lambda: self.open_source(BUILTIN))
        self.labels_button.clicked.connect(self.browse_labels)
        self.check_button.clicked.connect(self.start_check)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for b in (self.open_folder_button, self.open_zip_button, self.builtin_button, self.labels_button,
                  self.check_button):
            top.addWidget(b)
        self.load_progress = ProgressPanel()

        # ---- attributes: table + chart
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Use", "Attribute", "Positive", "Filter"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Use: the conditional model is conditioned on the checked attributes.\n"
                              "Filter: click to show only images with (+) or without (−) an attribute.")
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_attribute_selected)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.clear_filters_button = QPushButton("Clear filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.chart_choice = QComboBox()
        self.chart_choice.currentIndexChanged.connect(self._update_chart)
        self.chart = pg.PlotWidget()
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.hideButtons()
        self.chart_scroll = QScrollArea()
        self.chart_scroll.setWidgetResizable(True)
        self.chart_scroll.setWidget(self.chart)
        self.chart_scroll.setMinimumHeight(180)
        self.no_labels = QLabel("This dataset has no labels. Choose a labels file (CelebA list_attr_celeba.txt or "
                                "a CSV) to see attributes, filter by them and train a conditional model.")
        self.no_labels.setWordWrap(True)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("Attributes"))
        ll.addWidget(self.no_labels)
        ll.addWidget(self.table, 3)
        ll.addWidget(self.clear_filters_button)
        ll.addWidget(self.chart_choice)
        ll.addWidget(self.chart_scroll, 2)

        # ---- thumbnail grid
        self.model = ThumbnailModel(parent=self)
        self.grid = ThumbnailGrid(THUMB_SIZE + 8)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setBatchSize(500)
        self.grid.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.setSpacing(2)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setModel(self.model)
        self.grid.clicked.connect(self.show_large)
        self.grid.selectionModel().currentChanged.connect(lambda cur, _prev: self.show_large(cur))
        self.count_label = QLabel("")
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.grid, 1)
        cl.addWidget(self.count_label)

        # ---- large view
        self.large = PixelView(empty_text="Click a thumbnail to see it large with its labels", min_side=160)
        self.large_name = QLabel("")
        self.large_name.setWordWrap(True)
        self.large_labels = QPlainTextEdit()
        self.large_labels.setReadOnly(True)
        self.large_labels.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.large, 3)
        rl.addWidget(self.large_name)
        rl.addWidget(self.large_labels, 2)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([300, 640, 300])

        # ---- check results
        self.check_progress = ProgressPanel()
        self.check_summary = QLabel("")
        self.check_summary.setWordWrap(True)
        self.bad_table = QTableWidget(0, 2)
        self.bad_table.setHorizontalHeaderLabels(["File", "Why it cannot be used"])
        self.bad_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.bad_table.horizontalHeader().setStretchLastSection(True)
        self.bad_table.verticalHeader().setVisible(False)
        self.bad_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.bad_table.setMaximumHeight(160)
        self.bad_table.hide()
        self.notes = QLabel("")
        self.notes.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.load_progress)
        layout.addWidget(self.notes)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.check_progress)
        layout.addWidget(self.check_summary)
        layout.addWidget(self.bad_table)
        self._show_attributes()

    # ---------------------------------------------------------------- public API
    @property
    def source(self) -> str | None:
        return self.view.source if self.view else (self._pending[0] if self._pending else None)

    @property
    def labels_path(self) -> str | None:
        return self.view.labels_path if self.view else None

    @property
    def attributes(self) -> list[str]:
        return list(self.view.attributes) if self.view else []

    @property
    def loading(self) -> bool:
        return self._load_slot.busy

    def open_source(self, source: str, labels: str | None = None) -> None:
        """Show a dataset (``builtin:faces``, a folder or a zip), optionally with a labels file."""
        source = str(source)
        self._pending = (source, labels)
        self.title.setText(f"Opening {source_label(source)}…")
        self.notes.setText("")
        what = "Rendering built-in faces" if source.startswith("builtin:") else "Scanning files"
        self._load_slot.start("open dataset", open_dataset_view, source, labels, with_state=True,
                              on_done=self._loaded, on_failed=self._load_failed, on_cancelled=self._load_cancelled,
                              on_started=lambda task: self.load_progress.track(task, what))

    def set_labels(self, path: str | None) -> None:
        if self.view is None or self.view.builtin:
            self.statusMessage.emit("The built-in faces carry their own labels; open a folder or zip first.")
            return
        self.open_source(self.view.source, path)

    def checked_attributes(self) -> list[str]:
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                out.append(self.table.item(row, 1).text())
        return out

    def set_checked_attributes(self, names: list[str]) -> None:
        self._filling = True
        for row in range(self.table.rowCount()):
            on = self.table.item(row, 1).text() in names
            self.table.item(row, 0).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self._filling = False
        self.conditioningChanged.emit(self.checked_attributes())

    def set_filter(self, attribute: str, sign: str) -> None:
        """``sign`` is '+', '-' or 'any'. The grid shows only rows satisfying every filter."""
        self._set_filter_cell(self.attributes.index(attribute), sign)
        self._apply_filters()

    def clear_filters(self) -> None:
        for row in range(self.table.rowCount()):
            self._set_filter_cell(row, "any")
        self._apply_filters()

    def _set_filter_cell(self, row: int, sign: str) -> None:
        item = self.table.item(row, 3)
        item.setData(FILTER_ROLE, sign)
        item.setText(dict(FILTER_CHOICES)[sign])

    def _on_cell_clicked(self, row: int, column: int) -> None:
        """The Filter cell cycles any -> + -> − (a plain item: 40 combo-box widgets cost ~70 ms to build)."""
        if column != 3:
            return
        keys = [k for k, _ in FILTER_CHOICES]
        current = self.table.item(row, 3).data(FILTER_ROLE) or "any"
        self._set_filter_cell(row, keys[(keys.index(current) + 1) % len(keys)])
        self._apply_filters()

    def shown_indices(self) -> np.ndarray:
        return self.model._rows.copy()

    # ---------------------------------------------------------------- loading
    def _loaded(self, view: DatasetView) -> None:
        self.load_progress.finish()
        self.view = view
        self._pending = None
        self.model.set_source(view.images)
        self._filters = {}
        self.title.setText(f"{view.name} — {len(view):,} images"
                           + (f", {len(view.attributes)} attributes" if view.attributes else ""))
        self.notes.setText("\n".join(view.notes))
        self.notes.setVisible(bool(view.notes))
        self.check_button.setEnabled(not view.builtin)
        self.labels_button.setEnabled(not view.builtin)
        self.bad_table.hide()
        self.check_summary.setText("")
        self.large.set_array(None)
        self.large_name.setText("")
        self.large_labels.setPlainText("")
        self._show_attributes()
        self._update_count()
        self.datasetLoaded.emit(view)
        self.conditioningChanged.emit(self.checked_attributes())
        self.statusMessage.emit(f"Opened {view.name}: {len(view):,} images")

    def _load_failed(self, exc: BaseException) -> None:
        self.load_progress.finish()
        message = readable(exc)
        self.title.setText(self.view.name if self.view else "No dataset")
        self._pending = None
        self.loadFailed.emit(message)

    def _load_cancelled(self) -> None:
        self.load_progress.finish()
        self._pending = None
        self.title.setText(self.view.name if self.view else "No dataset")

    def _show_attributes(self) -> None:
        view = self.view
        names = view.attributes if view and view.labels is not None else []
        self._filling = True
        self.table.setRowCount(len(names))
        rates = positive_rates(view.labels) if names else np.zeros(0)
        default = names if (view and view.builtin) else [a for a in DEFAULT_CONDITIONING if a in names]
        for row, name in enumerate(names):
            use = QTableWidgetItem()
            use.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            use.setCheckState(Qt.CheckState.Checked if name in default else Qt.CheckState.Unchecked)
            use.setToolTip("Condition the model on this attribute")
            self.table.setItem(row, 0, use)
            self.table.setItem(row, 1, QTableWidgetItem(name))
            rate = QTableWidgetItem("—" if np.isnan(rates[row]) else f"{100 * rates[row]:.1f} %")
            rate.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 2, rate)
            cell = QTableWidgetItem(dict(FILTER_CHOICES)["any"])
            cell.setData(FILTER_ROLE, "any")
            cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setToolTip("Click: any → + (only images with it) → − (only images without it)")
            self.table.setItem(row, 3, cell)
        self._filling = False
        has = bool(names)
        self.table.setVisible(has)
        self.clear_filters_button.setVisible(has)
        self.chart_choice.setVisible(has)
        self.chart_scroll.setVisible(has)
        self.no_labels.setVisible(not has and view is not None)
        self.chart_choice.blockSignals(True)
        self.chart_choice.clear()
        self.chart_choice.addItem("Positive rate of each attribute", -1)
        for i, name in enumerate(names):
            self.chart_choice.addItem(f"Values of {name}", i)
        self.chart_choice.blockSignals(False)
        self._update_chart()

    # ---------------------------------------------------------------- attributes, filters, chart
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == 0:
            self.conditioningChanged.emit(self.checked_attributes())

    def _on_attribute_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.chart_choice.setCurrentIndex(rows[0].row() + 1)

    def _apply_filters(self) -> None:
        if self.view is None:
            return
        wanted = {}
        for row in range(self.table.rowCount()):
            sign = self.table.item(row, 3).data(FILTER_ROLE)
            if sign in ("+", "-"):
                wanted[row] = sign
        self._filters = wanted
        rows = filter_rows(self.view.labels, len(self.view), wanted)
        self.model.set_rows(rows)
        self._update_count()
        self._update_chart()
        self.filterChanged.emit(len(rows))

    def _update_count(self) -> None:
        if self.view is None:
            self.count_label.setText("")
            return
        shown, total = self.model.total_rows, len(self.view)
        if self._filters:
            names = ", ".join(f"{self.view.attributes[c]}{'+' if s == '+' else '−'}" for c, s in self._filters.items())
            self.count_label.setText(f"{shown:,} of {total:,} images match {names}")
        else:
            self.count_label.setText(f"{total:,} images")

    def _update_chart(self) -> None:
        self.chart.clear()
        view = self.view
        if view is None or view.labels is None:
            return
        labels = view.labels[self.model._rows] if self._filters else view.labels
        choice = self.chart_choice.currentData()  # the combo above the chart names what it shows
        plot = self.chart.getPlotItem()
        left, bottom = plot.getAxis("left"), plot.getAxis("bottom")
        brush = pg.mkBrush("#4c72b0")
        n_shown = len(labels)
        if choice is None or choice < 0:
            rates = np.nan_to_num(positive_rates(labels)) if n_shown else np.zeros(len(view.attributes))
            ys = np.arange(len(view.attributes))
            self.chart.addItem(pg.BarGraphItem(x0=np.zeros_like(rates), y=ys, height=0.7, width=rates, brush=brush))
            left.setTicks([[(i, name) for i, name in enumerate(view.attributes)]])
            bottom.setTicks(None)
            plot.setXRange(0, 1.06, padding=0)
            plot.setYRange(-0.6, len(ys) - 0.4, padding=0)
            plot.getViewBox().invertY(True)
            self.chart.setMinimumHeight(max(160, 18 * len(ys) + 60))
        else:
            values = labels[:, choice]
            values = values[~np.isnan(values)]
            counts, edges = np.histogram(values, bins=21, range=(-1.05, 1.05))
            centres = (edges[:-1] + edges[1:]) / 2
            self.chart.addItem(pg.BarGraphItem(x=centres, height=counts, width=edges[1] - edges[0], brush=brush))
            left.setTicks(None)
            bottom.setTicks(None)
            plot.getViewBox().invertY(False)
            plot.setXRange(-1.1, 1.1, padding=0)
            plot.setYRange(0, max(1, counts.max()) * 1.05, padding=0)
            self.chart.setMinimumHeight(160)
        style_plot(self.chart, self.palette())

    # ---------------------------------------------------------------- large view
    def show_large(self, index: QModelIndex) -> None:
        if self.view is None or not index.isValid():
            return
        key = int(index.data(INDEX_ROLE))
        view = self.view
        self.large_name.setText(view.images.name(key))
        if view.labels is not None:
            row = view.labels[key]
            lines = []
            for name, value in zip(view.attributes, row):
                mark = "   ?" if np.isnan(value) else f"{value:+.2f}"
                lines.append(f"{name:<22s} {mark}")
            self.large_labels.setPlainText("\n".join(lines))
        else:
            self.large_labels.setPlainText("(no labels)")
        self._preview_slot.start("load image", load_large, view.images, key,
                                 on_done=lambda arr, k=key: self._show_large_array(k, arr),
                                 on_failed=lambda exc: self.large.set_empty_text(f"Cannot show: {readable(exc)}"))
        self.large.set_array(None)
        self.large.set_empty_text("Loading…")

    def _show_large_array(self, key: int, array: np.ndarray) -> None:
        self.large.set_array(array)

    # ---------------------------------------------------------------- file check
    def start_check(self) -> None:
        if self.view is None or self.view.builtin:
            return
        self.bad_table.setRowCount(0)
        self.bad_table.hide()
        self.check_summary.setText("")
        self.check_button.setEnabled(False)
        self._check_slot.start("check dataset", check_files, self.view.source, self.view.labels_path,
                               with_state=True, on_done=self._check_done, on_failed=self._check_failed,
                               on_cancelled=self._check_cancelled,
                               on_started=lambda task: self.check_progress.track(task, "Checking files"))

    def _check_done(self, report) -> None:
        self.check_progress.finish()
        self.check_button.setEnabled(True)
        bad = list(getattr(report, "bad", []))
        self.bad_table.setRowCount(len(bad))
        for row, (name, reason) in enumerate(bad):
            self.bad_table.setItem(row, 0, QTableWidgetItem(str(name)))
            self.bad_table.setItem(row, 1, QTableWidgetItem(str(reason)))
        self.bad_table.resizeColumnToContents(0)
        self.bad_table.setVisible(bool(bad))
        summary = report.summary() if hasattr(report, "summary") else f"{len(bad)} files cannot be used"
        self.check_summary.setText(str(summary))
        self.checkFinished.emit(report)

    def _check_failed(self, exc: BaseException) -> None:
        self.check_progress.finish()
        self.check_button.setEnabled(True)
        self.check_summary.setText(f"Check failed: {readable(exc)}")
        self.checkFinished.emit(None)

    def _check_cancelled(self) -> None:
        self.check_progress.finish()
        self.check_button.setEnabled(True)
        self.check_summary.setText("Check cancelled.")
        self.checkFinished.emit(None)

    # ---------------------------------------------------------------- dialogs
    def browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of face images")
        if path:
            self.open_source(path)

    def browse_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a zip of face images", "", "Zip archives (*.zip)")
        if path:
            self.open_source(path)

    def browse_labels(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a labels file", "",
                                              "Label files (*.txt *.csv);;All files (*)")
        if path:
            self.set_labels(path)

    def changeEvent(self, event) -> None:  # noqa: N802
        from PySide6.QtCore import QEvent

        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            style_plot(self.chart, self.palette())
        super().changeEvent(event)

    def shutdown(self) -> None:
        self._load_slot.cancel()
        self._check_slot.cancel()
        self.model.loader.shutdown()

