"""The window half of ``faceforge --self-test`` (the rest, Qt-free, is ``faceforge/cli/selftest.py``).

It starts the app as ``faceforge`` does (same QApplication set-up, same main window reopening the last session,
which in the self-test's empty settings folder is the built-in faces), waits for the first paint and for the
built-in faces to be shown, and saves a screenshot. What it proves on an install or a bundle: Qt's platform plugin,
the icon and resources, every pane's imports, the thumbnail worker and the procedural faces all load. The times it
returns (seconds since the process started) are what a person waits for the window: the bundle's start-up
measurement in CI.
"""
from __future__ import annotations

import time
from pathlib import Path


THUMBNAILS = 20  # decoded thumbnails that count as "the faces are shown"


class WindowCheckFailed(RuntimeError):
    pass


def _wait(app, done, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


def check_window(*, screenshot: Path | None = None, timeout_s: float = 120.0) -> dict[str, float]:
    """Open the main window, wait until it is painted and shows the built-in faces; its timings in seconds since
    the process started (``window_shown_s``, ``dataset_shown_s``). Raises WindowCheckFailed saying what failed."""
    from faceforge.frozen import process_age_s
    from faceforge.gui.app import create_app
    from faceforge.gui.main_window import MainWindow

    app = create_app(["faceforge"])
    window = MainWindow(initial_dataset=None, warm_up=False)
    window.confirm_stop_on_close = lambda: True
    loaded: list = []
    window.datasetLoaded.connect(loaded.append)
    thumbs: list = []  # decoded thumbnails (off the GUI thread): the faces a person sees, not the placeholders
    window.dataset_pane.model.loader.loaded.connect(lambda index, array: array is not None and thumbs.append(index))
    try:
        window.show()
        window.reopen_last()
        if not _wait(app, lambda: window.isVisible() and window.windowHandle() is not None
                     and window.windowHandle().isExposed(), timeout_s):
            raise WindowCheckFailed("the window was never shown")
        app.processEvents()  # the first paint
        shown = process_age_s()
        if not _wait(app, lambda: bool(loaded) or bool(window.last_error), timeout_s):
            raise WindowCheckFailed(f"the built-in faces were not shown within {timeout_s:.0f} s")
        if window.last_error:
            raise WindowCheckFailed(f"the window reported an error: {window.last_error}")
        if not _wait(app, lambda: len(thumbs) >= THUMBNAILS, timeout_s):
            raise WindowCheckFailed(f"the built-in faces' thumbnails were not drawn within {timeout_s:.0f} s")
        _wait(app, lambda: False, 0.1)  # the model redraws decoded thumbnails at most every 33 ms
        dataset_shown = process_age_s()
        image = window.grab().toImage()
        if image.isNull() or image.width() < 200 or image.height() < 200:
            raise WindowCheckFailed("the window could not be drawn (empty screenshot)")
        colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
        if len(colours) < 4:
            raise WindowCheckFailed("the window drew a blank screen")
        if screenshot is not None:
            image.save(str(screenshot), "PNG")
        return {"window_shown_s": shown, "dataset_shown_s": dataset_shown}
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
