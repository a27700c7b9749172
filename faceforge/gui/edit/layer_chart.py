"""A small bar chart of one direction's per-layer relevance (:mod:`faceforge.directions.relevance`): the gain in
the attribute's score when only that style layer is moved, one bar per layer in ranked order, the kept layers (the
ones an edit moves when the Directions box says "layers: relevant") in the plots' blue, the others muted.

Drawn with QPainter (a few bars need no plotting library) in the application palette, so it reads in light and
dark mode like the training plots (:mod:`faceforge.gui.plots`).
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from faceforge.gui.plots import COLOURS

KEPT_COLOUR = COLOURS["loss_g"]  # the plots' blue


class LayerChart(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = ""
        self.gains: list[float] = []
        self.ranking: list[int] = []
        self.kept: set[int] = set()
        self.sign = 1.0
        self.detail = ""
        self.setMinimumHeight(96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(280, 110)

    def set_relevance(self, name: str, relevance: dict | None) -> None:
        """Show ``relevance`` (the ``layers`` record of a fit) for direction ``name``; None clears the chart."""
        if not relevance:
            self.title, self.gains, self.ranking, self.kept = "", [], [], set()
        else:
            self.gains = [float(g) for g in relevance["gains"]]
            self.ranking = [int(i) for i in relevance["ranking"]]
            self.kept = {int(i) for i in relevance.get("kept", [])}
            self.sign = -1.0 if float(relevance.get("all_gain", 1.0)) < 0 else 1.0
            kept = ", ".join(str(i) for i in sorted(self.kept))
            self.title = f"{name} by style layer · kept {kept}"
            self.detail = (f"Each bar: how much the classifier's score of {name} moves when only that style layer "
                           f"is moved {float(relevance.get('amount', 0)):+g} spreads along it, most relevant first. "
                           f"Blue: the layers an edit moves (layers: relevant); together they give "
                           f"{float(relevance.get('kept_gain', 0)):+.3f} of the {float(relevance.get('all_gain', 0)):+.3f}"
                           f" all layers give, over {relevance.get('samples', '?')} samples.")
        self.setToolTip(self.detail if self.gains else "")
        self.update()

    def bars(self) -> list[tuple[int, float, bool]]:
        """(layer, gain in the direction's sense, kept) in the order drawn, left to right."""
        return [(i, self.sign * self.gains[i], i in self.kept) for i in self.ranking]

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(text)
        fm = painter.fontMetrics()
        line = fm.height()
        painter.drawText(QRectF(4, 2, self.width() - 8, line), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(self.title, Qt.TextElideMode.ElideRight, self.width() - 8))
        bars = self.bars()
        if not bars:
            return
        top, bottom = line + 6, self.height() - line - 4
        peak = max(max(abs(g) for _, g, _ in bars), 1e-12)
        low = min(0.0, min(g for _, g, _ in bars))
        span = peak - low if low < 0 else peak
        zero = top + (bottom - top) * (peak / span if low < 0 else 1.0)
        step = (self.width() - 8) / len(bars)
        width = max(2.0, step * 0.7)
        for j, (layer, gain, kept) in enumerate(bars):
            x = 4 + j * step + (step - width) / 2
            h = (bottom - top) * abs(gain) / span
            colour = QColor(KEPT_COLOUR) if kept else muted
            painter.fillRect(QRectF(x, zero - h if gain >= 0 else zero, width, h), colour)
            painter.setPen(text if kept else muted)
            painter.drawText(QRectF(x - 4, bottom + 2, width + 8, line), Qt.AlignmentFlag.AlignHCenter, str(layer))
        painter.setPen(muted)
        painter.drawLine(4, int(zero), self.width() - 4, int(zero))
