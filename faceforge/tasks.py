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
