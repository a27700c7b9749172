"""Application start-up: logging, the uncaught-exception hook, style, and the main window.

``main(argv)`` is what ``faceforge`` with no sub-command runs. It uses the Fusion style, which since Qt 6.5
follows the system's light/dark colour scheme; the plots take their colours from the palette, so they follow it
too. The scheme can also be chosen (View > Colour scheme, kept in the settings) or set for one session with
``FACEFORGE_COLOR_SCHEME=light|dark|system``: a virtual screen (Xvfb, offscreen) has no system scheme, and both
must be checkable there. A path on the command line (a dataset folder or zip, or a run folder) is opened as if it
had been dropped on the window; without one the window reopens the last session's dataset and run.
"""
from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

COLOR_SCHEME_ENV = "FACEFORGE_COLOR_SCHEME"

#: the two palettes a chosen scheme sets on Fusion (Qt's own Fusion colours; the dark one after its dark variant).
#: Every widget and plot takes its colours from the palette's roles, so these are the app's only colour table.
PALETTES = {
    "light": {"Window": "#efefef", "WindowText": "#000000", "Base": "#ffffff", "AlternateBase": "#f7f7f7",
              "Text": "#000000", "Button": "#efefef", "ButtonText": "#000000", "BrightText": "#ffffff",
              "Light": "#ffffff", "Midlight": "#cacaca", "Mid": "#b8b8b8", "Dark": "#9f9f9f", "Shadow": "#767676",
              "Highlight": "#308cc6", "HighlightedText": "#ffffff", "Link": "#0000ff", "LinkVisited": "#ff00ff",
              "ToolTipBase": "#ffffdc", "ToolTipText": "#000000", "PlaceholderText": "#7f7f7f"},
    # Fusion outlines check boxes in the window colour darkened: the base stays well below it, or an unchecked
    # box in a table vanishes
    "dark": {"Window": "#3c3c3c", "WindowText": "#f0f0f0", "Base": "#191919", "AlternateBase": "#232323",
             "Text": "#f0f0f0", "Button": "#474747", "ButtonText": "#f0f0f0", "BrightText": "#ff6b6b",
             "Light": "#5a5a5a", "Midlight": "#4e4e4e", "Mid": "#2a2a2a", "Dark": "#1e1e1e", "Shadow": "#141414",
             "Highlight": "#3d7ad6", "HighlightedText": "#ffffff", "Link": "#6ea8fe", "LinkVisited": "#c58af9",
             "ToolTipBase": "#474747", "ToolTipText": "#f0f0f0", "PlaceholderText": "#9a9a9a"},
}
DISABLED_TEXT = {"light": "#bebebe", "dark": "#7f7f7f"}
_system_palette = None  # the palette the platform gave, restored by "system"
_current_scheme = "system"


def current_color_scheme() -> str:
    return _current_scheme


def scheme_palette(scheme: str):
    """The QPalette of ``light`` or ``dark``."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    for role, colour in PALETTES[scheme].items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    for role in ("WindowText", "Text", "ButtonText"):
        palette.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role),
                         QColor(DISABLED_TEXT[scheme]))
    return palette


def apply_color_scheme(app, scheme: str) -> None:
    """Light, dark or the system's: the style hint (a real desktop then styles title bars to match) and the
    palette itself (a platform without a scheme, like offscreen, ignores the hint)."""
    from PySide6.QtCore import Qt

    global _system_palette, _current_scheme
    if scheme not in ("system", *PALETTES):
        raise ValueError(f"colour scheme must be light, dark or system, not {scheme!r}")
    _current_scheme = scheme
    if _system_palette is None:
        _system_palette = app.palette()
    hints = app.styleHints()
    if scheme == "system":
        if hasattr(hints, "unsetColorScheme"):
            hints.unsetColorScheme()
        app.setPalette(_system_palette)
        return
    if hasattr(hints, "setColorScheme"):  # PySide6 >= 6.8
        hints.setColorScheme(Qt.ColorScheme.Dark if scheme == "dark" else Qt.ColorScheme.Light)
    app.setPalette(scheme_palette(scheme))


def startup_color_scheme(saved: str) -> str:
    """FACEFORGE_COLOR_SCHEME when set (and valid), else the saved choice."""
    wanted = os.environ.get(COLOR_SCHEME_ENV, "").strip().lower()
    if wanted and wanted not in ("system", *PALETTES):
        log.warning("ignoring %s=%s (use light, dark or system)", COLOR_SCHEME_ENV, wanted)
        return saved
    return wanted or saved


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
    from faceforge.gui.settings import GuiSettings

    apply_color_scheme(app, startup_color_scheme(GuiSettings().color_scheme))
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

    window = MainWindow(initial_dataset=None)
    window.show()
    window.reopen_last()  # then a path given replaces what it names (a dataset, a run)
    for arg in argv[1:]:
        if not arg.startswith("-"):
            window.open_path(arg)
    code = app.exec()
    window.shutdown()
    return int(code)


def self_test_window(*, screenshot=None) -> dict[str, float]:
    """The window half of ``faceforge --self-test`` (gui/selftest.py): the command line may import only this
    module of the GUI."""
    from faceforge.gui.selftest import check_window

    return check_window(screenshot=screenshot)


if __name__ == "__main__":  # python -m faceforge.gui.app
    raise SystemExit(main())
