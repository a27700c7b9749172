"""The attributes of a labelled dataset, on the Dataset tab's left: which ones the conditional model will use, their
positive rates, filters that narrow the thumbnail grid, and a chart of the images shown (the positive rate of
every attribute, or the values of one).

The numbers come from ``faceforge.data.browse``; this module only shows them and reports the user's choices by
signal (``conditioningChanged``, ``filtersChanged``), which the Dataset pane wires to the grid and the window.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLabel, QPushButton, QScrollArea,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from faceforge.data.browse import SIGNS, positive_rates, value_histogram
from faceforge.gui.plots import style_plot

FILTER_CHOICES = (("any", "any"), ("+", "+ yes"), ("-", "− no"))  # a click on the cell cycles through them
FILTER_ROLE = Qt.ItemDataRole.UserRole + 7
USE, NAME, RATE, FILTER = range(4)  # table columns


class AttributePanel(QWidget):
    conditioningChanged = Signal(list)  # the checked attribute names
    filtersChanged = Signal(object)  # {attribute column: "+" or "-"} (Signal(dict) cannot carry int keys)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: list[str] = []
        self._labels: np.ndarray | None = None  # label rows of the images shown (the chart's data)
        self._filling = False

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Use", "Attribute", "Positive", "Filter"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for column in (USE, RATE, FILTER):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Use: the conditional model is conditioned on the checked attributes.\n"
                              "Filter: click to show only images with (+) or without (−) an attribute.")
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_attribute_selected)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.clear_filters_button = QPushButton("Clear filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.chart_choice = QComboBox()  # names what the chart shows
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Attributes"))
        layout.addWidget(self.no_labels)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.clear_filters_button)
        layout.addWidget(self.chart_choice)
        layout.addWidget(self.chart_scroll, 2)
        self.show_attributes([], None, [], dataset_open=False)

    # ---------------------------------------------------------------- content
    def show_attributes(self, names: list[str], labels: np.ndarray | None, checked: list[str], *,
                        dataset_open: bool) -> None:
        """A new dataset: one row per attribute (``checked`` ones ticked for conditioning), no filter, the chart
        over all of ``labels``. Without attributes the table gives way to a note on labels files."""
        self._names = list(names)
        self._labels = labels
        rates = positive_rates(labels) if names else np.zeros(0)
        self._filling = True
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            use = QTableWidgetItem()
            use.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            use.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
            use.setToolTip("Condition the model on this attribute")
            self.table.setItem(row, USE, use)
            self.table.setItem(row, NAME, QTableWidgetItem(name))
            rate = QTableWidgetItem("—" if np.isnan(rates[row]) else f"{100 * rates[row]:.1f} %")
            rate.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, RATE, rate)
            cell = QTableWidgetItem(dict(FILTER_CHOICES)["any"])
            cell.setData(FILTER_ROLE, "any")
            cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setToolTip("Click: any → + (only images with it) → − (only images without it)")
            self.table.setItem(row, FILTER, cell)
        self._filling = False
        has = bool(names)
        for widget in (self.table, self.clear_filters_button, self.chart_choice, self.chart_scroll):
            widget.setVisible(has)
        self.no_labels.setVisible(not has and dataset_open)
        self.chart_choice.blockSignals(True)
        self.chart_choice.clear()
        self.chart_choice.addItem("Positive rate of each attribute", -1)
        for i, name in enumerate(names):
            self.chart_choice.addItem(f"Values of {name}", i)
        self.chart_choice.blockSignals(False)
        self._update_chart()

    def show_labels(self, labels: np.ndarray | None) -> None:
        """Chart these label rows (the images a filter lets through)."""
        self._labels = labels
        self._update_chart()

    # ---------------------------------------------------------------- conditioning
    def checked_attributes(self) -> list[str]:
        return [self.table.item(row, NAME).text() for row in range(self.table.rowCount())
                if self.table.item(row, USE).checkState() == Qt.CheckState.Checked]

    def set_checked_attributes(self, names: list[str]) -> None:
        self._filling = True
        for row in range(self.table.rowCount()):
            on = self.table.item(row, NAME).text() in names
            self.table.item(row, USE).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self._filling = False
        self.conditioningChanged.emit(self.checked_attributes())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == USE:
            self.conditioningChanged.emit(self.checked_attributes())

    # ---------------------------------------------------------------- filters
    def filters(self) -> dict[int, str]:
        out = {}
        for row in range(self.table.rowCount()):
            sign = self.table.item(row, FILTER).data(FILTER_ROLE)
            if sign in SIGNS:
                out[row] = sign
        return out

    def set_filter(self, column: int, sign: str) -> None:
        """``sign`` is '+', '-' or 'any'."""
        self._set_filter_cell(column, sign)
        self.filtersChanged.emit(self.filters())

    def clear_filters(self) -> None:
        for row in range(self.table.rowCount()):
            self._set_filter_cell(row, "any")
        self.filtersChanged.emit(self.filters())

    def _set_filter_cell(self, row: int, sign: str) -> None:
        item = self.table.item(row, FILTER)
        item.setData(FILTER_ROLE, sign)
        item.setText(dict(FILTER_CHOICES)[sign])

    def _on_cell_clicked(self, row: int, column: int) -> None:
        """The Filter cell cycles any -> + -> − (a plain item: 40 combo-box widgets cost ~70 ms to build)."""
        if column != FILTER:
            return
        keys = [k for k, _ in FILTER_CHOICES]
        current = self.table.item(row, FILTER).data(FILTER_ROLE) or "any"
        self.set_filter(row, keys[(keys.index(current) + 1) % len(keys)])

    # ---------------------------------------------------------------- chart
    def _on_attribute_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.chart_choice.setCurrentIndex(rows[0].row() + 1)

    def _update_chart(self) -> None:
        self.chart.clear()
        labels, names = self._labels, self._names
        if labels is None or not names:
            return
        choice = self.chart_choice.currentData()
        plot = self.chart.getPlotItem()
        left, bottom = plot.getAxis("left"), plot.getAxis("bottom")
        brush = pg.mkBrush("#4c72b0")
        if choice is None or choice < 0:
            rates = np.nan_to_num(positive_rates(labels)) if len(labels) else np.zeros(len(names))
            ys = np.arange(len(names))
            self.chart.addItem(pg.BarGraphItem(x0=np.zeros_like(rates), y=ys, height=0.7, width=rates, brush=brush))
            left.setTicks([list(enumerate(names))])
            bottom.setTicks(None)
            plot.setXRange(0, 1.06, padding=0)
            plot.setYRange(-0.6, len(ys) - 0.4, padding=0)
            plot.getViewBox().invertY(True)
            self.chart.setMinimumHeight(max(160, 18 * len(ys) + 60))
        else:
            centres, counts, width = value_histogram(labels[:, choice])
            self.chart.addItem(pg.BarGraphItem(x=centres, height=counts, width=width, brush=brush))
            left.setTicks(None)
            bottom.setTicks(None)
            plot.getViewBox().invertY(False)
            plot.setXRange(-1.1, 1.1, padding=0)
            plot.setYRange(0, max(1, counts.max()) * 1.05, padding=0)
            self.chart.setMinimumHeight(160)
        style_plot(self.chart, self.palette())

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            style_plot(self.chart, self.palette())
        super().changeEvent(event)
