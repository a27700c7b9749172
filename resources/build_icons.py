"""Render the app icon's PNG sizes from its SVG, and copy both into the package data the app reads.

    python resources/build_icons.py        # after editing resources/icons/faceforge.svg; commit what it writes

resources/ holds the sources (this SVG, the .desktop file, the AppStream metadata); faceforge/resources/ holds
what the installed app reads at run time (found with importlib.resources). Qt's SVG renderer draws offscreen, so
this runs without a display.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE / "icons" / "faceforge.svg"
PACKAGE_DATA = HERE.parent / "faceforge" / "resources"
SIZES = (16, 32, 48, 64, 128, 256)


def render(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG for Qt")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts and image plugins
    for size in SIZES:
        out = HERE / "icons" / f"faceforge-{size}.png"
        render(SVG, size, out)
        shutil.copyfile(out, PACKAGE_DATA / out.name)
        print(f"wrote {out.relative_to(HERE.parent)} and its package copy")
    shutil.copyfile(SVG, PACKAGE_DATA / SVG.name)
    print(f"copied {SVG.relative_to(HERE.parent)} to {PACKAGE_DATA.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
