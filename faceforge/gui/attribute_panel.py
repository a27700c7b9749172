"""The attributes of a labelled dataset, on the Dataset tab's left: which ones the conditional model will use, what
their values are (the positive rate of a yes/no attribute, the range and mean of a quantity such as Age), filters
that narrow the thumbnail grid (+/− for yes/no, a range in the column's units for a quantity), and a chart of the
images shown (the positive rate of every yes/no attribute, or the histogram of one attribute).

The numbers come from ``faceforge.data.browse``; this module only shows them and reports the user's choices by
signal (``conditioningChanged``, ``filtersChanged``), which the Dataset pane wires to the grid and the window.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from faceforge.data.browse import (Filter, column_summaries, describe_filter, positive_rates, summary_text,
                                   value_histogram)
from faceforge.gui.plots import style_plot

SIGN_TEXT = {"any": "any", "+": "+ yes", "-": "− no"}  # a click on a yes/no Filter cell cycles through them
USE, NAME, VALUES, FILTER = range(4)  # table columns
HISTOGRAM_BINS = 20  # bars of a continuous column's histogram (a yes/no column keeps 21 over -1..1)


class RangeFilter(QWidget):
    """'Age from [20] to [40] [Clear]': the filter of the continuous attribute selected in the table."""

    changed = Signal(int, float, float)  # column, low, high (in the column's units)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.column = -1
        self.label = QLabel()
        self.low, self.high = QDoubleSpinBox(), QDoubleSpinBox()
        for spin in (self.low, self.high):
            spin.setKeyboardTracking(False)  # filter on Enter, arrows or leaving the box, not on every digit
            spin.valueChanged.connect(self._changed)
        self.clear_button = QPushButton("All")
        self.clear_button.setToolTip("Show every value of this attribute again")
        self.clear_button.clicked.connect(self.reset)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.low, QLabel("to"), self.high, self.clear_button):
            layout.addWidget(widget)
        layout.addStretch(1)

    def edit(self, column: int, name: str, summary: dict, current: tuple[float, float] | None, *,
             integers: bool) -> None:
        """Edit ``column``'s range within the data's (whole numbers for a column of whole numbers, like years)."""
        whole = float(summary["low"]), float(summary["high"])
        self.column = -1  # no signal while the boxes are set up
        self.label.setText(f"Show {name} from")
        for spin in (self.low, self.high):
            spin.setDecimals(0 if integers else 2)
            spin.setRange(*whole)
            spin.setSingleStep(1.0 if integers or whole[1] - whole[0] > 20 else (whole[1] - whole[0]) / 20)
        self.low.setValue(current[0] if current else whole[0])
        self.high.setValue(current[1] if current else whole[1])
        self.column = column

    def reset(self) -> None:
        column, self.column = self.column, -1
        self.low.setValue(self.low.minimum())
        self.column = column
        self.high.setValue(self.high.maximum())
        self._changed()

    def _changed(self) -> None:
        if self.column >= 0:
            self.changed.emit(self.column, self.low.value(), self.high.value())


class AttributePanel(QWidget):
    conditioningChanged = Signal(list)  # the checked attribute names
    filtersChanged = Signal(object)  # {attribute column: "+", "-" or (low, high)} (Signal(dict) cannot carry int keys)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: list[str] = []
        self._kinds: list[str] = []
        self._summaries: dict[str, dict] = {}
        self._filters: dict[int, Filter] = {}
        self._labels: np.ndarray | None = None  # label rows of the images shown (the chart's data)
        self._labels_all: np.ndarray | None = None  # every image's label row
        self._filling = False

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Use", "Attribute", "Values", "Filter"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for column in (USE, VALUES, FILTER):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Use: the conditional model is conditioned on the checked attributes.\n"
                              "Values: the share of images with a yes/no attribute, or the range and mean of a "
                              "quantity.\nFilter: click to show only images with (+) or without (−) an attribute, "
                              "or, for a quantity, choose a range below the table.")
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_attribute_selected)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.range_filter = RangeFilter()
        self.range_filter.changed.connect(self._on_range)
        self.range_filter.hide()
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
        self.no_labels = QLabel()
        self.no_labels.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Attributes"))
        layout.addWidget(self.no_labels)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.range_filter)
        layout.addWidget(self.clear_filters_button)
        layout.addWidget(self.chart_choice)
        layout.addWidget(self.chart_scroll, 2)
        self.filler = QWidget()  # takes the height while there is no table, so the note sits at the top
        layout.addWidget(self.filler, 1)
        self.show_attributes([], None, [], dataset_open=False)

    # ---------------------------------------------------------------- content
    def show_attributes(self, names: list[str], labels: np.ndarray | None, checked: list[str], *,
                        kinds: list[str] | None = None, dataset_open: bool, no_labels_text: str = "") -> None:
        """A new dataset: one row per attribute (``checked`` ones ticked for conditioning), no filter, the chart
        over all of ``labels``. Without attributes the table gives way to ``no_labels_text`` (by default a note on
        labels files)."""
        self._names = list(names)
        self._kinds = list(kinds) if kinds else ["binary"] * len(names)
        self._labels = self._labels_all = labels
        self._filters = {}
        self._summaries = column_summaries(names, labels, self._kinds) if names and labels is not None else {}
        self._filling = True
        self.table.clearSelection()
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            use = QTableWidgetItem()
            use.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            use.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
            use.setToolTip("Condition the model on this attribute")
            self.table.setItem(row, USE, use)
            self.table.setItem(row, NAME, QTableWidgetItem(name))
            values = QTableWidgetItem(summary_text(self._summaries.get(name)))
            values.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            values.setToolTip("share of images with it" if self._kinds[row] == "binary"
                              else "a quantity: its range and mean over the labelled images")
            self.table.setItem(row, VALUES, values)
            cell = QTableWidgetItem()
            cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setToolTip("Click: any → + (only images with it) → − (only images without it)"
                            if self._kinds[row] == "binary" else "Click, then choose a range below the table")
            self.table.setItem(row, FILTER, cell)
            self._show_filter_cell(row)
        self._filling = False
        has = bool(names)
        for widget in (self.table, self.clear_filters_button, self.chart_choice, self.chart_scroll):
            widget.setVisible(has)
        self.range_filter.hide()
        self.no_labels.setText(no_labels_text or "This dataset has no labels. Choose a labels file (CelebA "
                               "list_attr_celeba.txt or a CSV) to see attributes, filter by them and train a "
                               "conditional model.")
        self.no_labels.setVisible(not has and dataset_open)
        self.filler.setVisible(not has)
        self.chart_choice.blockSignals(True)
        self.chart_choice.clear()
        if "binary" in self._kinds:
            self.chart_choice.addItem("Positive rate of each yes/no attribute", -1)
        for i, name in enumerate(names):
            self.chart_choice.addItem(f"Values of {name}", i)
        self.chart_choice.blockSignals(False)
        self._update_chart()

    def show_labels(self, labels: np.ndarray | None) -> None:
        """Chart these label rows (the images a filter lets through)."""
        self._labels = labels
        self._update_chart()

    def kind(self, column: int) -> str:
        return self._kinds[column]

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
    def filters(self) -> dict[int, Filter]:
        return dict(self._filters)

    def set_filter(self, column: int, want: Filter) -> None:
        """``want`` is '+', '-' or 'any' for a yes/no attribute, (low, high) in its units for a quantity; the
        whole range of a quantity is no filter (it would only drop the images without labels)."""
        summary = self._summaries.get(self._names[column], {})
        if isinstance(want, tuple):
            low, high = float(min(want)), float(max(want))
            whole = low <= summary.get("low", low) and high >= summary.get("high", high)
            want = "any" if whole else (low, high)
        if want == "any":
            self._filters.pop(column, None)
        else:
            self._filters[column] = want
        self._show_filter_cell(column)
        if self.range_filter.column == column and self.range_filter.isVisible():
            self._edit_range(column)
        self.filtersChanged.emit(self.filters())

    def clear_filters(self) -> None:
        self._filters = {}
        for row in range(self.table.rowCount()):
            self._show_filter_cell(row)
        if self.range_filter.isVisible():
            self._edit_range(self.range_filter.column)
        self.filtersChanged.emit(self.filters())

    def _show_filter_cell(self, row: int) -> None:
        want = self._filters.get(row, "any")
        text = SIGN_TEXT[want] if isinstance(want, str) else describe_filter("", want).strip()
        self.table.item(row, FILTER).setText(text)

    def _on_cell_clicked(self, row: int, column: int) -> None:
        """A yes/no Filter cell cycles any -> + -> − (a plain item: 40 combo-box widgets cost ~70 ms to build); a
        quantity's cell selects its row, which shows the range boxes."""
        if column != FILTER:
            return
        if self._kinds[row] != "binary":
            self.table.selectRow(row)
            self.range_filter.low.setFocus()
            return
        keys = list(SIGN_TEXT)
        current = self._filters.get(row, "any")
        self.set_filter(row, keys[(keys.index(current) + 1) % len(keys)])

    def _on_range(self, column: int, low: float, high: float) -> None:
        self.set_filter(column, (low, high))

    def _edit_range(self, column: int) -> None:
        current = self._filters.get(column)
        values = self._labels_all[:, column]
        integers = bool(np.all(np.mod(values[~np.isnan(values)], 1) == 0))
        self.range_filter.edit(column, self._names[column], self._summaries[self._names[column]],
                               current if isinstance(current, tuple) else None, integers=integers)

    # ---------------------------------------------------------------- chart
    def _on_attribute_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        row = rows[0].row()
        self.chart_choice.setCurrentIndex(self.chart_choice.findData(row))
        continuous = self._kinds[row] != "binary" and self._names[row] in self._summaries
        if continuous:
            self._edit_range(row)
        self.range_filter.setVisible(continuous)

    def _update_chart(self) -> None:
        self.chart.clear()
        labels, names = self._labels, self._names
        if labels is None or not names:
            return
        choice = self.chart_choice.currentData()
        plot = self.chart.getPlotItem()
        left, bottom = plot.getAxis("left"), plot.getAxis("bottom")
        brush = pg.mkBrush(self.palette().color(QPalette.ColorRole.Highlight))
        if choice is None or choice < 0:
            binary = [j for j, kind in enumerate(self._kinds) if kind == "binary"]
            rates = np.nan_to_num(positive_rates(labels[:, binary])) if len(labels) else np.zeros(len(binary))
            ys = np.arange(len(binary))
            self.chart.addItem(pg.BarGraphItem(x0=np.zeros_like(rates), y=ys, height=0.7, width=rates, brush=brush))
            left.setTicks([[(i, names[j]) for i, j in enumerate(binary)]])
            bottom.setTicks(None)
            plot.setXRange(0, 1.06, padding=0)
            plot.setYRange(-0.6, len(ys) - 0.4, padding=0)
            plot.getViewBox().invertY(True)
            self.chart.setMinimumHeight(max(160, 18 * len(ys) + 60))
        else:
            summary = self._summaries.get(names[choice], {})
            if self._kinds[choice] == "binary" or not summary:
                centres, counts, width = value_histogram(labels[:, choice])
                span = (-1.1, 1.1)
            else:  # a quantity: bars over its whole range in its units, whichever images a filter lets through
                span = (summary["low"], summary["high"])
                centres, counts, width = value_histogram(labels[:, choice], HISTOGRAM_BINS, value_range=span)
                span = (centres[0] - width, centres[-1] + width)
            self.chart.addItem(pg.BarGraphItem(x=centres, height=counts, width=width * 0.9, brush=brush))
            left.setTicks(None)
            bottom.setTicks(None)
            plot.getViewBox().invertY(False)
            plot.setXRange(*span, padding=0)
            plot.setYRange(0, max(1, counts.max()) * 1.05, padding=0)
            self.chart.setMinimumHeight(160)
        style_plot(self.chart, self.palette())

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._update_chart()  # bars in the palette's highlight, axes in its text colour
        super().changeEvent(event)
