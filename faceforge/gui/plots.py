"""Live training curves that stay smooth at 100,000 points (pyqtgraph's ``scrollingPlots`` recipe).

* Points live in preallocated numpy arrays that grow by doubling (``faceforge.curves.GrowingArray``): appending a
  tick costs a copy of the new rows, not of the whole history.
* Curves get ``setDownsampling(auto=True, method='peak')`` and ``setClipToView(True)``: pyqtgraph draws about one
  point per pixel of what is visible, so the drawing cost does not grow with the run.
* G and D losses are plotted at every step (the oscillation a logging tick's mean hides), each on its own axis
  (G's early peak must not flatten D's curve), and drawn twice: the raw curve faint, an exponential moving average
  bold; the smoothing slider only re-filters (vectorised, chunked) and new ticks are smoothed incrementally.
* A zoom or pan is kept over steps that have data; health warnings are marked at their step.
* Colours follow the application palette, so the plots are right in light and dark mode.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from faceforge.curves import GrowingArray, clamp_span, ema, next_range, robust_bounds, step_axis_end, variety
from faceforge.gui.throttle import Throttler
from faceforge.gui.workers import COL, STATS_COLUMNS

# Tableau-like colours; they read well on both light and dark backgrounds.
COLOURS = {"loss_g": "#1f77b4", "loss_d": "#ff7f0e", "d_real": "#2ca02c", "d_fake": "#d62728", "img_s": "#9467bd",
           "swd": "#17becf", "variety": "#8c564b"}
LABELS = {"loss_g": "G loss", "loss_d": "D loss", "d_real": "D(x)", "d_fake": "D(G(z))", "img_s": "images/s",
          "swd": "SWD ↓", "variety": "variety % ↑"}
WARNING_COLOUR = "#e67e22"
TIPS = {"G loss": "The generator's loss at every step: raw (faint) and smoothed (bold). It oscillates; its own "
                  "axis, so its early peak does not flatten the discriminator's curve.",
        "D loss": "The discriminator's loss at every step: raw (faint) and smoothed (bold). A D loss near 0 for "
                  "long means D is winning.",
        "D outputs": "D(x): how real D finds real faces; D(G(z)): how real it finds generated ones. "
                     "Both near 0.5 is a balanced game.",
        "Quality": "SWD: sliced Wasserstein distance between generated and real image patches at several scales "
                   "(lower is better; it falls as faces form). Variety: 100 x (1 - mean MS-SSIM between samples); "
                   "it rises as the faces become varied and falls when the generator collapses onto a few faces.",
        "Throughput": "Training images per second (it drops when other programs use the CPU)."}
#: below this height per plot, the plots are laid out in two columns instead of one above the other
MIN_PLOT_HEIGHT = 150
TICK_SMOOTHED = ("d_real", "d_fake")  # per logging tick; the losses are smoothed per step
LOSS_COL = {"loss_g": 1, "loss_d": 2}  # columns of the per-step table [step, loss_g, loss_d]


def _pen(colour: str, width: float = 1.0, alpha: int = 255, style=Qt.PenStyle.SolidLine):
    c = QColor(colour)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=width, style=style)


class TrainingPlots(QWidget):
    """Five x-linked plots, each with its own y axis: G loss and D loss at every step (raw faint + EMA bold),
    D(x) and D(G(z)), the quality scores (SWD and variety, only where they were measured), and throughput.
    Health warnings are marked at their step on the G loss plot."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data = GrowingArray(len(STATS_COLUMNS))
        self.losses = GrowingArray(3)  # [step, loss_g, loss_d] for every step
        self._smooth: dict[str, GrowingArray] = {k: GrowingArray(1) for k in (*LOSS_COL, *TICK_SMOOTHED)}
        self.alpha = 0.6
        # Curves are redrawn at most 5 times a second: a repaint of three plots costs tens of milliseconds of GUI
        # thread when training competes for the CPU, and loss curves gain nothing from 30 frames a second.
        self._redraw = Throttler(200, self._refresh, self)
        self.total_steps = 0  # the run's length: the x axis spans it, so it does not move at every tick
        self._manual = False  # the user zoomed or panned: leave the ranges alone until "Fit"
        self._ranges: dict[int, tuple[float, float]] = {}
        self.markers: dict[tuple[str, int], pg.InfiniteLine] = {}

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 99)
        self.slider.setValue(int(self.alpha * 100))
        self.slider.setToolTip("Exponential moving average of the curves; the raw values stay visible, faint")
        self.slider.valueChanged.connect(self._on_smoothing)
        self.slider_label = QLabel()
        self.legend = QLabel("<span style='font-weight:700'>━</span> smoothed &nbsp; "
                             "<span style='color:palette(placeholder-text)'>─ raw</span>")
        self.legend.setToolTip("Bold lines are the smoothed curves; the faint lines behind them are every step's "
                               "raw value")
        self.point_label = QLabel()
        self.point_label.setMinimumWidth(self.point_label.fontMetrics().horizontalAdvance("888,888 logged points"))
        self.point_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.reset_view = QPushButton("Fit")
        self.reset_view.setToolTip("Show the whole run again after zooming or panning")
        self.reset_view.clicked.connect(self.fit)
        self.reset_view.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(QLabel("Smoothing"))
        top.addWidget(self.slider, 1)
        top.addWidget(self.slider_label)
        top.addWidget(self.legend)
        top.addStretch(1)
        top.addWidget(self.point_label)
        top.addWidget(self.reset_view)

        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.layout.setSpacing(4)
        self.loss_plot = self.view.addPlot(row=0, col=0)
        self.d_loss_plot = self.view.addPlot(row=1, col=0)
        self.d_plot = self.view.addPlot(row=2, col=0)
        self.quality_plot = self.view.addPlot(row=3, col=0)
        self.speed_plot = self.view.addPlot(row=4, col=0)
        self.plots = (self.loss_plot, self.d_loss_plot, self.d_plot, self.quality_plot, self.speed_plot)
        self.columns = 1
        # the legend lives in the title (coloured keys), so it never hides the newest part of a curve
        self.titles = (("G loss", ("loss_g",)), ("D loss", ("loss_d",)), ("D outputs", ("d_real", "d_fake")),
                       ("Quality", ("swd", "variety")), ("Throughput", ("img_s",)))
        y_labels = ("loss", "loss", "probability", "score", "images/s")
        self.raw: dict[str, pg.PlotDataItem] = {}
        self.smoothed: dict[str, pg.PlotDataItem] = {}
        for plot, ylab in zip(self.plots, y_labels):
            plot.setLabel("left", ylab)
            # no grid: pyqtgraph draws grid lines from the axis item, whose bounding box then covers the whole plot,
            # so every new point would repaint the axes too (measured: about half of each repaint's cost)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(48)
        for plot, (title, _) in zip(self.plots, self.titles):
            plot.setLabel("bottom", "step")
            plot.getAxis("bottom").showLabel(plot is self.speed_plot)
            plot.setToolTip(TIPS[title])
        for plot in self.plots[1:-1]:
            plot.setXLink(self.loss_plot)
        # the last plot spans both columns in the two-column layout, and pyqtgraph's X link aligns linked plots
        # on screen (a wider one would show a wider range): it follows the same step range instead
        main_vb, last_vb = self.loss_plot.getViewBox(), self.speed_plot.getViewBox()
        main_vb.sigXRangeChanged.connect(lambda _vb, r: last_vb.setXRange(*r, padding=0))
        last_vb.sigXRangeChanged.connect(lambda _vb, r: main_vb.setXRange(*r, padding=0))
        for plot in self.plots:
            plot.disableAutoRange()
            vb = plot.getViewBox()
            vb.sigRangeChangedManually.connect(lambda _mask, vb=vb: self._user_zoomed(vb))
            plot.hideButtons()
        self.d_plot.setYRange(-0.02, 1.02, padding=0)
        for key, plot in (("loss_g", self.loss_plot), ("loss_d", self.d_loss_plot),
                          ("d_real", self.d_plot), ("d_fake", self.d_plot)):
            self.raw[key] = plot.plot(pen=_pen(COLOURS[key], 1, 70))
            self.smoothed[key] = plot.plot(pen=_pen(COLOURS[key], 2.2))
        self.raw["img_s"] = self.speed_plot.plot(pen=_pen(COLOURS["img_s"], 1.8))
        # measured every few hundred steps only: lines with markers over the finite points
        self.quality = {k: self.quality_plot.plot(pen=_pen(COLOURS[k], 1.8), symbol="o", symbolSize=5,
                                                  symbolBrush=COLOURS[k], symbolPen=None)
                        for k in ("swd", "variety")}
        for item in (*self.raw.values(), *self.smoothed.values()):
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            # ~1.5 samples per pixel instead of pyqtgraph's 5: looks the same, strokes a third of the segments
            item.opts["autoDownsampleFactor"] = 1.5

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._update_slider_label()
        self.apply_palette()

    # ---------------------------------------------------------------- layout
    def arrange(self, columns: int) -> None:
        """One column of plots, or two when each would be too short to read (a laptop screen); then the losses
        sit side by side on top and the last plot spans both columns."""
        if columns == self.columns:
            return
        self.columns = columns
        layout = self.view.ci
        for plot in self.plots:
            layout.removeItem(plot)
        last = len(self.plots) - 1
        for i, plot in enumerate(self.plots):
            span = columns if i == last and i % columns == 0 else 1
            layout.addItem(plot, row=i // columns, col=i % columns, colspan=span)
            plot.getAxis("bottom").showLabel(i >= last - (columns - 1) * (last % columns))
        for col in range(2):  # equal columns (the titles' lengths must not decide)
            layout.layout.setColumnStretchFactor(col, 1 if col < columns else 0)
            layout.layout.setColumnPreferredWidth(col, 0)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        height, width = self.view.height(), self.view.width()
        self.arrange(2 if height < MIN_PLOT_HEIGHT * len(self.plots) and width >= 2 * 260 else 1)

    # ---------------------------------------------------------------- data
    def clear(self) -> None:
        self._redraw.cancel()
        self.data.clear()
        self.losses.clear()
        for s in self._smooth.values():
            s.clear()
        for line in self.markers.values():
            self.loss_plot.removeItem(line)
        self.markers.clear()
        self.total_steps = 0
        self._ranges.clear()
        self._manual = False
        self.reset_view.setEnabled(False)
        self._refresh()

    def set_total_steps(self, total: int) -> None:
        if int(total) != self.total_steps:
            self.total_steps = int(total)
            self._update_ranges()

    def set_rows(self, rows: np.ndarray, losses: np.ndarray | None = None) -> None:
        self.data.clear()
        self.losses.clear()
        for s in self._smooth.values():
            s.clear()
        self.append_rows(rows, losses)
        self.flush()

    def flush(self) -> None:
        """Draw pending points now (a whole history just arrived, or a run ended)."""
        self._redraw.flush()

    def append_rows(self, rows: np.ndarray, losses: np.ndarray | None = None) -> None:
        """Add ticks (and the per-step losses they cover) in step order. Rows before the last step are a rewind
        (a resume after a crash or a NaN rollback truncated the log): the curves are cut back to before them
        first, as stats.jsonl was."""
        rows = np.asarray(rows, np.float64).reshape(-1, len(STATS_COLUMNS))
        rows = rows[np.isfinite(rows[:, COL["step"]])]
        if len(rows):
            self._append(self.data, rows, COL["step"], {k: COL[k] for k in TICK_SMOOTHED})
        if losses is not None and len(losses):
            self._append(self.losses, np.asarray(losses, np.float64).reshape(-1, 3), 0, LOSS_COL)
        self._redraw.trigger()

    def _append(self, table: GrowingArray, rows: np.ndarray, step_col: int, smoothed: dict[str, int]) -> None:
        steps = table.column(step_col)
        first = rows[0, step_col]
        if len(steps) and first <= steps[-1]:
            keep = int(np.searchsorted(steps, first, side="left"))
            table.truncate(keep)
            for key in smoothed:
                self._smooth[key].truncate(keep)
        start = len(table)
        table.append(rows)
        for key, col in smoothed.items():
            s = self._smooth[key]
            init = s.column(0)[-1] if len(s) else None
            s.append(ema(table.column(col)[start:], self.alpha, init)[:, None])

    def add_marker(self, *, step: float, code: str, text: str) -> None:
        """A health warning at its step on the G loss plot (once per warning; hover for its text)."""
        key = (code, int(step))
        if key in self.markers:
            return
        line = pg.InfiniteLine(pos=float(step), angle=90, movable=False,
                               pen=_pen(WARNING_COLOUR, 1.5, style=Qt.PenStyle.DashLine),
                               label="⚠", labelOpts={"position": 0.9, "color": WARNING_COLOUR})
        line.setToolTip(text)
        self.loss_plot.addItem(line, ignoreBounds=True)
        self.markers[key] = line

    @property
    def last_step(self) -> float | None:
        steps = self.data.column(COL["step"])
        return float(steps[-1]) if len(steps) else None

    def point_count(self) -> int:
        return len(self.data)

    def _on_smoothing(self, value: int) -> None:
        self.alpha = value / 100.0
        for key, s in self._smooth.items():
            s.clear()
            column = self.losses.column(LOSS_COL[key]) if key in LOSS_COL else self.data.column(COL[key])
            s.append(ema(column, self.alpha)[:, None])
        self._update_slider_label()
        self._refresh()

    def _update_slider_label(self) -> None:
        self.slider_label.setText(f"{self.alpha:.2f}")

    def _refresh(self) -> None:
        x = self.data.column(COL["step"])
        xs = self.losses.column(0)
        for key, item in self.raw.items():
            if key in LOSS_COL:
                item.setData(xs, self.losses.column(LOSS_COL[key]))
            else:
                item.setData(x, self.data.column(COL[key]))
        for key, item in self.smoothed.items():
            item.setData(xs if key in LOSS_COL else x, self._smooth[key].column(0))
        for key, item in self.quality.items():
            y = self._quality_column(key)
            ok = np.isfinite(y)
            item.setData(x[ok], y[ok])
        n = len(self.data)
        self.point_label.setText(f"{n:,} logged point{'s' if n != 1 else ''}" if n else "no data yet")
        self._update_ranges()

    def _quality_column(self, key: str) -> np.ndarray:
        if key == "variety":
            return 100.0 * variety(self.data.column(COL["diversity"]))
        return self.data.column(COL[key])

    # ---------------------------------------------------------------- view ranges
    # Auto-range would move every axis at every tick, and a moved axis re-lays out its ticks, labels and grid in
    # Python: that, not the curves, is most of a repaint. So the x axis moves in a few big jumps (curves.step_axis_end)
    # and the y axes only change when the data leave them or shrink to a small part of them.
    def fit(self) -> None:
        self._manual = False
        self._ranges.clear()
        self.reset_view.setEnabled(False)
        self._update_ranges()

    def _user_zoomed(self, viewbox) -> None:
        self._manual = True
        self.reset_view.setEnabled(True)
        steps = np.concatenate([self.data.column(COL["step"]), self.losses.column(0)])
        if len(steps) < 2:
            return
        lo, hi = viewbox.viewRange()[0]
        new = clamp_span(lo, hi, float(steps.min()), float(steps.max()))
        if new != (lo, hi):
            viewbox.setXRange(*new, padding=0)

    def _update_ranges(self) -> None:
        if self._manual:
            return
        steps = self.data.column(COL["step"])
        x_end = step_axis_end(self.total_steps, float(steps[-1]) if len(steps) else 0.0)
        self._set_range(-1, self.loss_plot.getViewBox(), "x", 0.0, x_end, hysteresis=False)
        if len(steps) == 0:
            return
        for index, key in ((0, "loss_g"), (1, "loss_d")):  # each loss on its own axis
            lo, hi = robust_bounds([self.losses.column(LOSS_COL[key]), self._smooth[key].column(0)])
            if lo is not None and hi is not None:
                self._set_range(index, self.plots[index].getViewBox(), "y", lo, hi)
        lo, hi = robust_bounds([self.data.column(COL["img_s"])])
        if hi is not None:
            self._set_range(2, self.speed_plot.getViewBox(), "y", 0.0, hi)
        quality = [y[np.isfinite(y)] for y in map(self._quality_column, ("swd", "variety"))]
        if any(len(q) for q in quality):  # SWD and variety % share the axis, from 0
            self._set_range(3, self.quality_plot.getViewBox(), "y", 0.0, float(max(q.max() for q in quality if len(q))))

    def _set_range(self, key: int, viewbox, axis: str, lo: float, hi: float, hysteresis: bool = True) -> None:
        new = next_range(self._ranges.get(key), lo, hi, hysteresis=hysteresis)
        if new is None:
            return
        self._ranges[key] = new
        if axis == "x":
            viewbox.setXRange(*new, padding=0)
        else:
            viewbox.setYRange(*new, padding=0)

    # ---------------------------------------------------------------- appearance
    def apply_palette(self) -> None:
        """Plot background and text from the widget palette (light/dark mode)."""
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Base)
        fg = pal.color(QPalette.ColorRole.Text)
        self.view.setBackground(bg)
        for plot, (title, keys) in zip(self.plots, self.titles):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(fg)
                axis.setTextPen(fg)
            if len(keys) == 1:  # a one-curve chart: its coloured key is its title
                plot.setTitle(f"<span style='color:{COLOURS[keys[0]]}'>&#9473;&nbsp;{LABELS[keys[0]]}</span>",
                              size="10pt")
                continue
            key_html = "&nbsp;&nbsp;".join(f"<span style='color:{COLOURS[k]}'>&#9473;&nbsp;{LABELS[k]}</span>"
                                           for k in keys)
            plot.setTitle(f"<span style='color:{fg.name()}'>{title}</span>&nbsp;&nbsp;&nbsp;{key_html}", size="10pt")

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)


def style_plot(widget: pg.PlotWidget, palette: QPalette) -> None:
    """Palette colours for a stand-alone PlotWidget (the dataset pane's histogram)."""
    bg = palette.color(QPalette.ColorRole.Base)
    fg = palette.color(QPalette.ColorRole.Text)
    widget.setBackground(bg)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(fg)
        axis.setTextPen(fg)
    if item.titleLabel.text:
        item.titleLabel.setText(item.titleLabel.text, color=fg.name())
