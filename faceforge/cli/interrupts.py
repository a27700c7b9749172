"""Ctrl-C for long commands: the first asks the task to stop at its next step, the second aborts."""
from __future__ import annotations

import signal
import sys
from typing import Callable


def stop_on_ctrl_c(message: str) -> Callable[[], bool]:
    """Install the SIGINT handler; returns the ``should_stop`` callable to hand to the task."""
    stop = {"requested": False}

    def on_signal(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        print(f"\n{message} (Ctrl-C again to abort)…", file=sys.stderr)

    signal.signal(signal.SIGINT, on_signal)
    return lambda: stop["requested"]
