"""Face alignment for editing a user's own photo: find the face, level the eyes, crop like the training data.

A generator only understands faces framed the way its training images were: its template
(:mod:`faceforge.editing.templates`) says where the eyes belong. :func:`align_face` detects the face and its eyes,
rotates so the eyes are level, and scales and crops so the eyes land where the model expects them.

Detection uses OpenCV's Haar cascades, which ship inside the ``opencv-python-headless`` wheel: nothing is downloaded
at run time and no network is needed. OpenCV is an optional extra (``pip install "opencv-python-headless<5"``);
without it :func:`align_face` raises an :class:`AlignmentError` saying so, and :func:`crop_box` (a manual crop
box, no detection) always works.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from faceforge.editing.templates import Point, Template, resolve_template, square_of
from faceforge.editing.templates import template_for_data  # noqa: F401 - the CLI imports it from here

OPENCV_REQUIREMENT = "opencv-python-headless<5"

Box = tuple[int, int, int, int]  # left, top, right, bottom in image pixels


class AlignmentError(ValueError):
    """Alignment could not produce a face. ``reason`` is one of ``missing-library``, ``no-face``,
    ``several-faces`` or ``bad-image``; for ``several-faces``, ``faces`` holds every face box (left to right) so a
    GUI can let the user pick one (``align_face(..., face=i)``)."""

    def __init__(self, message: str, *, reason: str, faces: Sequence[Box] = ()):
        super().__init__(message)
        self.reason = reason
        self.faces = [tuple(int(v) for v in f) for f in faces]


@dataclass
class AlignResult:
    aligned: np.ndarray  # (resolution, resolution, 3) uint8
    box: Box  # the face the detector found, in the input image's pixels
    eyes: tuple[Point, Point] | None  # (image-left eye, image-right eye) centres in the input image, if found
    message: str  # one line for the user: what was found and done
    angle: float = 0.0  # roll of the eye line before levelling, degrees (positive: the image-right eye was lower)
    faces: list[Box] = field(default_factory=list)  # every face found (left to right)
    template: str = ""


# ------------------------------------------------------------------------------------------------- image helpers
def as_rgb_uint8(image: Any) -> np.ndarray:
    """A PIL image or an (H,W,3)/(H,W,4)/(H,W) array as (H,W,3) uint8 RGB."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise AlignmentError(f"expected a uint8 image, got {arr.dtype}", reason="bad-image")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise AlignmentError(f"expected an (H, W, 3) RGB image, got shape {arr.shape}", reason="bad-image")
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        raise AlignmentError(f"the image is too small ({arr.shape[1]}x{arr.shape[0]} px)", reason="bad-image")
    return np.ascontiguousarray(arr[..., :3])


def load_photo(path: Path) -> np.ndarray:
    """A photo from disk as upright (EXIF-rotated) RGB uint8."""
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with Image.open(Path(path)) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise AlignmentError(f"{Path(path).name} is not a readable image ({exc})", reason="bad-image") from None


def crop_box(image: Any, box: Sequence[float], resolution: int) -> np.ndarray:
    """A manual crop: the box (left, top, right, bottom in image pixels), then its centred square, resized to the
    model's resolution -- the same steps the training pipeline applies to every dataset image. Needs no detector."""
    img = as_rgb_uint8(image)
    h, w = img.shape[:2]
    if len(box) != 4:
        raise ValueError("a crop box is LEFT,TOP,RIGHT,BOTTOM")
    left, top = max(0.0, float(box[0])), max(0.0, float(box[1]))
    right, bottom = min(float(w), float(box[2])), min(float(h), float(box[3]))
    if right - left < 1 or bottom - top < 1:
        raise ValueError(f"the crop box {tuple(box)} is outside the {w}x{h} image")
    sq_left, sq_top, side = square_of((left, top, right, bottom))
    out = Image.fromarray(img).resize((resolution, resolution), Image.BICUBIC,
                                      box=(sq_left, sq_top, sq_left + side, sq_top + side), reducing_gap=3.0)
    return np.asarray(out, dtype=np.uint8)


# ------------------------------------------------------------------------------------------------------ detection
def _cv2():
    try:
        import cv2  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise AlignmentError(
            "automatic face alignment needs OpenCV, which is not installed. Install it with\n"
            f'    pip install "{OPENCV_REQUIREMENT}"\n'
            "or crop the face by hand instead (a box LEFT,TOP,RIGHT,BOTTOM around the face, e.g. "
            "`faceforge edit PHOTO --crop 120,80,360,320 ...`).",
            reason="missing-library",
        ) from None
    return cv2


_CASCADES: dict[str, Any] = {}


def _cascade(name: str):
    cv2 = _cv2()
    if name not in _CASCADES:
        path = Path(cv2.data.haarcascades) / name
        clf = cv2.CascadeClassifier(str(path))
        if clf.empty():
            raise AlignmentError(
                f"OpenCV is installed but its face model {name} is missing (OpenCV 5 no longer ships them). "
                f'Install "{OPENCV_REQUIREMENT}", or crop the face by hand.', reason="missing-library")
        _CASCADES[name] = clf
    return _CASCADES[name]


SMALL_FACE = 0.4  # faces narrower than this fraction of the largest are background, not a choice to offer
_DETECT_SIDE = 800  # faces are found on a copy at most this big; eyes on the face region at ~_EYE_FACE px
_EYE_FACE = 200


def _rotate(img: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """``img`` turned about its centre (same size); also the 2x3 matrix from original to rotated pixels."""
    cv2 = _cv2()
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), M


def _faces_in(gray: np.ndarray) -> list[tuple[float, float, float, float]]:
    short = min(gray.shape)
    min_side = max(24, short // 20)
    found = _cascade("haarcascade_frontalface_alt2.xml").detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    return [tuple(float(v) for v in f) for f in (found if len(found) else [])]


def _merge(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Drop boxes mostly inside a bigger one (a detector firing twice on one face)."""
    keep: list[tuple[float, float, float, float]] = []
    for b in sorted(boxes, key=lambda b: -b[2] * b[3]):
        bx0, by0, bx1, by1 = b[0], b[1], b[0] + b[2], b[1] + b[3]
        dup = False
        for k in keep:
            ix = max(0.0, min(bx1, k[0] + k[2]) - max(bx0, k[0]))
            iy = max(0.0, min(by1, k[1] + k[3]) - max(by0, k[1]))
            if ix * iy > 0.5 * b[2] * b[3]:
                dup = True
                break
        if not dup:
            keep.append(b)
    return sorted(keep, key=lambda b: b[0])


@dataclass
class _Face:
    corners: np.ndarray  # (4, 2) corners of the detection box in the original image (rotated if found rotated)
    box: Box  # axis-aligned bounds of the corners
    angle: float  # the image rotation under which it was found (degrees, cv2 sense)


def detect_faces(image: Any) -> list[Box]:
    """Every face found, as (left, top, right, bottom) boxes sorted left to right. Tries the photo upright, then
    turned +-25 degrees, so moderately tilted heads are found too."""
    return [f.box for f in _detect(as_rgb_uint8(image))]


def _detect(img: np.ndarray) -> list[_Face]:
    cv2 = _cv2()
    h, w = img.shape[:2]
    scale = min(1.0, _DETECT_SIDE / max(h, w))
    small = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale < 1.0 else img
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    for angle in (0.0, 25.0, -25.0):
        if angle:
            rotated, M = _rotate(gray, angle)
            boxes = _merge(_faces_in(rotated))
            Minv = cv2.invertAffineTransform(M)
        else:
            boxes = _merge(_faces_in(gray))
            Minv = np.float64([[1, 0, 0], [0, 1, 0]])
        if not boxes:
            continue
        faces = []
        for x, y, bw, bh in boxes:
            pts = np.float64([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]])
            pts = (pts @ Minv[:, :2].T + Minv[:, 2]) / scale
            lo, hi = pts.min(0), pts.max(0)
            box = (int(max(0, math.floor(lo[0]))), int(max(0, math.floor(lo[1]))),
                   int(min(w, math.ceil(hi[0]))), int(min(h, math.ceil(hi[1]))))
            faces.append(_Face(pts, box, angle))
        return sorted(faces, key=lambda f: f.box[0])
    return []


def _pupil(gray: np.ndarray, ex: float, ey: float, ew: float, eh: float) -> Point:
    """Refine an eye box to the pupil: the centroid of the darkest pixels in the box's middle (a Haar box centre
    alone is off by a few pixels, several degrees of roll at typical eye distances)."""
    cv2 = _cv2()
    x0, y0 = int(ex + 0.2 * ew), int(ey + 0.25 * eh)
    x1, y1 = int(ex + 0.8 * ew), int(ey + 0.8 * eh)
    roi = gray[y0:y1, x0:x1].astype(np.float32)
    if roi.size < 9:
        return ex + ew / 2, ey + eh / 2
    roi = cv2.GaussianBlur(roi, (0, 0), max(1.0, ew / 15))
    weight = np.clip(np.percentile(roi, 8) - roi, 0, None) + 1e-6
    yy, xx = np.mgrid[: roi.shape[0], : roi.shape[1]]
    return x0 + float((weight * xx).sum() / weight.sum()) + 0.5, y0 + float((weight * yy).sum() / weight.sum()) + 0.5


def _eyes_in(face: np.ndarray) -> tuple[Point, Point] | None:
    """Eye centres in an upright face crop (grey, about _EYE_FACE px), or None."""
    h, w = face.shape[:2]
    top = face[: int(h * 0.6)]
    lo, hi = max(8, w // 9), max(12, w // 3)
    for name, neighbours in (("haarcascade_eye.xml", 3), ("haarcascade_eye_tree_eyeglasses.xml", 2),
                             ("haarcascade_eye.xml", 1)):
        found = _cascade(name).detectMultiScale(top, scaleFactor=1.05, minNeighbors=neighbours,
                                                minSize=(lo, lo), maxSize=(hi, hi))
        eyes = [tuple(float(v) for v in e) for e in (found if len(found) else [])]
        # one eye in each half, the pair most alike in size and height
        left = [e for e in eyes if e[0] + e[2] / 2 < w * 0.5]
        right = [e for e in eyes if e[0] + e[2] / 2 >= w * 0.5]
        best, best_cost = None, float("inf")
        for a in left:
            for b in right:
                dy = abs((a[1] + a[3] / 2) - (b[1] + b[3] / 2)) / w
                dx = ((b[0] + b[2] / 2) - (a[0] + a[2] / 2)) / w
                if dy > 0.15 or not 0.2 < dx < 0.75:
                    continue
                cost = dy + abs(a[2] - b[2]) / w + abs(dx - 0.42)
                if cost < best_cost:
                    best, best_cost = (a, b), cost
        if best is not None:
            return _pupil(face, *best[0]), _pupil(face, *best[1])
    return None


def _find_eyes(img: np.ndarray, face: _Face) -> tuple[tuple[Point, Point] | None, np.ndarray]:
    """Eyes of one face in original image coordinates. The face box is cut out upright (un-rotating it if it was
    found in a turned copy), scaled to ~_EYE_FACE px and searched for eyes there."""
    cv2 = _cv2()
    c = face.corners
    side = float(np.linalg.norm(c[1] - c[0]))
    k = _EYE_FACE / max(side, 1.0)
    # affine map from original image pixels to the upright face crop: corners[0] -> (0,0), corners[1] -> (S,0)
    ux = (c[1] - c[0]) / side
    uy = np.float64([-ux[1], ux[0]])
    A = k * np.stack([ux, uy])  # rows: new x axis, new y axis
    t = -A @ c[0]
    M = np.hstack([A, t[:, None]])
    size = int(round(side * k))
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if k < 1.0:  # shrink big faces with area averaging first, then the exact warp
        f = max(k * 1.5, 1e-3)
        if f < 1.0:
            gray = cv2.resize(gray, (max(1, round(gray.shape[1] * f)), max(1, round(gray.shape[0] * f))),
                              interpolation=cv2.INTER_AREA)
            sx, sy = gray.shape[1] / img.shape[1], gray.shape[0] / img.shape[0]
            M = M @ np.float64([[1 / sx, 0, 0], [0, 1 / sy, 0], [0, 0, 1]])
    crop = cv2.warpAffine(gray, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    crop = cv2.equalizeHist(crop)
    eyes = _eyes_in(crop)
    if eyes is None:
        return None, M
    Minv = cv2.invertAffineTransform(np.hstack([A, t[:, None]]))
    back = [tuple(float(v) for v in (Minv[:, :2] @ np.float64(p) + Minv[:, 2])) for p in eyes]
    return (back[0], back[1]), M


def _eyes_from_box(face: _Face) -> tuple[Point, Point]:
    """Where the eyes usually are in a Haar face box, when the eye detector finds none."""
    c = face.corners
    ux, uy = c[1] - c[0], c[3] - c[0]
    pts = [c[0] + fx * ux + 0.36 * uy for fx in (0.3, 0.7)]
    return (float(pts[0][0]), float(pts[0][1])), (float(pts[1][0]), float(pts[1][1]))


def warp_to_template(image: np.ndarray, eyes: tuple[Point, Point], template: Template,
                     resolution: int) -> tuple[np.ndarray, float]:
    """Rotate, scale and crop so the two eye points land on the template's (resolution x resolution, uint8), with
    area-averaging before big reductions; also the eye line's roll that was removed (see :func:`eye_angle`)."""
    cv2 = _cv2()
    img = image
    (lx, ly), (rx, ry) = eyes
    src_d = math.hypot(rx - lx, ry - ly)
    if src_d < 1e-3:
        raise AlignmentError("the two eyes were found at the same place", reason="no-face")
    (tlx, tly), (trx, try_) = template.left_eye, template.right_eye
    tlx, tly, trx, try_ = (v * resolution for v in (tlx, tly, trx, try_))
    s = math.hypot(trx - tlx, try_ - tly) / src_d
    rot = math.atan2(try_ - tly, trx - tlx) - math.atan2(ry - ly, rx - lx)
    A = s * np.float64([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]])
    src_mid = np.float64([(lx + rx) / 2, (ly + ry) / 2])
    dst_mid = np.float64([(tlx + trx) / 2, (tly + try_) / 2])
    t = dst_mid - A @ src_mid
    if s < 0.6:  # big reduction: average pixels first (a bare warp would alias), then warp by the rest
        f = min(1.0, s * 1.6)
        img = cv2.resize(img, (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))),
                         interpolation=cv2.INTER_AREA)
        sx, sy = img.shape[1] / image.shape[1], img.shape[0] / image.shape[0]
        A = A @ np.float64([[1 / sx, 0], [0, 1 / sy]])
    # continuous coordinates (pixel centres at +0.5) -> OpenCV's (pixel centres at integers)
    t_px = t + A @ np.float64([0.5, 0.5]) - 0.5
    M = np.hstack([A, t_px[:, None]])
    out = cv2.warpAffine(img, M, (resolution, resolution), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out), eye_angle(eyes)


def eye_angle(eyes: tuple[Point, Point]) -> float:
    """Roll of the eye line in degrees (0 = level; positive = the image-right eye lower)."""
    (lx, ly), (rx, ry) = eyes
    return math.degrees(math.atan2(ry - ly, rx - lx))


def find_eyes(image: Any, box: Box | None = None) -> tuple[Point, Point] | None:
    """The eye centres of the face in ``box`` (or of the only/largest face found), in image pixels, or None."""
    img = as_rgb_uint8(image)
    if box is None:
        faces = _detect(img)
        if not faces:
            return None
        face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    else:
        left, top, right, bottom = (float(v) for v in box)
        corners = np.float64([[left, top], [right, top], [right, bottom], [left, bottom]])
        face = _Face(corners, tuple(int(v) for v in box), 0.0)
    return _find_eyes(img, face)[0]


def align_face(image: Any, *, resolution: int, template: str | Template = "celeba",
               face: int | None = None) -> AlignResult:
    """Detect the face, level its eyes and crop it the way the model's training images were framed.

    ``template``: ``"celeba"`` (CelebA aligned crops, no extra crop box), ``"builtin"`` or a :class:`Template`
    (see :func:`template_for_data` for a run's own crop). With several faces of similar size this raises an
    :class:`AlignmentError` whose ``faces`` lists every face found (left to right), unless ``face`` picks one
    (an index into that list, which is also :func:`detect_faces`'s). Faces narrower than ``SMALL_FACE`` of the
    largest are taken for background and ignored.
    """
    tpl = resolve_template(template)
    img = as_rgb_uint8(image)
    faces = _detect(img)
    if not faces:
        raise AlignmentError(
            "no face found in the photo. Use a photo where the face is upright, well lit and at least about "
            "60 pixels wide, or give a crop box around the face by hand.", reason="no-face")
    boxes = [f.box for f in faces]
    if face is not None:
        if not 0 <= face < len(faces):
            raise AlignmentError(f"face {face} does not exist: {len(faces)} face(s) found (0 = leftmost)",
                                 reason="several-faces", faces=boxes)
        chosen, ignored = faces[face], 0
    else:
        # faces far smaller than the main one are background (or detector noise), not a choice to offer
        biggest = max(b[2] - b[0] for b in boxes)
        main = [i for i, b in enumerate(boxes) if b[2] - b[0] >= SMALL_FACE * biggest]
        if len(main) > 1:
            listing = "; ".join(f"{i}: {boxes[i][0]},{boxes[i][1]},{boxes[i][2]},{boxes[i][3]}" for i in main)
            raise AlignmentError(
                f"{len(main)} faces found in the photo (left to right, as LEFT,TOP,RIGHT,BOTTOM: {listing}). "
                "Choose one (--face N), or crop the photo to a single face (--crop with one of these boxes, "
                "enlarged a little).", reason="several-faces", faces=boxes)
        chosen, ignored = faces[main[0]], len(faces) - 1
    eyes, _ = _find_eyes(img, chosen)
    note = ""
    if eyes is None:
        eyes = _eyes_from_box(chosen)
        note = " Eyes not found (glasses, shadow or closed eyes?): framed from the face box only, so the result " \
               "may be less well aligned."
    aligned, angle = warp_to_template(img, eyes, tpl, resolution)
    if ignored:
        note += f" Ignored {ignored} much smaller face(s) in the background."
    message = (f"face at {chosen.box[0]},{chosen.box[1]},{chosen.box[2]},{chosen.box[3]}; eyes levelled by "
               f"{angle:+.1f} degrees; framed like the {tpl.name} training images." + note)
    return AlignResult(aligned=aligned, box=chosen.box, eyes=eyes, message=message, angle=angle, faces=boxes,
                       template=tpl.name)
