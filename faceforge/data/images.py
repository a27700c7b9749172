"""Decoding whatever users put in their image folders into plain RGB, or a short reason why not.

Real folders hold truncated downloads, renamed text files, CMYK JPEGs from print workflows, 16-bit PNGs, GIFs and
phone photos that are only upright after applying EXIF. Each of these must become either a normal RGB image or a
:class:`BadImageError` whose reason a user understands, never an exception that stops a 200,000-image run.

Nothing here changes Pillow's global settings (``MAX_IMAGE_PIXELS``, ``LOAD_TRUNCATED_IMAGES``): decoding runs in
worker threads alongside the GUI, so the size limit is enforced per call instead, and truncated files stay errors
(tolerating them would silently train on half-grey faces).
"""
from __future__ import annotations

import io
import math
import os
import warnings
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 64_000_000  # larger than any camera photo a face dataset needs; smaller than Pillow's own bomb limit
MIN_SIDE = 8
DEFAULT_BACKGROUND = (255, 255, 255)

# Our own, stricter limit is checked before any pixel is decoded, so Pillow's softer warning (which fires between
# its limit and twice that, where our check rejects anyway) would only be noise on stderr.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

ImageSource = Union[bytes, bytearray, memoryview, str, os.PathLike]


class BadImageError(ValueError):
    """One image that cannot be used; ``reason`` is short and meant for a user-facing list of skipped files."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _read(data: ImageSource) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    try:
        with open(data, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise BadImageError("file not found") from None
    except IsADirectoryError:
        raise BadImageError("is a folder") from None
    except OSError as exc:
        raise BadImageError(f"unreadable ({exc.strerror or exc})") from None


_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF8", "GIF"), (b"BM", "BMP"))


def _open(raw: bytes) -> Image.Image:
    """``Image.open`` that tries the format the magic bytes announce first: asking every plugin in turn costs
    tens of microseconds per image, which at 1,000 images/s is a few percent of a core."""
    hint = next((fmt for magic, fmt in _MAGIC if raw.startswith(magic)), None)
    if hint is None and raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        hint = "WEBP"
    if hint is not None:
        try:
            return Image.open(io.BytesIO(raw), formats=[hint])
        except UnidentifiedImageError:
            pass
    return Image.open(io.BytesIO(raw))


def _draft_size(size: tuple[int, int], target: int, crop) -> tuple[int, int]:
    """The smallest decode size that still leaves ``target`` pixels across the (cropped) square."""
    w, h = size
    if crop is not None:
        cw, ch = max(1, crop[2] - crop[0]), max(1, crop[3] - crop[1])
        return math.ceil(target * w / cw), math.ceil(target * h / ch)
    return target, target


def _to_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
        if mode == "RGB":
            return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if mode.startswith("I;16") else float(arr.max(initial=0.0))
        scale = 255.0 / top if top > 255.0 else 1.0
        grey = np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(grey[..., None], 3, axis=2))
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or (mode == "L" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, tuple(background) + (255,))
        return Image.alpha_composite(flat, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV, I;16 variants Pillow knows


def decode_image(
    data: ImageSource,
    *,
    target: int | None = None,
    draft: bool = True,
    crop: tuple[int, int, int, int] | None = None,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = DEFAULT_BACKGROUND,
) -> Image.Image:
    """Decode bytes or a file into an upright RGB image, or raise :class:`BadImageError`.

    ``target`` (the final square size) lets JPEGs decode at 1/2, 1/4 or 1/8 scale straight from the DCT
    (``draft``), which is most of the speed of preprocessing; ``crop`` is only used to keep enough resolution inside
    the crop box. The returned image carries ``info["faceforge_original_size"]`` (upright size before any draft
    scaling, which :func:`crop_and_resize` needs to place the crop) and ``info["faceforge_format"]``.
    """
    raw = _read(data)
    if not raw:
        raise BadImageError("empty file")
    try:
        img = _open(raw)
    except Image.DecompressionBombError:
        raise BadImageError("too large (decompression bomb)") from None
    except UnidentifiedImageError:
        raise BadImageError("not an image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadImageError(_load_reason(exc)) from None
    fmt = img.format or "unknown"
    w, h = img.size
    if w * h > max_pixels:
        mp = w * h / 1e6
        shown = f"{mp:.0f}" if mp >= 10 else f"{mp:.2g}"
        raise BadImageError(f"too large ({shown} megapixels)")
    if min(w, h) < MIN_SIDE:
        raise BadImageError(f"too small ({w}x{h})")
    orientation = 1
    if "exif" in img.info or fmt not in ("JPEG", "WEBP", "GIF", "BMP"):  # parsing EXIF costs; skip when absent
        try:
            orientation = img.getexif().get(0x0112, 1)
        except Exception:  # a broken EXIF block should not cost the image
            orientation = 1
    upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animations: the first frame
        if draft and target and fmt == "JPEG":
            want = _draft_size(upright, target, crop)
            if orientation in (5, 6, 7, 8):
                want = (want[1], want[0])
            img.draft("RGB", want)
        img.load()
        if orientation != 1:
            img = ImageOps.exif_transpose(img)
        img = _to_rgb(img, background)
    except Image.DecompressionBombError:
        raise BadImageError("too large (decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
        raise BadImageError(_load_reason(exc)) from None
    img.info["faceforge_original_size"] = upright
    img.info["faceforge_format"] = fmt
    return img


def _load_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    if "truncated" in text or isinstance(exc, EOFError) or "premature end" in text:
        return "truncated"
    if "cannot identify" in text:
        return "not an image"
    return f"corrupt ({str(exc)[:60]})" if str(exc) else "corrupt"


def crop_and_resize(
    img: Image.Image, resolution: int, crop: tuple[int, int, int, int] | None = None
) -> np.ndarray:
    """Crop box (in original upright pixels), then the centred square, then resize: (res, res, 3) uint8.

    One ``resize`` call with ``box`` does crop and scale without an intermediate copy; ``reducing_gap`` first
    shrinks by an integer factor with a box filter, which keeps big photos fast at little cost in quality.
    """
    w, h = img.size
    left, top, right, bottom = 0.0, 0.0, float(w), float(h)
    if crop is not None:
        ow, oh = img.info.get("faceforge_original_size", (w, h))
        sx, sy = w / ow, h / oh
        left, top = max(0.0, crop[0] * sx), max(0.0, crop[1] * sy)
        right, bottom = min(float(w), crop[2] * sx), min(float(h), crop[3] * sy)
        if right - left < 1 or bottom - top < 1:
            raise BadImageError(f"crop box outside the image ({img.info.get('faceforge_original_size', (w, h))})")
    side = min(right - left, bottom - top)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    if img.mode != "RGB":
        img = img.convert("RGB")
    if box == (0.0, 0.0, float(resolution), float(resolution)) and img.size == (resolution, resolution):
        out = img
    else:
        out = img.resize((resolution, resolution), Image.BICUBIC, box=box, reducing_gap=3.0)
    return np.asarray(out, dtype=np.uint8).reshape(resolution, resolution, 3)


def thumbnail(ref, size: int) -> np.ndarray:
    """A (size, size, 3) uint8 preview of an :class:`~faceforge.data.sources.ImageRef` for the GUI's file grid.

    Draft-mode decoding makes this cheap enough to fill a grid while the user scrolls; raises BadImageError.
    """
    return crop_and_resize(decode_image(ref.read_bytes(), target=size), size)

