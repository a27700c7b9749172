"""Errors the user can read, tracebacks the developer can read.

Every failure ends up in two places: a short sentence in a message box or the status bar (what happened, what to
do), and the full traceback in ``paths.log_dir()/gui.log``. The app never shows a traceback dialog and never dies
because a slot raised: ``install_excepthook`` catches what nobody else did.
"""
from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from faceforge import paths

log = logging.getLogger("faceforge.gui")
LOG_NAME = "gui.log"
_log_file: Path | None = None


def setup_logging() -> Path:
    """Send the ``faceforge`` loggers to a rotating file in the log folder; returns the file's path."""
    global _log_file
    if _log_file is not None:
        return _log_file
    path = paths.log_dir() / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger("faceforge")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _log_file = path
    return path


def log_file() -> Path:
    return _log_file if _log_file is not None else paths.log_dir() / LOG_NAME


def readable(exc: BaseException) -> str:
    """One or two sentences for the user. Our own errors (DatasetError, ConfigError, CheckpointError...) already
    carry readable messages; for the rest we say what kind of problem it is and where the details are."""
    from faceforge.checkpoints import CheckpointError
    from faceforge.config import ConfigError

    if isinstance(exc, (CheckpointError, ConfigError)):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return ("Out of memory. Try a smaller batch size, a lower resolution or a smaller model "
                "(the Estimate button in the New-run dialog shows the memory a run needs).")
    if isinstance(exc, FileNotFoundError):
        return f"File or folder not found: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"Permission denied: {exc.filename or exc}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{exc.strerror or exc}{where}"
    if isinstance(exc, ValueError):  # includes DatasetError: the core's user-facing errors
        return str(exc) or type(exc).__name__
    return f"Unexpected error ({type(exc).__name__}: {exc}). The details are in {log_file()}."


def log_exception(exc: BaseException, context: str = "") -> None:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("%s%s", f"{context}: " if context else "", text)


class _ErrorRelay(QObject):
    """Carries an error raised on any thread to the GUI thread, where the message box is shown."""

    error = Signal(str)


_relay: _ErrorRelay | None = None
_box_open = False


def _show(message: str) -> None:
    """A non-blocking warning; at most one at a time so an error in a timer cannot flood the screen."""
    global _box_open
    app = QApplication.instance()
    if app is None or _box_open:
        return
    parent: QWidget | None = app.activeWindow()
    box = QMessageBox(QMessageBox.Icon.Warning, "FaceForge", message, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    _box_open = True

    def closed(_result: int) -> None:
        global _box_open
        _box_open = False

    box.finished.connect(closed)
    box.open()


def install_excepthook() -> None:
    """Route uncaught exceptions (in slots, timers, Python threads) to the log file and a readable message box."""
    global _relay
    _relay = _ErrorRelay()
    _relay.error.connect(_show)

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("uncaught exception:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        if _relay is not None:
            _relay.error.emit(readable(exc))  # queued to the GUI thread when raised elsewhere

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def on_gui_thread() -> bool:
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()
