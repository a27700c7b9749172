"""Application start-up: logging, the uncaught-exception hook, style, and the main window.

``main(argv)`` is what ``faceforge`` with no sub-command runs. It uses the Fusion style, which since Qt 6.5
follows the system's light/dark colour scheme; the plots take their colours from the palette, so they follow it
too. A path on the command line (a dataset folder or zip, or a run folder) is opened as if it had been dropped
on the window.
"""
from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def configure_pyqtgraph() -> None:
    import pyqtgraph as pg

    # numpy row-major images, no OpenGL (portable, and fast enough with downsampling + clip-to-view)
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)


#: Python's GIL hand-over interval while the GUI runs. Training runs on a Python thread; when the GUI thread
#: wants the GIL it waits until the trainer's next forced switch - 5 ms by default, paid again for every slot and
#: paint method pyqtgraph calls during one repaint (a 3-plot repaint went from ~40 ms to ~160 ms under a busy
#: training thread). 1 ms keeps that convoy short; it costs nothing when the GUI is idle (no one asks for the
#: GIL). Measured with bench/ui_stall.py.
GUI_SWITCH_INTERVAL_S = 0.001


def app_icon():
    """The FaceForge icon at every packaged size (faceforge/resources), for the window and the taskbar."""
    from PySide6.QtGui import QIcon, QPixmap

    from faceforge.resources import icon_pngs

    icon = QIcon()
    for data in icon_pngs().values():
        pixmap = QPixmap()
        pixmap.loadFromData(data, "PNG")
        icon.addPixmap(pixmap)
    return icon


def create_app(argv: list[str]):
    """The QApplication (reused if one exists, e.g. under pytest-qt)."""
    from PySide6.QtWidgets import QApplication

    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv)
    app.setApplicationName("FaceForge")
    app.setOrganizationName("FaceForge")
    app.setApplicationDisplayName("FaceForge")
    app.setStyle("Fusion")
    app.setDesktopFileName("faceforge")  # resources/faceforge.desktop: how Wayland docks find the icon and name
    app.setWindowIcon(app_icon())
    configure_pyqtgraph()
    import gc

    gc.freeze()  # Qt, pyqtgraph, numpy: never garbage, never worth a collector pass (see workers.freeze_heap)
    return app


NO_DISPLAY = """FaceForge is a desktop app, and this session has no display (no DISPLAY or WAYLAND_DISPLAY).
Run it on a desktop, or under a virtual screen (xvfb-run faceforge), or work headless with the same core:
  faceforge train --data builtin:faces --steps 2000 --out runs/
  faceforge generate --run runs/00000-builtin-faces-cdcgan32 --n 16 --out grid.png
(faceforge --help lists every command.)"""


def has_display() -> bool:
    """Qt aborts the whole process when it cannot open a display; check first and say what to do instead."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from faceforge.gui.errors import install_excepthook, setup_logging

    path = setup_logging()
    log.info("FaceForge GUI starting; log file %s", path)
    app = create_app(argv)
    install_excepthook()
    from faceforge.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    for arg in argv[1:]:
        if not arg.startswith("-"):
            window.open_path(arg)
    code = app.exec()
    window.shutdown()
    return int(code)


if __name__ == "__main__":  # python -m faceforge.gui.app
    raise SystemExit(main())
