"""The sample grid: a ``make_grid`` image whose cells can be clicked, the current face outlined in the palette's
highlight colour."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPalette, QPen

from faceforge.gui.images import PixelView

GRID_N = 16
GRID_COLS = 4
GRID_PAD = 2  # make_grid's gutter


class GridView(PixelView):
    """A PixelView showing a make_grid image whose cells can be clicked (``cellClicked(index)``)."""

    cellClicked = Signal(int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._layout: tuple[int, int, int] | None = None  # n, ncols, cell size
        self.selected: int | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click a face to make it the current face")

    def set_cells(self, images: np.ndarray, ncols: int) -> None:
        from faceforge.imaging import make_grid

        self._layout = (len(images), ncols, images.shape[1])
        self.set_array(make_grid(images, ncols=ncols, pad=GRID_PAD))

    def set_selected(self, index: int | None) -> None:
        """Outline cell ``index`` (the current face), or none."""
        if index != self.selected:
            self.selected = index
            self.update()

    def cell_rect(self, index: int) -> QRectF | None:
        """Where cell ``index`` is drawn, in widget coordinates."""
        rect, image = self.target_rect(), self.image()
        if self._layout is None or image is None or not 0 <= index < self._layout[0]:
            return None
        _, ncols, cell = self._layout
        row, col = divmod(index, ncols)
        sx, sy = rect.width() / image.width(), rect.height() / image.height()
        x, y = GRID_PAD + col * (cell + GRID_PAD), GRID_PAD + row * (cell + GRID_PAD)
        return QRectF(rect.x() + x * sx, rect.y() + y * sy, cell * sx, cell * sy)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        cell = self.cell_rect(self.selected) if self.selected is not None else None
        if cell is None:
            return
        painter = QPainter(self)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 3)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.drawRect(cell.adjusted(-1.5, -1.5, 1.5, 1.5))
        painter.end()

    def cell_at(self, x: float, y: float) -> int | None:
        rect, image = self.target_rect(), self.image()
        if self._layout is None or image is None or not rect.contains(int(x), int(y)):
            return None
        n, ncols, cell = self._layout
        px = (x - rect.x()) * image.width() / rect.width()
        py = (y - rect.y()) * image.height() / rect.height()
        col, row = int(px // (cell + GRID_PAD)), int(py // (cell + GRID_PAD))
        index = row * ncols + col
        return index if 0 <= col < ncols and 0 <= index < n else None

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        index = self.cell_at(event.position().x(), event.position().y())
        if index is not None:
            self.cellClicked.emit(index)
        super().mousePressEvent(event)
