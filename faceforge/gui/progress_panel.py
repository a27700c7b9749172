"""A progress bar with a time-left estimate and a Cancel button, bound to one background Task.

The ETA uses the average rate since the task started (steady for file checks and cache builds, where every item
costs about the same); it is hidden for the first second, when any estimate would be noise.
"""
from __future__ import annotations

import time

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from faceforge.gui.tasks import Task
from faceforge.tasks import format_duration


def format_eta(seconds: float) -> str:
    return f"{format_duration(seconds)} left"


def eta_text(done: int, total: int, elapsed: float) -> str:
    if done <= 0 or total <= 0 or elapsed < 1.0:
        return "estimating time left…"
    rate = done / elapsed
    return format_eta((total - done) / rate) if rate > 0 else ""


class ProgressPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.eta = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.eta)
        layout.addWidget(self.cancel_button)
        self._task: Task | None = None
        self._t0 = 0.0
        self.hide()

    def track(self, task: Task, text: str) -> None:
        self._task = task
        self._t0 = time.perf_counter()
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.eta.setText("")
        self.cancel_button.setEnabled(True)
        task.progress.connect(lambda d, t, tk=task: self._progress(tk, d, t))
        self.show()

    def _progress(self, task: Task, done: int, total: int) -> None:
        if task is not self._task:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"{done:,} / {total:,}")
        self.eta.setText(eta_text(done, total, time.perf_counter() - self._t0))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.eta.setText("cancelling…")

    def finish(self) -> None:
        self._task = None
        self.hide()
