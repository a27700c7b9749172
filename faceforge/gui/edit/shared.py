"""Small pieces every part of the Edit pane uses: image views, the save dialog, and the line that says what an
export wrote."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from faceforge.gui.images import PixelView


def small_view(text: str, side: int = 96) -> PixelView:
    return PixelView(empty_text=text, min_side=side)


def ask_save(parent: QWidget, title: str, folder: Path | None, name: str, filt: str) -> Path | None:
    """A save dialog starting in ``folder`` (the run's, so exports sit beside it) or the home folder."""
    start = str((folder or Path.home()) / name)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, filt)
    return Path(path) if path else None


def wrote(path: str | Path, also: str = "") -> str:
    """What an export wrote: the file, its recipe, and ``also`` (another file, described) when given."""
    from faceforge.recipes import recipe_path

    name, recipe = Path(path).name, recipe_path(Path(path)).name
    return f"Wrote {name}, {recipe} and {also}" if also else f"Wrote {name} and {recipe}"
