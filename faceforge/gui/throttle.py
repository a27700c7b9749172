"""Rate limiting for GUI updates (superqt's ``qthrottled`` idea, in a dozen lines).

Training can log hundreds of rows a second and a thumbnail pool can finish hundreds of images a second; repainting
for each would starve the event loop. A ``Throttler`` calls its callback at most once per interval: immediately
when the last call is old enough (no added latency when things are quiet), else once at the end of the interval
(nothing is ever lost, updates are coalesced).
"""
from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer


class Throttler(QObject):
    def __init__(self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._interval = interval_ms / 1000.0
        self._callback = callback
        self._last = float("-inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def trigger(self) -> None:
        if self._timer.isActive():
            return
        wait = self._interval - (time.perf_counter() - self._last)
        if wait <= 0:
            self._fire()
        else:
            self._timer.start(int(wait * 1000) + 1)

    def flush(self) -> None:
        """Run a pending call now (e.g. when the source has finished and nothing more will come)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def cancel(self) -> None:
        self._timer.stop()

    def _fire(self) -> None:
        self._last = time.perf_counter()
        self._callback()
