"""Alignment templates: where a model expects the eyes in its square images, so a photo can be framed the way the
training images were.

CelebA's aligned crops put the eyes at fixed places (the dataset's own alignment maps them to (70.7, 112) and
(108.2, 112) in a 178x218 frame), then the training pipeline takes the run's crop box and its centred square;
FaceForge's built-in faces have theirs where the renderer draws them. Pure geometry: no detector, no OpenCV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from faceforge.config import is_builtin

Point = tuple[float, float]

# CelebA's "align&cropped" images: 178 x 218, eyes mapped to these points by the dataset's own alignment script.
CELEBA_SIZE = (178, 218)
CELEBA_EYES = ((70.745, 112.0), (108.237, 112.0))

# Built-in faces (faceforge/data/synthetic.py): face centre at (0.5, 0.47) of the image, 1 face unit = 0.30 of
# the side; eyes at x = +-(0.24 + 0.15 * width) face units, y = -0.14, with width = 0.80 for an average face.
_BUILTIN_CX, _BUILTIN_CY, _BUILTIN_R = 0.5, 0.47, 0.30
_BUILTIN_EYE_DX, _BUILTIN_EYE_Y = 0.24 + 0.15 * 0.80, -0.14


@dataclass(frozen=True)
class Template:
    """Where the two eyes sit in the model's square images, as fractions of the side (x right, y down).
    ``left_eye`` is the eye on the image's left."""

    name: str
    left_eye: Point
    right_eye: Point

    @property
    def eye_distance(self) -> float:
        return math.hypot(self.right_eye[0] - self.left_eye[0], self.right_eye[1] - self.left_eye[1])


def square_of(box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """The centred square the data pipeline takes from a crop box: (left, top, side)."""
    left, top, right, bottom = box
    side = min(right - left, bottom - top)
    return (left + right) / 2 - side / 2, (top + bottom) / 2 - side / 2, side


def celeba_template(crop: Sequence[float] | None = None, *, source_size: tuple[int, int] = CELEBA_SIZE) -> Template:
    """The eye positions of CelebA-aligned images after the training pipeline's crop: the optional crop box (in
    source pixels), then the centred square (as :func:`faceforge.data.images.crop_and_resize` does).

    ``source_size`` is the size of the aligned images the crop refers to (178x218 for the originals; the
    ``celeba-10k`` sample is halved, 89x109); eye positions scale with it.
    """
    w, h = source_size
    sx, sy = w / CELEBA_SIZE[0], h / CELEBA_SIZE[1]
    box = (0.0, 0.0, float(w), float(h))
    if crop is not None:
        box = (max(0.0, float(crop[0])), max(0.0, float(crop[1])), min(float(w), float(crop[2])),
               min(float(h), float(crop[3])))
    left, top, side = square_of(box)
    eyes = [((x * sx - left) / side, (y * sy - top) / side) for x, y in CELEBA_EYES]
    name = "celeba" if crop is None else f"celeba-crop-{','.join(str(int(c)) for c in crop)}"
    return Template(name, eyes[0], eyes[1])


def builtin_template() -> Template:
    """The built-in faces' average eye positions (the head tilt attribute rotates them; alignment levels it)."""
    y = _BUILTIN_CY + _BUILTIN_R * _BUILTIN_EYE_Y
    return Template("builtin", (_BUILTIN_CX - _BUILTIN_R * _BUILTIN_EYE_DX, y),
                    (_BUILTIN_CX + _BUILTIN_R * _BUILTIN_EYE_DX, y))


def _first_image_size(source: str) -> tuple[int, int] | None:
    """Size of one image of a folder or zip dataset (they share one size for aligned sets), or None."""
    exts = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
    path = Path(source).expanduser()
    try:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.suffix.lower() in exts:
                    with Image.open(p) as im:
                        return im.size
        elif path.suffix.lower() == ".zip" and path.is_file():
            import zipfile

            with zipfile.ZipFile(path) as zf:
                for name in sorted(zf.namelist()):
                    if name.lower().endswith(exts):
                        with zf.open(name) as fh, Image.open(fh) as im:
                            return im.size
    except (OSError, ValueError):
        return None
    return None


def template_for_data(data: Any, *, source_size: tuple[int, int] | None = None) -> Template:
    """The template that matches a run's :class:`~faceforge.config.DataConfig`: the built-in faces' eyes, or the
    CelebA convention after the run's crop box. For a crop box the source image size matters; it is read from the
    first image of the dataset when not given (and assumed to be CelebA's 178x218 when the data is not at hand)."""
    source = str(getattr(data, "source", "") or "")
    if is_builtin(source):
        return builtin_template()
    crop = getattr(data, "crop", None)
    if crop is None:
        return celeba_template()  # the centred square does not depend on the scale of the source
    size = source_size or _first_image_size(source) or CELEBA_SIZE
    return celeba_template(crop, source_size=size)


def resolve_template(template: str | Template) -> Template:
    if isinstance(template, Template):
        return template
    if template == "celeba":
        return celeba_template()
    if template == "builtin":
        return builtin_template()
    raise ValueError(f"unknown alignment template {template!r}: use 'celeba', 'builtin' or a Template")
