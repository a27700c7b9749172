"""What every long task in FaceForge shares: the cancel exception, the progress and stop callbacks, and how a
duration is written for a person.

Data loading, training, encoder training, photo refinement and the GUI's background tasks all take a
``progress`` callback and a ``should_stop`` callable and raise :class:`Cancelled` when told to stop, so a caller
(the CLI, a Qt worker, a test) drives any of them the same way. See docs/ARCHITECTURE.md.
"""
from __future__ import annotations

from typing import Any, Callable

ProgressFn = Callable[[dict[str, Any]], None]
StopFn = Callable[[], bool]


class Cancelled(Exception):
    """Raised when ``should_stop()`` asked to stop; nothing half-built is left behind for a later run to trust."""


def format_duration(seconds: float) -> str:
    """A duration as people say it: "45 s", "3 min 05 s", "2 h 07 min" (rounded to the second)."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Eta:
    """Time left from the recent rate, not the average since the start: a run that slows down because another
    program took a core (or speeds up when it leaves) gets an honest estimate within a few updates. The first
    estimate comes from the first two measured points, so long tasks show one early."""

    def __init__(self, *, smoothing: float = 0.3):
        self.smoothing = smoothing
        self._last: tuple[float, float] | None = None  # (done, seconds)
        self.seconds_per_item: float | None = None

    def update(self, done: float, total: float, seconds: float) -> float | None:
        """``seconds`` is any clock that advances with the work (wall time, or training time). Returns the
        seconds left, or None until two points are known."""
        if self._last is not None and done > self._last[0] and seconds >= self._last[1]:
            rate = (seconds - self._last[1]) / (done - self._last[0])
            s = self.smoothing
            self.seconds_per_item = rate if self.seconds_per_item is None else (1 - s) * self.seconds_per_item + s * rate
        if self._last is None or done > self._last[0]:
            self._last = (done, seconds)
        if self.seconds_per_item is None:
            return None
        return max(0.0, (total - done) * self.seconds_per_item)
