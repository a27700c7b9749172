"""Is the process that wrote a lock or a status file still alive? One answer for the whole program."""
from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True if a process with this id exists (even one owned by another user). Where there is no cheap check
    (Windows), a positive id counts as alive and callers fall back on age or a heartbeat."""
    if pid <= 0:
        return False
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to someone else
        return True
    except OSError:
        return False
    return True
