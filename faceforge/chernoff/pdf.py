"""A minimal PDF writer for the data-faces figure: one page, RGB images, text in Helvetica as real text.

Why our own: the figure needs only placed images and single-line text, and the project has no PDF library (Qt's
PDF writer may not be used by the core, which runs headless without Qt). A PDF of this kind is small and fully
specified (PDF 1.4, ISO 32000-1): a catalog, a page, one content stream, an image XObject per picture (raw RGB,
Flate-compressed with zlib) and the standard Type 1 font Helvetica, which every reader has, so nothing is embedded.
Text is WinAnsi-encoded (Latin-1 covers it; other characters become "?"), so it can be searched, selected and
copied. Widths come from Helvetica's standard metrics, enough to centre a caption.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

# Helvetica's advance widths (1/1000 em) for characters 32..126, from its standard AFM metrics
_WIDTHS = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
           556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
           500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
           556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
           278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584]


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in Helvetica at ``size`` (same unit as size)."""
    return sum(_WIDTHS[ord(c) - 32] if 32 <= ord(c) <= 126 else 556 for c in text) * size / 1000.0


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"").replace(b"\n", b" ")


@dataclass
class PdfPage:
    """One page ``width`` x ``height`` in points, drawn top-down (y grows downwards, as in the figure)."""

    width: float
    height: float

    def __post_init__(self) -> None:
        self._ops: list[bytes] = []
        self._images: list[np.ndarray] = []

    def image(self, pixels: np.ndarray, x: float, y: float, w: float, h: float) -> None:
        """Place an (H, W, 3) uint8 picture with its top-left corner at (x, y), drawn w x h."""
        name = f"Im{len(self._images)}"
        self._images.append(np.ascontiguousarray(pixels[..., :3], np.uint8))
        self._ops.append(f"q {w:.3f} 0 0 {h:.3f} {x:.3f} {self.height - y - h:.3f} cm /{name} Do Q\n".encode())

    def text(self, text: str, x: float, y: float, size: float, *, anchor: str = "start", color: str = "#000000",
             bold: bool = False) -> None:
        """One line whose baseline starts at (x, y); ``anchor`` "middle" centres it on x, "end" ends it there."""
        width = text_width(text, size)
        x0 = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
        font = "F2" if bold else "F1"
        self._ops.append(f"BT {r:.3f} {g:.3f} {b:.3f} rg /{font} {size:.2f} Tf {x0:.3f} {self.height - y:.3f} Td (".encode()
                         + _escape(text) + b") Tj ET\n")

    def rect(self, x: float, y: float, w: float, h: float, *, color: str) -> None:
        r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
        self._ops.append(f"q {r:.3f} {g:.3f} {b:.3f} rg {x:.3f} {self.height - y - h:.3f} {w:.3f} {h:.3f} re f Q\n".encode())

    def to_bytes(self, *, title: str = "") -> bytes:
        """The whole file: objects, cross-reference table with exact byte offsets, trailer."""
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add(b"")  # filled in below, once the page's number is known
        pages = add(b"")
        f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        f2 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
        xobjects = []
        for i, px in enumerate(self._images):
            data = zlib.compress(px.tobytes(), 6)
            head = (f"<< /Type /XObject /Subtype /Image /Width {px.shape[1]} /Height {px.shape[0]} /ColorSpace "
                    f"/DeviceRGB /BitsPerComponent 8 /Interpolate true /Filter /FlateDecode /Length {len(data)} >>\n"
                    "stream\n").encode()
            number = add(head + data + b"\nendstream")
            xobjects.append(f"/Im{i} {number} 0 R")
        content = zlib.compress(b"".join(self._ops), 6)
        stream = add(f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode() + content + b"\nendstream")
        page = add((f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {self.width:.2f} {self.height:.2f}] "
                    f"/Resources << /Font << /F1 {f1} 0 R /F2 {f2} 0 R >> /XObject << {' '.join(xobjects)} >> >> "
                    f"/Contents {stream} 0 R >>").encode())
        objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages} 0 R >>".encode()
        objects[pages - 1] = f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>".encode()
        info = add(b"<< /Producer (FaceForge) /Title (" + _escape(title) + b") >>")
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
        out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n"
                "%%EOF\n").encode()
        return bytes(out)
