"""What changes when FaceForge runs from a PyInstaller bundle (``sys.frozen``) instead of a Python install.

A bundle is one folder holding the interpreter, torch, Qt and FaceForge. Four things differ there, and each has
its one place here so the entry point (``faceforge.cli.main``) can set them up before anything else runs:

- ``multiprocessing.freeze_support()`` must run first: a frozen executable started as a multiprocessing child
  would otherwise run the whole app again instead of the child's work.
- A windowed build (Windows ``FaceForge.exe``, the macOS ``.app``) has ``sys.stdout`` and ``sys.stderr`` set to
  None: a library's ``sys.stderr.write`` (faulthandler, a progress bar, a warning) would crash the app, so they
  get a sink.
- torch.compile needs a C compiler and Python headers that a bundle does not carry: it is switched off
  (``TORCH_COMPILE_DISABLE``), whichever library asks for it. FaceForge itself uses no DataLoader workers (its
  batches are built in-process, ``training/batches.py``), which would re-launch the frozen executable.
- PyInstaller points ``LD_LIBRARY_PATH`` (Linux) at the bundle's own libraries and keeps the user's value in
  ``LD_LIBRARY_PATH_ORIG``; a program the app starts (the file manager from "Open log folder", a browser) must
  get the user's own value back, or it loads the bundle's Qt and OpenSSL and may crash. ``child_env`` and
  ``clean_library_path`` give it back.

Nothing here imports torch or Qt.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Iterator

#: the library-path variables the PyInstaller bootloader may change, each saved as NAME_ORIG
LIBRARY_PATH_VARS = ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH", "LIBPATH")
_IMPORTED_AT = time.time()


def is_frozen() -> bool:
    """True inside a PyInstaller (or similar) bundle."""
    return bool(getattr(sys, "frozen", False))


def prepare_process() -> None:
    """Run first in every entry point: freeze support, standard streams, no torch.compile when frozen."""
    import multiprocessing

    multiprocessing.freeze_support()
    ensure_std_streams()
    if is_frozen():
        os.environ.setdefault("TORCH_COMPILE_DISABLE", "1")


def ensure_std_streams() -> None:
    """Give a windowed build's missing stdout/stderr a sink (the log file keeps what matters)."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def child_env(env: dict[str, str] | None = None, *, frozen: bool | None = None) -> dict[str, str]:
    """An environment for a program this app starts: in a bundle, each library path the bootloader changed gets
    the user's own value back (or is removed when the user had none); elsewhere the environment unchanged."""
    env = dict(os.environ if env is None else env)
    if not (is_frozen() if frozen is None else frozen):
        return env
    bundle = getattr(sys, "_MEIPASS", None)
    for name in LIBRARY_PATH_VARS:
        original = env.pop(f"{name}_ORIG", None)
        if original is not None:
            env[name] = original
        elif bundle and bundle in env.get(name, ""):  # set by the bootloader, the user had none
            env.pop(name)
    return env


@contextlib.contextmanager
def clean_library_path() -> Iterator[None]:
    """For starters that take no environment (Qt's QDesktopServices.openUrl spawns xdg-open with ours): the
    user's library path while the block runs, the bundle's again after it, so this process's own later loads
    (Qt plugins) still find the bundle's libraries."""
    if not is_frozen():
        yield
        return
    saved = {name: os.environ.get(name) for name in LIBRARY_PATH_VARS}
    clean = child_env()
    try:
        for name in LIBRARY_PATH_VARS:
            if name in clean:
                os.environ[name] = clean[name]
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def process_age_s() -> float:
    """Seconds since this process started (Linux: from /proc, so the bundle's own unpacking and the interpreter's
    start count too); elsewhere since FaceForge was first imported, which misses the interpreter's start."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rpartition(")")[2].split()
        started_ticks = int(fields[19])  # field 22 (starttime), counted from the one after the command name
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(uptime - started_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.time() - _IMPORTED_AT
