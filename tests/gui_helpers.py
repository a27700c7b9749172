"""The main window as the GUI tests open it: headless, 1280x800, no warm-up, and stopped and shut down after."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def main_window(qtbot):
    from faceforge.gui.main_window import MainWindow

    w = MainWindow(initial_dataset=None, warm_up=False)
    w.confirm_stop_on_close = lambda: True
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    try:
        yield w
    finally:
        if w.session.active:
            w.session.stop()
            w.session.wait(60_000)
        w.shutdown()


@contextmanager
def edit_pane(qtbot):
    """The Edit pane on its own, headless at 1280x800, shut down after (its workers stopped)."""
    from faceforge.gui.edit.pane import EditPane

    p = EditPane()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    try:
        yield p
    finally:
        p.shutdown()


def settle(qtbot, pane, timeout: int = 120_000):
    """Past the Edit pane's two throttles and every pending render (grid and current face)."""
    qtbot.wait(300)
    qtbot.waitUntil(lambda: pane.worker._grid is None and pane.worker._face is None, timeout=timeout)
    qtbot.wait(200)
