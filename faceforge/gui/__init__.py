"""The desktop GUI (PySide6 + pyqtgraph): a live view of run folders and models over the same core as the CLI.

Only this package imports Qt. ``main(argv)`` starts the application; the CLI calls it when ``faceforge`` is run
without a sub-command.
"""
from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from faceforge.gui.app import main as _main

    return _main(argv)


__all__ = ["main"]
