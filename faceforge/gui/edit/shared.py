"""Small pieces every part of the Edit pane uses: image views, the save dialog, the line that says what an
export wrote, and images from the clipboard or a drop."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from faceforge.gui.images import PixelView

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def array_from_qimage(image: QImage) -> np.ndarray:
    """A QImage (e.g. from the clipboard) as (H,W,3) uint8 RGB."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return np.ascontiguousarray(buf[:, : 3 * w].reshape(h, w, 3))


def dropped_image(mime) -> Path | None:
    """The first local image file among dropped URLs, if any."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
            return Path(url.toLocalFile())
    return None


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
