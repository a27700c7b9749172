"""Crash-safe file writing: write to a temporary file in the same folder, fsync, then rename over the target.

A reader therefore sees either the old complete file or the new complete file, never a half-written one, even if
the process is killed or the disk fills up mid-write (the temporary file is removed and the error re-raised).
The new file gets the permissions a plain ``open(path, "w")`` would give it: an existing file keeps its own, a new
one gets 0666 minus the umask (0644 under the usual 022), not mkstemp's private 0600.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


class DiskFullError(OSError):
    """Raised instead of a bare ENOSPC so callers can pause and tell the user, rather than crash."""


_umask_lock = threading.Lock()
_swapped_umask: int | None = None


def current_umask() -> int:
    """The process umask, without changing it.

    POSIX can only read the umask by setting it (``os.umask``), and the umask is process-wide: between the two
    calls of a swap, a file another thread creates gets the temporary value instead. Linux publishes it read-only
    in /proc/self/status ("Umask:", since 4.7), so there it is read fresh on every call (no window at all, and a
    program that changes its umask later is followed). Elsewhere (macOS, a /proc-less container) it is swapped
    once and remembered, under a lock so two of our own writers cannot interleave their swaps, with 077 as the
    temporary value: a file another thread creates in that instant can only come out more private, never more open.
    """
    global _swapped_umask
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:
        if _swapped_umask is None:
            _swapped_umask = os.umask(0o077)
            os.umask(_swapped_umask)
        return _swapped_umask


def _plain_write_mode(path: Path) -> int:
    """The permission bits ``open(path, "w")`` would leave: the existing file's, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


@contextmanager
def atomic_open(path: Path, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            if hasattr(os, "fchmod"):  # POSIX; Windows has no permission bits to match
                os.fchmod(fh.fileno(), _plain_write_mode(path))
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise DiskFullError(errno.ENOSPC, f"disk full while writing {path}; the previous file is intact") from exc
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks (weights files are tens of MB): what a sidecar JSON records so a
    changed or half-written file next to it is refused."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
