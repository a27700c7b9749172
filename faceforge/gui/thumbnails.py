"""A thumbnail grid that stays smooth at 200,000 images.

Four parts, after Qt's ``fetchmore`` example and the way photo browsers do it:

* ``ThumbnailModel`` - a lazy ``QAbstractListModel`` over an index array (the dataset's rows that pass the
  filter); rows are revealed in batches through ``canFetchMore``/``fetchMore``; the decoration of a row is a cached
  pixmap or a placeholder plus a load request.
* ``ThumbnailLoader`` - decodes on a QThreadPool, newest request first (what is on screen *now* wins over what
  scrolled past a second ago), drops requests beyond a bounded backlog, never decodes the same image twice at
  once, and ignores results that arrive after the dataset was replaced.
* an LRU cache of QPixmaps keyed by the dataset index (not the row), so filtering never re-decodes anything.
* ``ThumbnailGrid`` - the icon view, laid out in batches with uniform cells.

The images come from a ``faceforge.data.browse.ImageSource`` (files of a folder or zip, or rendered faces).

Decoding happens only in the pool; arrays come back by signal and become pixmaps on the GUI thread, in batches at
most ~30 times a second.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque

import numpy as np
from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QObject, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QWidget

from faceforge.data.browse import ImageSource
from faceforge.gui.images import qimage_from_array
from faceforge.gui.throttle import Throttler

log = logging.getLogger(__name__)

FETCH_BATCH = 2000
INDEX_ROLE = Qt.ItemDataRole.UserRole + 1


class _LoaderSignals(QObject):
    loaded = Signal(int, int, object)  # generation, index, array (None = unreadable)


class ThumbnailLoader(QObject):
    """Newest-first decoding on a small pool. Call from the GUI thread; results arrive as ``loaded`` signals."""

    loaded = Signal(int, object)  # index, uint8 array or None when the file cannot be decoded

    def __init__(self, size: int = 64, threads: int = 2, backlog: int = 600, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self.backlog = backlog
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._lock = threading.Lock()
        self._queue: deque[int] = deque()
        self._queued: set[int] = set()
        self._running = 0
        self._generation = 0
        self._source: ImageSource | None = None
        self._signals = _LoaderSignals()
        self._signals.loaded.connect(self._deliver)

    def set_source(self, source: ImageSource | None) -> None:
        with self._lock:
            self._generation += 1
            self._source = source
            self._queue.clear()
            self._queued.clear()

    def request(self, index: int) -> None:
        with self._lock:
            if index in self._queued:
                return
            self._queue.append(index)
            self._queued.add(index)
            while len(self._queue) > self.backlog:  # scrolled far past: forget the oldest wishes
                self._queued.discard(self._queue.popleft())
            start = self._running < self.pool.maxThreadCount()
            if start:
                self._running += 1
        if start:
            self.pool.start(self._work)

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running -= 1
                    return
                index = self._queue.pop()  # newest first
                generation, source = self._generation, self._source
            array = None
            if source is not None:
                try:
                    array = source.thumb(index, self.size)
                except Exception as exc:  # noqa: BLE001 - one bad file must not stop the grid
                    log.info("thumbnail %s failed: %s", index, exc)
            with self._lock:
                self._queued.discard(index)
            self._signals.loaded.emit(generation, index, array)

    def _deliver(self, generation: int, index: int, array) -> None:
        if generation == self._generation:
            self.loaded.emit(index, array)

    def shutdown(self, timeout_ms: int = 3000) -> None:
        self.set_source(None)
        self.pool.waitForDone(timeout_ms)


class PixmapCache:
    """LRU of QPixmaps (GUI thread only)."""

    def __init__(self, capacity: int = 3000):
        self.capacity = capacity
        self._items: OrderedDict[int, QPixmap] = OrderedDict()

    def get(self, key: int) -> QPixmap | None:
        pix = self._items.get(key)
        if pix is not None:
            self._items.move_to_end(key)
        return pix

    def put(self, key: int, pix: QPixmap) -> None:
        self._items[key] = pix
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: int) -> bool:
        return key in self._items


def _placeholder(size: int, broken: bool = False) -> QPixmap:
    """A grey cell in the palette's colours (rebuilt when the palette changes); crossed out for a bad file."""
    palette = QApplication.palette()
    pix = QPixmap(size, size)
    pix.fill(palette.color(QPalette.ColorRole.AlternateBase))
    painter = QPainter(pix)
    painter.setPen(palette.color(QPalette.ColorRole.Mid))
    painter.drawRect(0, 0, size - 1, size - 1)
    if broken:
        painter.setPen(QPen(palette.color(QPalette.ColorRole.PlaceholderText), 2))
        painter.drawLine(8, 8, size - 8, size - 8)
        painter.drawLine(size - 8, 8, 8, size - 8)
    painter.end()
    return pix


class ThumbnailModel(QAbstractListModel):
    """The rows of a dataset that pass the current filter, revealed lazily, decorated with cached thumbnails."""

    def __init__(self, loader: ThumbnailLoader | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader or ThumbnailLoader(parent=self)
        self.size = self.loader.size
        self.cache = PixmapCache()
        self._source: ImageSource | None = None
        self._rows = np.zeros(0, np.int64)  # dataset indices, ascending
        self._shown = 0
        self._broken: set[int] = set()
        self._dirty: set[int] = set()
        self.refresh_placeholders()
        self.loader.loaded.connect(self._on_loaded)
        self._flush = Throttler(33, self._emit_changed, self)

    def refresh_placeholders(self) -> None:
        """Redraw the placeholder cells in the current palette (light/dark)."""
        self._placeholder = _placeholder(self.size)
        self._broken_pix = _placeholder(self.size, broken=True)

    # ---------------------------------------------------------------- content
    def set_source(self, source: ImageSource | None, rows: np.ndarray | None = None) -> None:
        self.beginResetModel()
        self._source = source
        self.loader.set_source(source)
        self.cache.clear()
        self._broken.clear()
        self._dirty.clear()
        n = 0 if source is None else len(source)
        self._rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
        self._shown = min(len(self._rows), FETCH_BATCH)
        self.endResetModel()

    def set_rows(self, rows: np.ndarray) -> None:
        """Show only these dataset indices (ascending), e.g. the result of an attribute filter."""
        self.beginResetModel()
        self._rows = np.asarray(rows, np.int64)
        self._shown = min(len(self._rows), FETCH_BATCH)
        self.endResetModel()

    @property
    def source(self) -> ImageSource | None:
        return self._source

    @property
    def total_rows(self) -> int:
        """Rows that pass the filter (``rowCount`` is only the part revealed so far)."""
        return len(self._rows)

    def dataset_index(self, row: int) -> int:
        return int(self._rows[row])

    # ---------------------------------------------------------------- Qt model API
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and self._shown < len(self._rows)

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: N802
        if parent.isValid():
            return
        extra = min(FETCH_BATCH, len(self._rows) - self._shown)
        if extra <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + extra - 1)
        self._shown += extra
        self.endInsertRows()

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._source is None or index.row() >= self._shown:
            return None
        key = int(self._rows[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self.cache.get(key)
            if pix is not None:
                return pix
            if key in self._broken:
                return self._broken_pix
            self.loader.request(key)
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self._source.name(key)
            return f"{name} (unreadable)" if key in self._broken else name
        if role == INDEX_ROLE:
            return key
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.size + 8, self.size + 8)
        return None

    # ---------------------------------------------------------------- loader results
    def _on_loaded(self, key: int, array) -> None:
        if array is None:
            self._broken.add(key)
        else:
            self.cache.put(key, QPixmap.fromImage(qimage_from_array(array)))
        self._dirty.add(key)
        self._flush.trigger()

    def _emit_changed(self) -> None:
        if not self._dirty or self._shown == 0:
            self._dirty.clear()
            return
        keys = np.fromiter(self._dirty, np.int64, len(self._dirty))
        self._dirty.clear()
        shown = self._rows[: self._shown]
        pos = np.searchsorted(shown, keys)  # rows are ascending dataset indices
        ok = pos < len(shown)
        pos, keys = pos[ok], keys[ok]
        pos = pos[shown[pos] == keys]
        if len(pos) == 0:
            return
        top, bottom = int(pos.min()), int(pos.max())
        self.dataChanged.emit(self.index(top), self.index(bottom), [Qt.ItemDataRole.DecorationRole])


class ThumbnailGrid(QListView):
    """The icon grid over a ``ThumbnailModel``: uniform cells laid out in batches (a relayout of 200,000 cells at
    once would freeze the window), widened a little so the columns fill the width (no empty strip on the right)."""

    def __init__(self, model: ThumbnailModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.cell = model.size + 8
        self.setGridSize(QSize(self.cell, self.cell))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setIconSize(QSize(model.size, model.size))
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setModel(model)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.model().refresh_placeholders()
            self.viewport().update()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        width = self.viewport().width() - 2 * self.spacing()
        columns = max(1, width // self.cell)
        cell_w = max(self.cell, width // columns)
        if cell_w != self.gridSize().width():  # only when it changes: a relayout of 200,000 cells is not free
            self.setGridSize(QSize(cell_w, self.cell))
        super().resizeEvent(event)
