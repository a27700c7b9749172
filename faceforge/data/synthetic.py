"""``builtin:faces``: procedural cartoon faces with known, continuous attributes.

They exist so FaceForge can train something out of the box (no download, no licence question) and so tests have
ground truth: every image comes with the exact attribute values that drew it, and :func:`measure_attributes`
reads a few of them back from the pixels, which lets a test check that a trained generator's "smile" slider really
changes the smile.

Rendering is Pillow polygons on a 2-4x canvas, box-downsampled (``Image.reduce``: exact area coverage, so proper
antialiasing; LANCZOS alone cost 350 us a face here, more than the whole drawing). All geometry for a batch
is computed with numpy up front (in face units: origin at the face centre, 1 = half the face height, y down), so the
per-face Python work is just a couple of dozen ``ImageDraw`` calls; that is what makes >1,500 faces/s possible.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

BUILTIN_ATTRIBUTES: list[str] = [
    "smile",
    "mouth_open",
    "eye_size",
    "face_width",
    "skin_tone",
    "hair_length",
    "glasses",
    "head_tilt",
]
_IDX = {name: i for i, name in enumerate(BUILTIN_ATTRIBUTES)}

GLASSES_RATE = 0.3
MAX_TILT_DEG = 20.0

# Where the face sits on the canvas, as fractions of the image side; measure_attributes relies on these.
_CX, _CY, _R = 0.5, 0.47, 0.30

_SKIN_DARK = np.array([88, 56, 40], np.float32)
_SKIN_MID = np.array([190, 136, 102], np.float32)
_SKIN_LIGHT = np.array([248, 220, 200], np.float32)
_HAIR = np.array(
    [[28, 24, 24], [62, 42, 30], [110, 72, 42], [212, 180, 112], [150, 96, 62], [168, 168, 172], [238, 226, 196],
     [40, 40, 70]],
    np.float32,
)
_HAIR_P = np.array([0.24, 0.22, 0.16, 0.14, 0.09, 0.07, 0.04, 0.04])
_IRIS = np.array([[70, 45, 25], [40, 90, 160], [60, 120, 70], [110, 110, 120], [25, 20, 20]], np.float32)
_FRAMES = np.array([[20, 20, 24], [70, 40, 25], [150, 20, 30], [25, 40, 110], [190, 150, 60], [200, 200, 210]],
                   np.float32)
_LIPS = np.array([176, 52, 66], np.float32)
_MOUTH_INSIDE = np.array([72, 14, 26], np.float32)


def sample_attributes(n: int, seed: int) -> np.ndarray:
    """Attribute vectors spread over [-1, 1], so a conditional model sees every region of each slider.

    Continuous attributes use a Beta(1.3, 1.3) (a little fuller in the middle than uniform, still reaching the
    ends); ``glasses`` is -1/+1 with ~30 % positives, like a real rare attribute.
    """
    rng = np.random.default_rng([int(seed), 0xA77])
    attrs = (rng.beta(1.3, 1.3, size=(n, len(BUILTIN_ATTRIBUTES))) * 2.0 - 1.0).astype(np.float32)
    attrs[:, _IDX["glasses"]] = np.where(rng.random(n) < GLASSES_RATE, 1.0, -1.0)
    return attrs


_CHUNK = 256


def _supersample(resolution: int) -> int:
    """Canvas factor: enough for smooth edges at small sizes, without paying for 4x at 128 px."""
    return 4 if resolution <= 32 else (3 if resolution <= 64 else 2)


class _Batch:
    """Shapes for a batch of faces, each as per-face flat point lists ready for ``ImageDraw``."""

    def __init__(self, n: int, side: int, tilt: np.ndarray):
        self.n = n
        self.side = side
        self.scale = _R * side
        self.cos = np.cos(tilt)[:, None]
        self.sin = np.sin(tilt)[:, None]
        self.shapes: list[tuple] = []

    def to_canvas(self, x: np.ndarray, y: np.ndarray, rotate: bool = True) -> list:
        x = np.broadcast_to(x, (self.n, x.shape[-1]))
        y = np.broadcast_to(y, (self.n, y.shape[-1]))
        if rotate:
            x, y = x * self.cos - y * self.sin, x * self.sin + y * self.cos
        pts = np.empty((self.n, x.shape[1] * 2), np.float32)
        pts[:, 0::2] = _CX * self.side + self.scale * x
        pts[:, 1::2] = _CY * self.side + self.scale * y
        return pts.tolist()

    def polygon(self, x, y, fill, *, mask=None, rotate=True, outline=None, width=None) -> None:
        self.shapes.append(("poly", self.to_canvas(x, y, rotate), _colours(fill, self.n), mask,
                            None if outline is None else _colours(outline, self.n), width))

    def line(self, x, y, fill, width, *, mask=None, rotate=True) -> None:
        self.shapes.append(("line", self.to_canvas(x, y, rotate), _colours(fill, self.n), mask, None, width))

    def draw(self, i: int, background: tuple) -> Image.Image:
        img = Image.new("RGB", (self.side, self.side), background)
        d = ImageDraw.Draw(img, "RGBA")
        for kind, pts, fill, mask, outline, width in self.shapes:
            if mask is not None and not mask[i]:
                continue
            w = 1 if width is None else int(width[i])
            if kind == "poly":
                if outline is None:
                    d.polygon(pts[i], fill=fill[i])
                else:
                    d.polygon(pts[i], fill=fill[i], outline=outline[i], width=w)
            else:
                d.line(pts[i], fill=fill[i], width=w, joint="curve")
        return img


def _colours(c: np.ndarray, n: int) -> list:
    c = np.clip(np.rint(np.broadcast_to(np.asarray(c, np.float32), (n, np.shape(c)[-1]))), 0, 255).astype(np.int64)
    return [tuple(row) for row in c.tolist()]


_T32 = np.linspace(0.0, 2.0 * np.pi, 32, endpoint=False)


def _ellipse(cx, cy, rx, ry, t=_T32):
    """(n, P) x and y of ellipses; every argument is a scalar or an (n,) array."""
    col = lambda v: np.asarray(v, np.float32).reshape(-1, 1)  # noqa: E731
    return col(cx) + col(rx) * np.cos(t), col(cy) + col(ry) * np.sin(t)


def _pick(rng: np.random.Generator, table: np.ndarray, n: int, p=None, jitter: float = 12.0) -> np.ndarray:
    idx = rng.choice(len(table), size=n, p=p)
    return table[idx] + rng.normal(0.0, jitter, size=(n, 3)).astype(np.float32)


def _resample_where(colour: np.ndarray, bad, redraw) -> np.ndarray:
    """Re-draw colours for which ``bad(colour)`` holds: measure_attributes tells skin and lips from everything else
    by colour, so nuisance colours must stay clear of them."""
    for _ in range(100):
        mask = bad(colour)
        if not mask.any():
            break
        colour[mask] = redraw(int(mask.sum()))
    return colour


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.asarray(a, np.float32) - b, axis=-1)


def _redness(rgb: np.ndarray) -> np.ndarray:
    """(r - g) / r: lips and mouth are ~0.7-0.8, every skin tone <= 0.4, whatever its brightness."""
    rgb = np.asarray(rgb, np.float32)
    return (rgb[..., 0] - rgb[..., 1]) / np.maximum(rgb[..., 0], 1.0)


def _skin(tone: np.ndarray) -> np.ndarray:
    t = tone[:, None]
    lo = _SKIN_MID + (_SKIN_DARK - _SKIN_MID) * np.clip(-t, 0, 1)
    hi = _SKIN_MID + (_SKIN_LIGHT - _SKIN_MID) * np.clip(t, 0, 1)
    return np.where(t < 0, lo, hi)


def _nuisance(attrs: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-face factors the attributes do not control, drawn for the whole set at once (so a face does not depend
    on how rendering is chunked) and in a fixed order (so faces stay comparable across attribute edits)."""
    n = len(attrs)
    u = lambda lo, hi: rng.uniform(lo, hi, size=n).astype(np.float32)  # noqa: E731
    skin = _skin(attrs[:, _IDX["skin_tone"]]) + rng.normal(0, 5, size=(n, 3)).astype(np.float32)
    hair = _resample_where(_pick(rng, _HAIR, n, p=_HAIR_P), lambda c: _dist(c, skin) < 55.0,
                           lambda k: _pick(rng, _HAIR, k, p=_HAIR_P))
    bg = _resample_where(
        rng.uniform(30, 235, size=(n, 3)).astype(np.float32),
        lambda c: (_dist(c, skin) < 90.0) | (_dist(c, hair) < 50.0) | (_redness(c) > 0.3),
        lambda k: rng.uniform(30, 235, size=(k, 3)),
    )
    frame = _pick(rng, _FRAMES, n, jitter=6.0)
    contrast = np.where((skin.mean(1) > 120)[:, None], np.float32([20, 20, 24]), np.float32([225, 225, 235]))
    frame = np.where((np.linalg.norm(frame - skin, axis=1) < 100)[:, None], contrast, frame)
    return dict(
        skin=skin, hair=hair, bg=bg, frame=frame,
        clothes=rng.uniform(20, 235, size=(n, 3)).astype(np.float32),
        iris=_pick(rng, _IRIS, n, jitter=8.0),
        lens_alpha=u(60, 120), hairline=u(-0.62, -0.42), parting=u(-0.5, 0.5), hair_volume=u(0.05, 0.20),
        brow_thick=u(0.045, 0.075), brow_slant=u(-0.06, 0.06), mouth_w=u(0.36, 0.44),
        lens_round=rng.random(n) < 0.5, chin=u(0.10, 0.22),
    )


def _build(attrs: np.ndarray, nz: dict[str, np.ndarray], side: int) -> tuple[_Batch, list]:
    """All shapes of a batch: named factors come only from ``attrs``, everything else from ``nz``."""
    n = len(attrs)
    a = {name: attrs[:, i].astype(np.float32) for name, i in _IDX.items()}
    skin, hair, bg, frame, clothes, iris = nz["skin"], nz["hair"], nz["bg"], nz["frame"], nz["clothes"], nz["iris"]
    lens_alpha, hairline, parting, hair_volume = nz["lens_alpha"], nz["hairline"], nz["parting"], nz["hair_volume"]
    brow_thick, brow_slant, mouth_w, lens_round, chin = (
        nz["brow_thick"], nz["brow_slant"], nz["mouth_w"], nz["lens_round"], nz["chin"])

    tilt = np.deg2rad(a["head_tilt"] * MAX_TILT_DEG)
    b = _Batch(n, side, tilt)
    col = lambda v: np.asarray(v, np.float32).reshape(-1, 1)  # noqa: E731
    width = 0.66 + 0.14 * (a["face_width"] + 1.0)  # half-width of the face in units of its half-height
    px = lambda rel: np.maximum(1, np.rint(rel * b.scale)).astype(np.int64)  # noqa: E731

    # Hair behind the head: a cap, extended down the sides by hair_length (ear level .. past the shoulders).
    hair_end = -0.30 + 1.00 * (a["hair_length"] + 1.0)
    t = np.linspace(np.pi, 2 * np.pi, 20)
    hx = col(width + 0.12 + hair_volume) * np.cos(t)
    hy = -0.25 + col(0.85 + hair_volume) * np.sin(t)
    flare = col(width + 0.14 + hair_volume + 0.12 * np.clip(a["hair_length"], 0, 1))
    hx = np.concatenate([hx, flare, -flare], axis=1)
    hy = np.concatenate([hy, col(hair_end), col(hair_end)], axis=1)
    b.polygon(hx, hy, hair)

    # Neck turns with the head; shoulders do not, and cover the bottom of the neck.
    nx = np.stack([-0.26 * width, 0.26 * width, 0.30 * width, -0.30 * width], axis=1)
    ny = np.broadcast_to(np.float32([0.5, 0.5, 1.6, 1.6]), (n, 4))
    b.polygon(nx, ny, skin * 0.86)
    sx, sy = _ellipse(0.0, 1.78, 1.25, 0.55)
    b.polygon(sx, sy, clothes, rotate=False)

    for sgn in (-1.0, 1.0):
        ex, ey = _ellipse(sgn * (width + 0.02), -0.02, 0.10, 0.17, t=_T32[::2])
        b.polygon(ex, ey, skin * 0.9, mask=hair_end < 0.0)

    # Face: an egg (narrower below the middle, by the nuisance "chin" amount).
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    fx = col(width) * np.cos(t) * (1.0 - col(chin) * np.clip(np.sin(t), 0, 1) ** 2)
    fy = np.broadcast_to(np.sin(t), (n, len(t)))
    b.polygon(fx, fy, skin)

    # Fringe: the face's top above a hairline, with a parting-dependent dip.
    t = np.linspace(np.pi, 2 * np.pi, 16)
    top_x = col(width * 1.04) * np.cos(t)
    top_y = np.minimum(1.04 * np.sin(t), col(hairline))
    lx = np.linspace(1.0, -1.0, 9)
    line_x = col(width) * lx
    line_y = col(hairline) + 0.10 * np.exp(-((lx - col(parting)) ** 2) / 0.08) - 0.08 * np.abs(lx) ** 3
    b.polygon(np.concatenate([top_x, line_x], 1), np.concatenate([np.broadcast_to(top_y, top_x.shape), line_y], 1),
              hair)

    # Eyes, brows.
    eye_r = 0.085 + 0.045 * (a["eye_size"] + 1.0)
    eye_dx = 0.24 + 0.15 * width  # spacing grows less than the face, so brows never meet in the middle
    eye_y = -0.14
    brow_y = eye_y - 0.12 - 0.7 * eye_r
    for sgn in (-1.0, 1.0):
        cx = sgn * eye_dx
        x, y = _ellipse(cx, eye_y, eye_r, 0.68 * eye_r, t=_T32[::2])
        b.polygon(x, y, np.float32([250, 250, 250]))
        x, y = _ellipse(cx, eye_y + 0.05 * eye_r, 0.55 * eye_r, 0.55 * eye_r, t=_T32[::2])
        b.polygon(x, y, iris)
        x, y = _ellipse(cx, eye_y + 0.05 * eye_r, 0.27 * eye_r, 0.27 * eye_r, t=_T32[::4])
        b.polygon(x, y, np.float32([12, 10, 10]))
        bx = np.stack([cx - sgn * 0.8 * eye_r, cx, cx + sgn * 1.2 * eye_r], 1)
        by = np.stack([brow_y + sgn * brow_slant, brow_y - 0.03, brow_y + 0.02 - sgn * brow_slant], 1)
        b.line(bx, by, hair * 0.7, px(brow_thick))

    # Nose: shadow line plus a darker tip.
    b.line(np.stack([np.full(n, 0.02), np.full(n, 0.06), np.full(n, -0.02)], 1).astype(np.float32),
           np.broadcast_to(np.float32([0.0, 0.20, 0.24]), (n, 3)), skin * 0.78, px(np.full(n, 0.035)))
    x, y = _ellipse(0.0, 0.24, 0.09, 0.045, t=_T32[::2])
    b.polygon(x, y, skin * 0.85)

    # Mouth: a lens around the centre curve y = c(x); smile bends it, mouth_open thickens it symmetrically, so
    # the per-column centroid of the mouth follows c(x) whatever the openness (measure_attributes uses that).
    half_w = mouth_w * width
    s = np.linspace(-1.0, 1.0, 13)
    mx = col(half_w) * s
    centre = 0.48 + col(a["smile"] * 0.26) * (0.5 - s**2)
    lip = 0.045
    open_h = col(0.30 * (a["mouth_open"] + 1.0) / 2.0)
    thick = lip + (open_h + 0.02) * (1.0 - s**2)
    b.polygon(np.concatenate([mx, mx[:, ::-1]], 1),
              np.concatenate([centre - thick / 2, (centre + thick / 2)[:, ::-1]], 1), _LIPS)
    inner = np.clip(open_h * (1.0 - s**2) - 0.03, 0.0, None)
    b.polygon(np.concatenate([mx[:, 1:-1], mx[:, -2:0:-1]], 1),
              np.concatenate([(centre - inner / 2)[:, 1:-1], (centre + inner / 2)[:, -2:0:-1]], 1),
              _MOUTH_INSIDE, mask=a["mouth_open"] > -0.75)

    # Glasses: tinted lenses with thick frames, a bridge and temples reaching the face edge.
    has = a["glasses"] > 0
    lens_rx = np.maximum(0.23 * width / 0.8, eye_r + 0.06)
    lens_ry = 0.20
    fw = px(np.full(n, 0.055))
    tint = np.concatenate([frame * 0.6, lens_alpha[:, None]], 1)
    sq = np.where(lens_round[:, None], 1.0, 0.55)  # round lenses are ellipses, the others squashed superellipses
    ct, st = np.cos(_T32[::2]), np.sin(_T32[::2])
    for sgn in (-1.0, 1.0):
        cx = sgn * eye_dx
        x = col(cx) + col(lens_rx) * np.sign(ct) * np.abs(ct) ** sq
        y = eye_y + lens_ry * np.sign(st) * np.abs(st) ** sq
        b.polygon(x, y, tint, mask=has, outline=np.concatenate([frame, np.full((n, 1), 255)], 1), width=fw)
        b.line(np.stack([sgn * (eye_dx + lens_rx), sgn * (width + 0.02)], 1),
               np.broadcast_to(np.float32([eye_y - 0.06, eye_y - 0.08]), (n, 2)), frame, fw, mask=has)
    b.line(np.stack([-(eye_dx - lens_rx), eye_dx - lens_rx], 1),
           np.broadcast_to(np.float32([eye_y - 0.05, eye_y - 0.05]), (n, 2)), frame, fw, mask=has)
    backgrounds = _colours(bg, n)
    return b, backgrounds


def iter_render(attrs: np.ndarray, resolution: int, seed: int, *, chunk: int = _CHUNK):
    """Yield ``(start, images)`` chunks of :func:`render_faces`' result, so callers can report progress and stop
    early; the faces are identical to rendering everything at once."""
    attrs = np.asarray(attrs, np.float32)
    if attrs.ndim != 2 or attrs.shape[1] != len(BUILTIN_ATTRIBUTES):
        raise ValueError(f"attrs must be (n, {len(BUILTIN_ATTRIBUTES)}), got {attrs.shape}")
    if resolution < 8:
        raise ValueError(f"resolution must be at least 8, not {resolution}")
    n = len(attrs)
    attrs = np.clip(attrs, -1.0, 1.0)
    factor = _supersample(resolution)
    side = resolution * factor
    nz = _nuisance(attrs, np.random.default_rng([int(seed), 0xFACE]))  # for all faces: chunking must not matter
    for start in range(0, n, chunk):  # geometry as Python lists is bulky; build it a chunk at a time
        sl = slice(start, min(n, start + chunk))
        batch, backgrounds = _build(attrs[sl], {k: v[sl] for k, v in nz.items()}, side)
        out = np.empty((sl.stop - start, resolution, resolution, 3), np.uint8)
        for j in range(len(out)):
            out[j] = np.asarray(batch.draw(j, backgrounds[j]).reduce(factor))
        yield start, out


def render_faces(attrs: np.ndarray, resolution: int, seed: int) -> np.ndarray:
    """Faces for the given attribute rows; ``seed`` fixes everything the attributes do not (colours, hairline...).

    Deterministic for a given (attrs, resolution, seed); the same face at another resolution is the same drawing.
    """
    attrs = np.asarray(attrs, np.float32)
    out = np.empty((len(attrs), resolution, resolution, 3), np.uint8)
    for start, images in iter_render(attrs, resolution, seed):
        out[start:start + len(images)] = images
    return out


def make_builtin(n: int, resolution: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The ``builtin:faces`` dataset: (images uint8 (n,res,res,3), attributes float32 (n,A), attribute names)."""
    attrs = sample_attributes(n, seed)
    return render_faces(attrs, resolution, seed), attrs, list(BUILTIN_ATTRIBUTES)


# --------------------------------------------------------------------------------------------------------------
# Reading attributes back from pixels


def _box(images: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> tuple[np.ndarray, int, int]:
    """Pixels of a face-unit box (before tilt), as float32; also the box's top-left pixel (col, row)."""
    h, w = images.shape[1:3]
    c0, c1 = int(round((_CX + _R * x0) * w)), int(round((_CX + _R * x1) * w))
    r0, r1 = int(round((_CY + _R * y0) * h)), int(round((_CY + _R * y1) * h))
    c0, r0 = max(c0, 0), max(r0, 0)
    return images[:, r0:max(r1, r0 + 1), c0:max(c1, c0 + 1)].astype(np.float32), c0, r0


def _distance(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Per-pixel RGB distance of (n, h, w, 3) pixels from one (n, 3) colour per image."""
    return np.linalg.norm(pixels - colour[:, None, None, :], axis=-1)


def _mouth(images: np.ndarray) -> dict[str, np.ndarray]:
    """Smile, openness and tilt from the mouth, found by its red-vs-green ratio (no skin tone comes close).

    The renderer thickens the mouth symmetrically about its centre curve, so the per-column centroid traces the
    curve whatever the openness: its quadratic coefficient is the smile. The thickest columns give the openness,
    and the mouth's horizontal offset (the head turns about the face centre) gives the tilt.
    """
    n, h, w = images.shape[:3]
    box, c0, _ = _box(images, -0.62, 0.62, 0.15, 0.85)
    m = np.clip((_redness(box) - 0.48) / 0.15, 0.0, 1.0)  # (n, rows, cols) soft mouth mask
    scale = _R * h
    mass = m.sum(axis=1)  # (n, cols)
    rows = np.arange(m.shape[1], dtype=np.float32)[None, :, None]
    centroid = (m * rows).sum(axis=1) / np.maximum(mass, 1e-6) / scale
    weight = np.clip(mass - 0.3, 0.0, None)
    total = weight.sum(axis=1)
    found = total >= 1.0
    cols = np.arange(m.shape[2], dtype=np.float32)[None, :]
    x_mean = (cols * weight).sum(axis=1) / np.maximum(total, 1e-6)
    x = (cols - x_mean[:, None]) / scale
    basis = np.stack([np.ones_like(x), x, x * x], axis=-1)  # (n, cols, 3): weighted least squares, all at once
    lhs = np.einsum("nc,nci,ncj->nij", weight, basis, basis) + 1e-6 * np.eye(3, dtype=np.float32)
    rhs = np.einsum("nc,nci,nc->ni", weight, basis, centroid)
    coef = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    offset = ((x_mean + c0) / w - _CX) / _R  # mouth centre relative to the face centre, face units
    nan = np.float32(np.nan)
    return {
        "smile": np.where(found, -coef[:, 2], nan).astype(np.float32),
        "mouth_open": (np.sort(mass, axis=1)[:, -3:].mean(axis=1) / scale).astype(np.float32),
        "head_tilt": np.where(found, np.degrees(np.arcsin(np.clip(-offset / 0.48, -1, 1))) / MAX_TILT_DEG,
                              nan).astype(np.float32),
    }


def measure_attributes(images: np.ndarray) -> dict[str, np.ndarray]:
    """Estimate attributes of (n, H, W, 3) uint8 faces from pixel statistics, for checking generated images.

    Each estimate is monotone in its attribute but not on the same scale (only ranks are meant to be compared):
    ``skin_tone`` (skin luminance), ``face_width`` (skin run at cheek height), ``smile`` (mouth curvature),
    ``mouth_open`` (mouth thickness), ``head_tilt`` (mouth offset, in units of the maximum tilt), ``hair_length``
    (hair beside the face) and ``glasses`` (frame bridge between the eyes; > 0 means glasses). It relies on where
    the renderer puts things, so it only means something for built-in faces or a model trained on them. Smile and
    tilt are NaN when no mouth is found.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (n, H, W, 3), got {images.shape}")
    n, h, w = images.shape[:3]
    cheeks, _, _ = _box(images, -0.45, 0.45, 0.08, 0.32)
    skin = np.median(cheeks.reshape(n, -1, 3), axis=1)
    out = {"skin_tone": (skin @ np.float32([0.299, 0.587, 0.114]) / 255.0).astype(np.float32)}

    rows, _, _ = _box(images, -1.2, 1.2, 0.14, 0.30)
    skin_like = np.clip(1.0 - (_distance(rows, skin) - 22.0) / 16.0, 0.0, 1.0)
    out["face_width"] = (skin_like.sum(axis=2).mean(axis=1) / (2 * _R * w)).astype(np.float32)

    out.update(_mouth(images))

    k = max(2, h // 10)
    corners = np.concatenate([images[:, :k, :k], images[:, :k, -k:]], axis=1).reshape(n, -1, 3)
    background = np.median(corners.astype(np.float32), axis=1)
    sides = []
    for x0, x1 in ((-1.35, -0.75), (0.75, 1.35)):
        side, _, _ = _box(images, x0, x1, -0.4, 1.15)
        hairy = (_distance(side, background) > 30) & (_distance(side, skin) > 30)
        sides.append(hairy.reshape(n, -1).mean(axis=1))
    out["hair_length"] = np.mean(sides, axis=0).astype(np.float32)

    bridge, _, _ = _box(images, -0.07, 0.07, -0.27, -0.11)
    contrast = _distance(bridge, skin).reshape(n, -1).mean(axis=1)
    out["glasses"] = np.clip((contrast - 9.0) / 6.0, -1.0, 1.0).astype(np.float32)
    return out
