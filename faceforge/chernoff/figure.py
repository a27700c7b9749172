"""The data-faces figure as placed pieces (pictures, text, boxes), and its PNG, SVG and PDF files.

The layout is computed once, in pixels, from the faces and their captions; the three writers only draw it, so the
files show the same figure. SVG and PDF keep every caption, value and heading as text (searchable, selectable,
sharp at any zoom); in SVG each face carries its row's raw values as a ``<title>`` (the tooltip a browser shows).
The faces keep the generator's own pixels: the PNG enlarges them (bicubic) to the size they are shown at, SVG and
PDF embed them as they are (PNG data; Flate-compressed RGB marked for smooth scaling, :mod:`faceforge.chernoff.pdf`)
and let the viewer scale them, which keeps the files small. No plotting library is needed.
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from faceforge.chernoff.pdf import PdfPage, text_width
from faceforge.fileio import atomic_write_bytes

FORMATS = (".png", ".svg", ".pdf")
FONT = "Helvetica, Arial, sans-serif"
GREY, RED, INK = "#666666", "#b00020", "#111111"


@dataclass
class Cell:
    """One face in the grid: its caption (the row label, with " *" when a value was filled in) and its tooltip."""

    face: np.ndarray
    caption: str
    tooltip: str = ""


@dataclass
class LegendEntry:
    """One mapped column: the faces at its min, middle and max (others at their middle) and the raw values."""

    column: str
    feature: str
    faces: np.ndarray  # (3, H, W, 3)
    values: tuple[float, float, float]
    warning: str = ""


@dataclass
class Picture:
    pixels: np.ndarray
    x: float
    y: float
    size: float
    tooltip: str = ""


@dataclass
class Text:
    text: str
    x: float
    y: float  # baseline
    size: float
    anchor: str = "start"  # start | middle | end
    color: str = INK
    bold: bool = False


@dataclass
class Figure:
    width: float
    height: float
    pictures: list[Picture] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    title: str = ""


def fit_text(text: str, size: float, width: float) -> str:
    """``text`` cut with "…" to fit ``width``."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def enlarge(face: np.ndarray, size: int) -> np.ndarray:
    if face.shape[0] == size:
        return face
    return np.asarray(Image.fromarray(face).resize((size, size), Image.Resampling.BICUBIC))


def layout(cells: list[Cell], legend: list[LegendEntry], *, title: str, notes: list[str], face: int = 96,
           columns: int | None = None, legend_face: int = 64) -> Figure:
    """The grid (captions under the faces) on the left, the legend strips on the right, notes underneath."""
    pad, caption, head = 10, 15, 34
    cols = columns or max(1, min(len(cells), round(math.sqrt(len(cells) * 1.6)) or 1))
    rows = math.ceil(len(cells) / cols) if cells else 0
    cell_w, cell_h = face + pad, face + caption + pad
    grid_w = cols * cell_w
    fig = Figure(width=0, height=0, title=title)
    fig.texts.append(Text(title, pad, 22, 15, bold=True))
    for i, cell in enumerate(cells):
        x, y = pad + (i % cols) * cell_w, head + (i // cols) * cell_h
        fig.pictures.append(Picture(cell.face, x, y, face, cell.tooltip))
        fig.texts.append(Text(fit_text(cell.caption, 10, face + pad - 2), x + face / 2, y + face + 11, 10,
                              anchor="middle"))
    lx = pad + grid_w + 2 * pad
    strip_w = 3 * (legend_face + 6)
    ly = head
    if legend:
        fig.texts.append(Text("Legend: min, middle, max", lx, ly + 10, 11, bold=True))
        ly += 20
    for entry in legend:
        fig.texts.append(Text(fit_text(f"{entry.column} -> {entry.feature}", 11, strip_w), lx, ly + 11, 11, bold=True))
        ly += 15
        if entry.warning:
            fig.texts.append(Text(fit_text("(!) " + entry.warning, 9, strip_w), lx, ly + 9, 9, color=RED))
            ly += 12
        for k in range(3):
            x = lx + k * (legend_face + 6)
            fig.pictures.append(Picture(entry.faces[k], x, ly + 2, legend_face,
                                        f"{entry.column} = {entry.values[k]:.4g}"))
            fig.texts.append(Text(f"{('min', 'mid', 'max')[k]} {entry.values[k]:.3g}", x + legend_face / 2,
                                  ly + legend_face + 13, 9, anchor="middle", color=GREY))
        ly += legend_face + 22
    bottom = max(head + rows * cell_h, ly) + 4
    for note in notes:
        fig.texts.append(Text(note, pad, bottom + 10, 9, color=GREY))
        bottom += 13
    widest = max([text_width(t.text, t.size) * (1.15 if t.bold else 1.0) for t in fig.texts if t.x >= lx] or [0])
    notes_w = max([pad + text_width(n, 9) for n in notes] or [0])
    # room for a viewer whose fallback font is wider than Helvetica (SVG text is drawn with the viewer's fonts)
    fig.width = max(lx + max(strip_w if legend else 0, widest) + 3 * pad, notes_w + 3 * pad)
    fig.height = bottom + pad
    return fig


# ---------------------------------------------------------------- writers
def to_png(fig: Figure, *, scale: float = 1.0) -> bytes:
    w, h = round(fig.width * scale), round(fig.height * scale)
    canvas = Image.new("RGB", (w, h), "white")
    for p in fig.pictures:
        size = round(p.size * scale)
        canvas.paste(Image.fromarray(enlarge(p.pixels, size)), (round(p.x * scale), round(p.y * scale)))
    draw = ImageDraw.Draw(canvas)
    fonts: dict[float, ImageFont.FreeTypeFont] = {}
    for t in fig.texts:
        font = fonts.setdefault(t.size, ImageFont.load_default(size=t.size * scale))
        x = t.x * scale
        width = draw.textlength(t.text, font=font)
        x -= width / 2 if t.anchor == "middle" else width if t.anchor == "end" else 0
        draw.text((x, t.y * scale), t.text, fill=t.color, font=font, anchor="ls",
                  stroke_width=1 if t.bold and t.size * scale >= 14 else 0, stroke_fill=t.color)  # small: legible
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()


def to_svg(fig: Figure) -> bytes:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{fig.width:g}" height="{fig.height:g}" '
           f'viewBox="0 0 {fig.width:g} {fig.height:g}" font-family={quoteattr(FONT)}>',
           f"<title>{escape(fig.title)}</title>", '<rect width="100%" height="100%" fill="white"/>']
    for p in fig.pictures:
        buf = io.BytesIO()
        Image.fromarray(p.pixels).save(buf, format="PNG")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        out.append(f'<g><title>{escape(p.tooltip)}</title><image x="{p.x:g}" y="{p.y:g}" width="{p.size:g}" '
                   f'height="{p.size:g}" href="data:image/png;base64,{data}"/></g>')
    for t in fig.texts:
        weight = ' font-weight="bold"' if t.bold else ""
        out.append(f'<text x="{t.x:g}" y="{t.y:g}" font-size="{t.size:g}" text-anchor="{t.anchor}" '
                   f'fill="{t.color}"{weight}>{escape(t.text)}</text>')
    out.append("</svg>\n")
    return "\n".join(out).encode("utf-8")


def to_pdf(fig: Figure) -> bytes:
    """1 figure pixel = 0.75 pt (96 dpi), so the page is the size the PNG is shown at."""
    s = 0.75
    page = PdfPage(fig.width * s, fig.height * s)
    for p in fig.pictures:
        page.image(p.pixels, p.x * s, p.y * s, p.size * s, p.size * s)
    for t in fig.texts:
        page.text(t.text, t.x * s, t.y * s, t.size * s, anchor=t.anchor,
                  color=t.color, bold=t.bold)
    return page.to_bytes(title=fig.title)


def write_figure(fig: Figure, path: Path) -> Path:
    """PNG, SVG or PDF by the file's suffix (atomically)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"the figure is written as {', '.join(FORMATS)}, not {path.suffix or 'no suffix'}")
    data = {".png": to_png, ".svg": to_svg, ".pdf": to_pdf}[suffix](fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return path
