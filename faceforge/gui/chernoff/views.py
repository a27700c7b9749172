"""The Data faces pane's views: the mapping table (a feature per column), the grid of faces with captions (raw
values as tooltips, a click reports the row) and the legend (per mapped column the faces at its min, middle and
max, with the raw values and a warning beside a low-accuracy direction). They show what the core built
(:class:`faceforge.chernoff.Built`); nothing here renders a face."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHeaderView, QLabel, QListView, QListWidget, QListWidgetItem,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from faceforge.gui.images import qimage_from_array

FACE = 96  # a 32-pixel face enlarged 3x: big enough to read, 8 to a row on a laptop screen
LEGEND_FACE = 64
NOT_DRAWN = "—"


def face_pixmap(face: np.ndarray, size: int) -> QPixmap:
    mode = Qt.TransformationMode.SmoothTransformation
    return QPixmap.fromImage(qimage_from_array(face)).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)


class MappingTable(QTableWidget):
    """A row per numeric column with a combo of the run's features ("—": not drawn); a choice is reported as
    ``featureChosen(column, key)``, the pane decides what follows."""

    featureChosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Column", "Feature"])
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()

    def show_mapping(self, columns: list[str], features: list, mapping: dict[str, str]) -> None:
        self.setRowCount(len(columns))
        for i, column in enumerate(columns):
            item = QTableWidgetItem(column)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.setItem(i, 0, item)
            stale = self.cellWidget(i, 1)
            if stale is not None:  # replaced below and deleted later: hide it now so it never shows meanwhile
                stale.blockSignals(True)
                stale.hide()
            combo = QComboBox()
            combo.addItems([NOT_DRAWN] + [f.key for f in features])
            for j, f in enumerate(features, start=1):
                combo.setItemData(j, f.about + (f" - {f.warning}" if f.warning else ""), Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentText(mapping.get(column, NOT_DRAWN))
            combo.currentTextChanged.connect(lambda key, c=column: self.featureChosen.emit(c, key))
            self.setCellWidget(i, 1, combo)


class FaceGrid(QListWidget):
    """One item per face, in the figure's order; ``rowClicked`` gives the table row (not the grid position)."""

    rowClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(FACE, FACE))
        self.setGridSize(QSize(FACE + 36, FACE + 34))
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.itemClicked.connect(lambda item: self.rowClicked.emit(int(item.data(Qt.ItemDataRole.UserRole))))

    def show_faces(self, faces: np.ndarray, captions: list[str], tooltips: list[str], rows: list[int]) -> None:
        self.clear()
        for face, caption, tip, row in zip(faces, captions, tooltips, rows):
            item = QListWidgetItem(QIcon(face_pixmap(face, FACE)), caption)
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, int(row))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.addItem(item)


class LegendView(QWidget):
    """A strip per mapped column: "COL -> feature", a red warning when its direction is not accurate, and the faces
    at the column's min, middle and max with the raw values under them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout()
        self.grid.setVerticalSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.entries: list = []

    def show_legend(self, entries: list) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.entries = list(entries)
        row = 0
        for entry in entries:
            title = QLabel(f"<b>{entry.column}</b> → {entry.feature}")
            self.grid.addWidget(title, row, 0, 1, 3)
            row += 1
            if entry.warning:
                warn = QLabel(f"⚠ {entry.warning}")
                warn.setStyleSheet("color: #b00020")
                warn.setWordWrap(True)
                self.grid.addWidget(warn, row, 0, 1, 3)
                row += 1
            for k, (face, name) in enumerate(zip(entry.faces, ("min", "mid", "max"))):
                picture = QLabel()
                picture.setPixmap(face_pixmap(face, LEGEND_FACE))
                picture.setToolTip(f"{entry.column} = {entry.values[k]:.4g}")
                value = QLabel(f"{name} {entry.values[k]:.3g}")
                value.setAlignment(Qt.AlignmentFlag.AlignHCenter)
                value.setStyleSheet("color: gray")
                self.grid.addWidget(picture, row, k, Qt.AlignmentFlag.AlignHCenter)
                self.grid.addWidget(value, row + 1, k)
            row += 2
