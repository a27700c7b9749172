"""Files the app reads at run time (the icon, as SVG and PNG sizes; the data faces' example table), found through importlib.resources.

They are package data, so they are found the same way from a source checkout, an installed wheel or a zipped
bundle. Their sources, and the script that renders the PNGs from the SVG, are in the top-level resources/ folder
(see docs/ARCHITECTURE.md). No Qt here: the GUI turns the bytes into a QIcon.
"""
from __future__ import annotations

from importlib import resources

ICON_SIZES = (16, 32, 48, 64, 128, 256)
ICON_SVG = "faceforge.svg"  # the scalable source, for whoever can draw SVG (installers, desktop themes)


def files():
    """This package's data folder, as an importlib.resources Traversable (a real folder, or inside a zip)."""
    return resources.files(__name__)


def read_bytes(name: str) -> bytes:
    """The contents of one resource file, e.g. ``read_bytes("faceforge-64.png")``."""
    resource = files() / name
    if not resource.is_file():
        raise FileNotFoundError(f"FaceForge resource {name!r} is missing from the installation")
    return resource.read_bytes()


def icon_pngs() -> dict[int, bytes]:
    """Every PNG size of the app icon, by size in pixels. Bytes rather than paths: Qt reads them from memory,
    which works the same whether the package is a folder or inside a zip."""
    return {size: read_bytes(f"faceforge-{size}.png") for size in ICON_SIZES}


EXAMPLE_TABLE = "usjudgeratings.csv"  # R's USJudgeRatings, 43 judges x 12 ratings (source: usjudgeratings.txt)


def example_table_text() -> str:
    """The data faces' example table as text (the Data faces pane opens it on first use)."""
    return read_bytes(EXAMPLE_TABLE).decode("utf-8")
