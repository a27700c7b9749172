"""Pictures for people: headings over a figure and the before/after sheet of a photo edit.

Text is drawn with Pillow's bundled scalable font at a size that stays legible when the window shows the image
shrunk (the axis figure at 1280x800), not the 6 px bitmap font. The recipes rebuild the plain images; these are
the copies meant for slides and papers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BAND_FILL = (24, 24, 24)
TEXT_FILL = (235, 235, 235)


def font(size: int):
    """Pillow's bundled scalable font (Pillow >= 10.1), else its bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # an older Pillow: no sizes
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, face, width: float) -> str:
    while text and draw.textlength(text, font=face) > width:
        text = text[:-1]
    return text


def add_headings(image: np.ndarray, titles: Sequence[str], *, cell: int, pad: int = 2, fill: int = 24,
                 scale: int = 1) -> np.ndarray:
    """A copy of a grid made by ``make_grid`` (enlarged ``scale`` times) with a band of column titles on top,
    centred over their columns. "Name=value" titles take two lines (name, value) so long attribute names fit;
    the font is the largest (12 to 28 px) at which every line fits its column."""
    im = Image.fromarray(image)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    step = (cell + pad) * scale
    lines = [str(t).replace("=", "\n", 1).split("\n") for t in titles]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    size = 28
    while size > 12 and any(probe.textlength(line, font=font(size)) > step - 4 for ls in lines for line in ls):
        size -= 1
    face = font(size)
    rows = max((len(ls) for ls in lines), default=1)
    band = rows * (size + 4) + 6
    out = Image.new("RGB", (im.width, im.height + band), (fill, fill, fill))
    out.paste(im, (0, band))
    d = ImageDraw.Draw(out)
    for i, title_lines in enumerate(lines):
        for k, line in enumerate(title_lines):
            text = _fit(d, line, face, step - 4)
            x = pad * scale + i * step + (cell * scale - d.textlength(text, font=face)) / 2
            d.text((x, 3 + k * (size + 4)), text, fill=TEXT_FILL, font=face)
    return np.asarray(out)


def before_after_sheet(aligned: np.ndarray, reconstruction: np.ndarray, edited: np.ndarray, *, scale: int = 2,
                       edits: Mapping[str, float] | None = None) -> np.ndarray:
    """original aligned | reconstruction | edited, side by side, each captioned, enlarged ``scale`` times (the
    photo crop resized to the model's size first), with the edit written underneath."""
    side = edited.shape[0]
    photo = np.asarray(Image.fromarray(np.asarray(aligned, np.uint8)).resize((side, side), Image.BICUBIC))
    cells = [photo, reconstruction, edited]
    captions = ["Original (aligned)", "Reconstruction", "Edited"]
    s = side * scale
    gap, size = 8, max(12, min(24, s // 8))
    face = font(size)
    band = size + 12
    note = ", ".join(f"{k} {v:+.2f}".replace("-0.00", "0.00") for k, v in (edits or {}).items())
    foot = band if note else 0
    out = Image.new("RGB", (3 * s + 4 * gap, s + band + foot + gap), BAND_FILL)
    d = ImageDraw.Draw(out)
    for i, (cell, caption) in enumerate(zip(cells, captions)):
        x = gap + i * (s + gap)
        out.paste(Image.fromarray(np.asarray(cell, np.uint8)).resize((s, s), Image.NEAREST), (x, band))
        text = _fit(d, caption, face, s)
        d.text((x + (s - d.textlength(text, font=face)) / 2, 5), text, fill=TEXT_FILL, font=face)
    if note:
        d.text((gap, band + s + 6), _fit(d, "Edit: " + note, face, out.width - 2 * gap), fill=TEXT_FILL, font=face)
    return np.asarray(out)


def sheet_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + "-sheet.png")
