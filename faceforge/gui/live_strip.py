"""The run this window is training, always in view: its name, progress, speed, time left, why it is slower (the
CPU is shared) and its Pause and Stop buttons - apart from whatever run the plots show, as TensorBoard and W&B
keep the live run apart from the one being looked at. And what puts a warning where the eye is: the banner over
the plots, and warning and error lines in colour in the events list.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStyle, QVBoxLayout,
                               QWidget)

from faceforge.curves import time_left
from faceforge.tasks import Eta, format_duration

WARN_STYLE = ("QFrame#notice { background: rgba(230, 126, 34, 40); border: 1px solid #e67e22; border-radius: 4px; }")
OUTCOMES = {"finished": "finished", "stopped": "stopped (resumable)", "cancelled": "cancelled before it started",
            "failed": "failed", "disk-full": "paused: the disk is full"}


def _icon_label(widget: QWidget, pixmap: QStyle.StandardPixmap) -> QLabel:
    label = QLabel()
    label.setPixmap(widget.style().standardIcon(pixmap).pixmap(20, 20))
    label.setAlignment(Qt.AlignmentFlag.AlignTop)
    return label


class LiveStrip(QFrame):
    """Fed by the Train pane with the training worker's updates only, never with the run on screen."""

    showRequested = Signal(str)  # the user wants the plots to show the training run

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.run_dir: Path | None = None
        self.total = 0
        self.metrics_every = 0
        self.step = 0
        self.eval_s = 0.0
        self._eta = Eta()
        self.name = QLabel("")
        self.name.setStyleSheet("font-weight: 600")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("")
        self.info = QLabel("")
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("Show the training run's curves and samples")
        self.show_button.clicked.connect(lambda: self.run_dir and self.showRequested.emit(str(self.run_dir)))
        self.pause_button = QPushButton("❚❚  Pause")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setToolTip("Stop at the next step; a snapshot and a checkpoint are written (resumable)")
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice_icon = _icon_label(self, QStyle.StandardPixmap.SP_MessageBoxInformation)
        row = QHBoxLayout()
        row.addWidget(self.name)
        row.addWidget(self.bar, 1)
        row.addWidget(self.info)
        for b in (self.show_button, self.pause_button, self.stop_button):
            row.addWidget(b)
        notice_row = QHBoxLayout()
        notice_row.addWidget(self.notice_icon)
        notice_row.addWidget(self.notice, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row)
        layout.addLayout(notice_row)
        self.set_notice("")
        self.hide()

    # ---------------------------------------------------------------- what the pane tells it
    def preparing(self, done: int | None = None, total: int | None = None) -> None:
        self.show()
        self.name.setText("Starting…")
        if done is None or not total:
            self.bar.setRange(0, 0)
            self.bar.setFormat("")
            self.info.setText("preparing the dataset…")
        else:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(done)
            self.bar.setFormat(f"preparing data {done:,} / {total:,}")
            self.info.setText("")

    def started(self, run_dir: Path, *, step: int, total: int, metrics_every: int) -> None:
        self.run_dir, self.total, self.metrics_every, self.step = Path(run_dir), total, metrics_every, step
        self._eta = Eta()
        self.eval_s = 0.0
        self.show()
        self.name.setText(f"Training {self.run_dir.name}")
        self.name.setToolTip(str(self.run_dir))
        self._show_step()
        self.info.setText("estimating time left…")

    def progressed(self, *, step: float, img_s: float, wall: float, eval_s: float | None) -> None:
        """The newest logged tick of the training run (``wall`` is training time: pauses do not count)."""
        self.step = int(step)
        if eval_s is not None:
            self.eval_s = eval_s
        if math.isfinite(wall):
            self._eta.update(self.step, self.total, wall)
        self._show_step()
        parts = [f"{img_s:,.0f} img/s"] if math.isfinite(img_s) else []
        left = time_left(step=self.step, total=self.total, seconds_per_step=self._eta.seconds_per_item,
                         eval_seconds=self.eval_s, metrics_every=self.metrics_every)
        parts.append(f"{format_duration(left)} left" if left is not None else "estimating time left…")
        self.info.setText(" · ".join(parts))

    def _show_step(self) -> None:
        self.bar.setRange(0, max(self.total, 1))
        self.bar.setValue(min(self.step, self.total))
        self.bar.setFormat(f"step {self.step:,} / {self.total:,}")

    def set_state(self, state: str) -> None:
        self.pause_button.setText("▶  Resume" if state == "paused" else "❚❚  Pause")
        active = state in ("preparing", "running", "paused")
        self.pause_button.setEnabled(active)
        self.stop_button.setEnabled(active)
        if state == "paused" and self.run_dir is not None:
            self.info.setText("paused")
        elif state == "stopping":
            self.info.setText("stopping at the next step…")

    def set_cpu(self, cpu: dict) -> None:
        """A "cpu" event: other programs use the CPU (busy) and the thread count followed, or the CPU is free."""
        self.set_notice(str(cpu.get("text") or "") if cpu.get("busy") else "")

    def set_notice(self, text: str, *, warning: bool = False) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.notice_icon.setVisible(bool(text))
        icon = QStyle.StandardPixmap.SP_MessageBoxWarning if warning else QStyle.StandardPixmap.SP_MessageBoxInformation
        self.notice_icon.setPixmap(self.style().standardIcon(icon).pixmap(18, 18))

    def finished(self, result: dict) -> None:
        """The outcome stays in view (with the run's name) until the next start; a start that failed before the
        run folder existed says so here and nowhere else."""
        state = str(result.get("state", "?"))
        message = str(result.get("message") or "")
        self.set_state("idle")
        self.show()
        if result.get("run_dir"):
            self.run_dir = Path(result["run_dir"])
            self.name.setText(f"{self.run_dir.name}: {OUTCOMES.get(state, state)}")
            self.step = int(result.get("step", self.step))
            if self.total:
                self._show_step()
        else:
            self.run_dir = None
            self.name.setText("Could not start" if state == "failed" else f"Start {OUTCOMES.get(state, state)}")
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("")
        self.info.setText("")
        self.show_button.setEnabled(self.run_dir is not None)
        self.set_notice(message if state in ("failed", "disk-full") else "", warning=True)


class HealthBanner(QFrame):
    """A health warning over the plots: icon, what is wrong and what to do, Dismiss. Several warnings: the newest
    is shown and the count says there are more (all stay in the events list)."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("notice")
        self.setStyleSheet(WARN_STYLE)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(_icon_label(self, QStyle.StandardPixmap.SP_MessageBoxWarning))
        layout.addWidget(self.text, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.count = 0
        self.hide()

    def warn(self, text: str, *, step: int | None = None) -> None:
        self.count += 1
        where = f"Health warning at step {step:,}:" if step is not None else "Warning:"
        more = f" <i>({self.count} warnings; all are in the events list below)</i>" if self.count > 1 else ""
        self.text.setText(f"<b>{where}</b> {html.escape(text)}{more}")
        self.show()

    def dismiss(self) -> None:
        self.count = 0
        self.hide()
        self.dismissed.emit()


class EventColours(QSyntaxHighlighter):
    """Warning lines of the events list in orange and bold, errors in red (events.log's level column, or the
    "▸ WARNING:" lines of this window's own messages)."""

    def __init__(self, document):
        super().__init__(document)
        self.formats = {}
        for level, colour in (("WARNING", "#d35400"), ("ERROR", "#c0392b")):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            fmt.setFontWeight(QFont.Weight.Bold)
            self.formats[level] = fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt API
        level = text[20:27].strip() if not text.startswith("▸") else text[2:].split(":", 1)[0]
        fmt = self.formats.get(level)
        if fmt is not None:
            self.setFormat(0, len(text), fmt)
