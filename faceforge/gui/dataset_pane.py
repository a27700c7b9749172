"""The Dataset tab: look at the images before training on them.

A thumbnail grid (lazy model + pooled decoding, see ``thumbnails.py``), the attributes of a labelled dataset with
their positive rates or ranges, filters and chart (``attribute_panel.py``), the choice of attributes the
conditional model will use (they feed the New-run dialog), the labels file in use (found beside the images when
none was chosen, with a way to decline it), a large view of one image with its labels, and a file check
(``check_dataset``, run by itself for datasets of up to ``AUTO_CHECK_LIMIT`` images) with progress, time left,
Cancel and a table of the files that cannot be used and why - the files training will leave out.

Everything slow - scanning 200,000 files, reading a label file, rendering the built-in faces, checking files -
runs on the task pool (``faceforge.data.browse`` says what is shown); this module only arranges what comes back.
"""
from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from faceforge.config import BUILTIN_SOURCE, DataConfig, is_builtin, source_label
from faceforge.data.browse import (DatasetView, Filter, describe_filters, dialog_folder, filter_rows, label_lines,
                                   open_dataset_view)
from faceforge.gui.attribute_panel import AttributePanel
from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.thumbnails import INDEX_ROLE, ThumbnailGrid, ThumbnailModel
from faceforge.training.plans import CELEBA_DEFAULT_ATTRIBUTES

log = logging.getLogger(__name__)

PREVIEW_COUNT = 2000  # built-in faces rendered for browsing (training renders its own, at its own resolution)
PREVIEW_CHUNK = 500
PREVIEW_RESOLUTION = 64
AUTO_CHECK_LIMIT = 20_000  # up to this many files the check runs by itself after opening (10,000 CelebA: ~10 s)
LARGE_EMPTY = "Click a thumbnail to see it large with its labels"


def _open_view(source: str, labels_path: str | None, *, find_labels: bool, count: int, chunk: int,
               state) -> DatasetView:
    """Runs on the pool."""
    return open_dataset_view(source, labels_path, builtin_count=count, builtin_chunk=chunk,
                             builtin_resolution=PREVIEW_RESOLUTION, builtin_total=DataConfig().builtin_count,
                             find_labels=find_labels, usual_attributes=CELEBA_DEFAULT_ATTRIBUTES,
                             progress=state.set_progress, should_stop=state.should_stop)


def _check_files(source: str, labels_path: str | None, *, state):
    """Runs on the pool."""
    from faceforge.data import check_dataset

    return check_dataset(source, labels_path, progress=state.set_progress, should_stop=state.should_stop)


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
        self.find_labels = self._pending_find = True  # False once the user declined the labels file found
        self._unreadable: int | None = None  # files the last check could not read (None: not checked)
        self._checked: tuple[str, object] | None = None  # (source, DatasetReport) of the last finished check
        self._load_slot = TaskSlot(runner, self)
        self._check_slot = TaskSlot(runner, self)
        self._preview_slot = TaskSlot(runner, self)
        self._filters: dict[int, str] = {}

        # ---- top bar
        self.title = QLabel("No dataset")
        font = QFont(self.title.font())  # a font, not a style sheet: the text keeps following the palette
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        self.open_folder_button = QPushButton("Open folder…")
        self.open_zip_button = QPushButton("Open zip…")
        self.builtin_button = QPushButton("Built-in faces")
        self.labels_button = QPushButton("Labels file…")
        self.labels_button.setToolTip("CelebA list_attr_celeba.txt, or a CSV: filename,attr1,attr2,…")
        self.check_button = QPushButton("Check files…")
        self.check_button.setToolTip("Decode every image and list the ones that cannot be used, with the reason")
        self.open_folder_button.clicked.connect(self.browse_folder)
        self.open_zip_button.clicked.connect(self.browse_zip)
        self.builtin_button.clicked.connect(lambda: self.open_source(BUILTIN_SOURCE))
        self.labels_button.clicked.connect(self.browse_labels)
        self.check_button.clicked.connect(self.start_check)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for b in (self.open_folder_button, self.open_zip_button, self.builtin_button, self.labels_button,
                  self.check_button):
            top.addWidget(b)
        self.load_progress = ProgressPanel()
        self.labels_info = QLabel("")
        self.labels_info.setWordWrap(True)
        self.labels_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.drop_labels_button = QPushButton("Don't use these labels")
        self.drop_labels_button.setToolTip("Show the images without labels (train an unconditional model)")
        self.drop_labels_button.clicked.connect(self.drop_labels)
        self.labels_row = QWidget()
        lr = QHBoxLayout(self.labels_row)
        lr.setContentsMargins(0, 0, 0, 0)
        lr.addWidget(self.labels_info, 1)
        lr.addWidget(self.drop_labels_button)
        self.labels_row.hide()

        # ---- attributes: table + chart
        self.attribute_panel = AttributePanel()
        self.attribute_panel.conditioningChanged.connect(self.conditioningChanged)
        self.attribute_panel.filtersChanged.connect(self._apply_filters)
        self.table = self.attribute_panel.table
        self.chart_choice = self.attribute_panel.chart_choice
        self.chart = self.attribute_panel.chart

        # ---- thumbnail grid
        self.model = ThumbnailModel(parent=self)
        self.grid = ThumbnailGrid(self.model)
        self.grid.clicked.connect(self.show_large)
        self.grid.selectionModel().currentChanged.connect(lambda cur, _prev: self.show_large(cur))
        self.count_label = QLabel("")
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.grid, 1)
        cl.addWidget(self.count_label)

        # ---- large view
        self.large = PixelView(empty_text=LARGE_EMPTY, min_side=160)
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
        self.splitter.addWidget(self.attribute_panel)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([340, 620, 300])

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
        layout.addWidget(self.labels_row)
        layout.addWidget(self.notes)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.check_progress)
        layout.addWidget(self.check_summary)
        layout.addWidget(self.bad_table)

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

    def open_source(self, source: str, labels: str | None = None, *, find_labels: bool = True) -> None:
        """Show a dataset (``builtin:faces``, a folder or a zip), with a labels file - given, or with
        ``find_labels`` the one found beside the images."""
        source = str(source)
        self._pending = (source, labels)
        self._pending_find = find_labels
        self.title.setText(f"Opening {source_label(source)}…")
        self.notes.setText("")
        what = "Rendering built-in faces" if is_builtin(source) else "Scanning files"
        self._load_slot.start("open dataset", _open_view, source, labels, find_labels=find_labels,
                              count=PREVIEW_COUNT, chunk=PREVIEW_CHUNK, with_state=True, on_done=self._loaded,
                              on_failed=self._load_failed, on_cancelled=self._load_cancelled,
                              on_started=lambda task: self.load_progress.track(task, what))

    def set_labels(self, path: str | None) -> None:
        if self.view is None or self.view.builtin:
            self.statusMessage.emit("The built-in faces carry their own labels; open a folder or zip first.")
            return
        self.open_source(self.view.source, path, find_labels=path is not None)

    def drop_labels(self) -> None:
        """Decline the labels file (found or chosen): the images alone, and no search for another."""
        self.set_labels(None)

    def checked_attributes(self) -> list[str]:
        return self.attribute_panel.checked_attributes()

    def set_checked_attributes(self, names: list[str]) -> None:
        self.attribute_panel.set_checked_attributes(names)

    def set_filter(self, attribute: str, want: Filter) -> None:
        """``want`` is '+', '-' or 'any' for a yes/no attribute, (low, high) in its units for a quantity. The
        grid shows only rows satisfying every filter."""
        self.attribute_panel.set_filter(self.attributes.index(attribute), want)

    def clear_filters(self) -> None:
        self.attribute_panel.clear_filters()

    def shown_indices(self) -> np.ndarray:
        return self.model._rows.copy()

    # ---------------------------------------------------------------- loading
    def _loaded(self, view: DatasetView) -> None:
        self.load_progress.finish()
        self.view = view
        self.find_labels = self._pending_find
        self._pending = None
        self._unreadable = None
        self._check_slot.cancel()
        self.check_progress.finish()
        self.model.set_source(view.images)
        self._filters = {}
        self._show_title()
        self._show_labels_file(view)
        self.notes.setText("\n".join(view.notes))
        self.notes.setVisible(bool(view.notes))
        self.check_button.setEnabled(not view.builtin)
        self.labels_button.setEnabled(not view.builtin)
        self.bad_table.hide()
        self.check_summary.setText("")
        self._preview_slot.cancel()  # a late image of the previous dataset must not land here
        self.large.set_array(None)
        self.large.set_empty_text(LARGE_EMPTY)
        self.large_name.setText("")
        self.large_labels.setPlainText("")
        labelled = view.labels is not None
        self.attribute_panel.show_attributes(
            view.attributes if labelled else [], view.labels, view.proposed, kinds=view.kinds, dataset_open=True,
            no_labels_text="No attributes: the labels file above cannot be used." if view.labels_problem else "")
        self._update_count()
        self.datasetLoaded.emit(view)
        self.conditioningChanged.emit(self.checked_attributes())
        self.statusMessage.emit(f"Opened {view.name}: {view.count_text()}")
        if self._checked is not None and self._checked[0] == view.source:  # other labels, same files
            self._show_check(self._checked[1])
        elif not view.builtin and len(view) <= AUTO_CHECK_LIMIT:
            self.start_check()
        elif not view.builtin:
            self.check_summary.setText(f"Not checked yet: Check files… reads all {len(view):,} images and lists "
                                       "any that training would leave out.")

    def _show_title(self) -> None:
        view = self.view
        if view is None:
            self.title.setText("No dataset")
            return
        unreadable = f" ({self._unreadable:,} cannot be read)" if self._unreadable else ""
        self.title.setText(f"{view.name} — {view.count_text()}{unreadable}"
                           + (f", {len(view.attributes)} attributes" if view.attributes else ""))

    def _show_labels_file(self, view: DatasetView) -> None:
        """Which labels file is in use, found or chosen, or why it gives no labels; with a way to decline it."""
        if view.labels_file is None:
            self.labels_row.hide()
            return
        if view.labels_problem:  # read_labels' messages start with the file's path: say it once
            problem = view.labels_problem
            if problem.startswith(f"{view.labels_file}: "):
                text = f"Labels file {view.labels_file} cannot be used: {problem[len(view.labels_file) + 2:]}"
            elif problem.startswith(view.labels_file):
                text = f"Labels file {problem}"
            else:
                text = f"Labels file {view.labels_file} cannot be used: {problem}"
        elif view.labels_found:
            text = f"Found labels: {view.labels_file} (beside the images)"
        else:
            text = f"Labels: {view.labels_file}"
        self.labels_info.setText(text)
        self.labels_row.show()

    def _load_failed(self, exc: BaseException) -> None:
        self.load_progress.finish()
        message = readable(exc)
        self._pending = None
        self._show_title()
        self.loadFailed.emit(message)

    def _load_cancelled(self) -> None:
        self.load_progress.finish()
        self._pending = None
        self._show_title()

    # ---------------------------------------------------------------- filters
    def _apply_filters(self, wanted: dict[int, str]) -> None:
        if self.view is None:
            return
        self._filters = wanted
        rows = filter_rows(self.view.labels, len(self.view), wanted)
        self.model.set_rows(rows)
        self._update_count()
        if self.view.labels is not None:
            self.attribute_panel.show_labels(self.view.labels[rows] if wanted else self.view.labels)
        self.filterChanged.emit(len(rows))

    def _update_count(self) -> None:
        if self.view is None:
            self.count_label.setText("")
            return
        shown, total = self.model.total_rows, len(self.view)
        if self._filters:
            names = describe_filters(self.view.attributes, self._filters)
            self.count_label.setText(f"{shown:,} of {total:,} images match {names}")
        else:
            self.count_label.setText(self.view.count_text())

    # ---------------------------------------------------------------- large view
    def show_large(self, index: QModelIndex) -> None:
        if self.view is None or not index.isValid():
            return
        key = int(index.data(INDEX_ROLE))
        view = self.view
        self.large_name.setText(view.images.name(key))
        labelled = view.labels is not None
        self.large_labels.setPlainText(label_lines(view.attributes, view.labels[key], view.kinds) if labelled
                                       else "(no labels)")
        self._preview_slot.start("load image", view.images.image, key, on_done=self.large.set_array,
                                 on_failed=lambda exc: self.large.set_empty_text(f"Cannot show: {readable(exc)}"))
        self.large.set_array(None)
        self.large.set_empty_text("Loading…")

    # ---------------------------------------------------------------- file check
    def start_check(self) -> None:
        if self.view is None or self.view.builtin:
            return
        self.bad_table.setRowCount(0)
        self.bad_table.hide()
        self.check_summary.setText("")
        self.check_button.setEnabled(False)
        self._check_slot.start("check dataset", _check_files, self.view.source, self.view.labels_path,
                               with_state=True, on_done=self._check_done, on_failed=self._check_failed,
                               on_cancelled=self._check_cancelled,
                               on_started=lambda task: self.check_progress.track(task, "Checking files"))

    def _check_done(self, report) -> None:
        self.check_progress.finish()
        self.check_button.setEnabled(True)
        self._checked = (report.source, report)
        self._show_check(report)
        self.checkFinished.emit(report)

    def _show_check(self, report) -> None:
        """The files training would leave out: counted in the title, listed with reasons below the grid."""
        self.bad_table.setRowCount(len(report.bad))
        for row, (name, reason) in enumerate(report.bad):
            self.bad_table.setItem(row, 0, QTableWidgetItem(str(name)))
            self.bad_table.setItem(row, 1, QTableWidgetItem(str(reason)))
        self.bad_table.resizeColumnToContents(0)
        self.bad_table.setVisible(bool(report.bad))
        self._unreadable = len(report.bad)
        self._show_title()
        skipped = report.skipped_text()
        self.check_summary.setText(f"{skipped}; training uses the other {report.n_ok:,}." if skipped
                                   else f"All {report.n_ok:,} images can be read.")
        self.check_summary.setToolTip(report.summary())

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
        path = QFileDialog.getExistingDirectory(self, "Open a folder of face images", dialog_folder(self.source))
        if path:
            self.open_source(path)

    def browse_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a zip of face images", dialog_folder(self.source),
                                              "Zip archives (*.zip)")
        if path:
            self.open_source(path)

    def browse_labels(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a labels file", dialog_folder(self.source),
                                              "Label files (*.txt *.csv);;All files (*)")
        if path:
            self.set_labels(path)

    def shutdown(self) -> None:
        self._load_slot.cancel()
        self._check_slot.cancel()
        self.model.loader.shutdown()
