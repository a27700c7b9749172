"""Face alignment: one face found and levelled, clear errors for no face, several faces and a missing OpenCV.

``tests/data/editing_astronaut.jpg`` is scikit-image's ``astronaut`` test image (NASA portrait of Eileen Collins,
public domain), stored as a 512x512 JPEG so the tests do not need scikit-image.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceforge.editing import align
from faceforge.editing.align import AlignmentError, align_face, crop_box, eye_angle, find_eyes
from faceforge.editing.templates import builtin_template, celeba_template, template_for_data

ASTRONAUT = Path(__file__).parent / "data" / "editing_astronaut.jpg"
try:
    import cv2  # noqa: F401

    HAVE_CV2 = True
except ImportError:  # the optional extra is not installed: only the detector-free tests run
    HAVE_CV2 = False
needs_cv2 = pytest.mark.skipif(not HAVE_CV2, reason='needs the optional "opencv-python-headless<5"')


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def _rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    """Turn counter-clockwise about the centre, edges replicated (no black corners for the detector to see)."""
    import cv2

    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _level_after(aligned: np.ndarray) -> float:
    """Roll of the eye line measured again on the aligned face (upscaled so the eye detector sees enough)."""
    big = np.asarray(Image.fromarray(aligned).resize((256, 256), Image.BICUBIC))
    eyes = find_eyes(big)
    assert eyes is not None, "no eyes found in the aligned face"
    return eye_angle(eyes)


@needs_cv2
def test_astronaut_one_face_eyes_level_and_framed_like_celeba(astronaut):
    r = align_face(astronaut, resolution=128)
    assert r.aligned.shape == (128, 128, 3) and r.aligned.dtype == np.uint8
    assert len(r.faces) == 1 and r.box == r.faces[0]
    l, t, rr, b = r.box
    assert 150 < l < 200 and 50 < t < 90 and 80 < rr - l < 110  # her face, not the flag or the shuttle
    (lx, ly), (rx, ry) = r.eyes
    assert l < lx < rx < rr and t < ly < b and t < ry < b
    assert abs(_level_after(r.aligned)) < 3.0
    assert "face at" in r.message


@needs_cv2
@pytest.mark.parametrize("degrees", [15.0, -20.0])
def test_a_tilted_head_is_levelled(astronaut, degrees):
    base = align_face(astronaut, resolution=128).angle
    r = align_face(_rotate(astronaut, degrees), resolution=128)
    # turning the photo counter-clockwise raises the image-right eye: the measured roll drops by that angle
    assert abs((base - r.angle) - degrees) < 3.0, (base, r.angle)
    assert abs(_level_after(r.aligned)) < 3.0


@needs_cv2
def test_eyes_land_on_the_template(astronaut):
    res = 128
    r = align_face(astronaut, resolution=res, template="celeba")
    big = np.asarray(Image.fromarray(r.aligned).resize((256, 256), Image.BICUBIC))
    (lx, ly), (rx, ry) = find_eyes(big)
    tpl = celeba_template()
    assert abs(lx / 256 - tpl.left_eye[0]) < 0.03 and abs(ly / 256 - tpl.left_eye[1]) < 0.03
    assert abs(rx / 256 - tpl.right_eye[0]) < 0.03 and abs(ry / 256 - tpl.right_eye[1]) < 0.03


@needs_cv2
@pytest.mark.parametrize("kind", ["flat", "noise"])
def test_no_face_says_so(kind):
    rng = np.random.default_rng(0)
    img = np.full((240, 320, 3), 128, np.uint8) if kind == "flat" else rng.integers(0, 256, (240, 320, 3), np.uint8)
    with pytest.raises(AlignmentError) as info:
        align_face(img, resolution=64)
    assert info.value.reason == "no-face"
    assert "no face found" in str(info.value) and "crop" in str(info.value)


@needs_cv2
def test_two_faces_are_listed_and_one_can_be_chosen(astronaut):
    two = np.concatenate([astronaut, astronaut], axis=1)
    with pytest.raises(AlignmentError) as info:
        align_face(two, resolution=64)
    err = info.value
    assert err.reason == "several-faces" and isinstance(err, ValueError)
    assert len(err.faces) == 2 and err.faces[0][0] < 512 <= err.faces[1][0]
    assert "2 faces found" in str(err) and "crop" in str(err)
    right = align_face(two, resolution=64, face=1)
    assert right.box == err.faces[1]
    # the same face, cropped from either copy, gives the same picture
    left = align_face(two, resolution=64, face=0)
    assert np.abs(left.aligned.astype(int) - right.aligned).mean() < 2.0


@needs_cv2
def test_a_much_smaller_background_face_is_ignored(astronaut):
    small = np.asarray(Image.fromarray(astronaut).resize((170, 170), Image.BICUBIC))
    canvas = np.full((512, 512 + 170, 3), 200, np.uint8)
    canvas[:, :512], canvas[:170, 512:] = astronaut, small
    r = align_face(canvas, resolution=64)
    assert len(r.faces) == 2 and r.box == r.faces[0]
    assert "Ignored 1 much smaller face" in r.message
    assert align_face(canvas, resolution=64, face=1).box == r.faces[1]  # still selectable on purpose


def test_missing_opencv_explains_install_and_manual_crop(monkeypatch, astronaut):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError
    monkeypatch.setattr(align, "_CASCADES", {})
    with pytest.raises(AlignmentError) as info:
        align_face(astronaut, resolution=64)
    msg = str(info.value)
    assert info.value.reason == "missing-library"
    assert 'pip install "opencv-python-headless<5"' in msg and "--crop" in msg
    # and the manual crop still works without OpenCV
    assert crop_box(astronaut, (150, 50, 300, 200), 64).shape == (64, 64, 3)


def test_manual_crop_matches_the_training_pipeline(astronaut):
    from faceforge.data.images import crop_and_resize

    box = (140, 40, 310, 230)  # not square: both take its centred square
    ours = crop_box(astronaut, box, 64)
    theirs = crop_and_resize(Image.fromarray(astronaut), 64, box)
    assert np.array_equal(ours, theirs)
    with pytest.raises(ValueError):
        crop_box(astronaut, (600, 600, 700, 700), 64)


def test_templates_match_the_data_framing():
    # CelebA's alignment puts the eyes at (70.7, 112) and (108.2, 112) of 178x218; the pipeline's centred square
    # of the whole frame starts at y = 20
    tpl = celeba_template()
    assert tpl.left_eye == pytest.approx((70.745 / 178, 92 / 178))
    assert tpl.right_eye == pytest.approx((108.237 / 178, 92 / 178))
    # a crop box in the halved celeba-10k images (89x109) is the same framing as the doubled box in the originals
    half = celeba_template((12, 25, 76, 89), source_size=(89, 109))
    full = celeba_template((24, 50, 152, 178))
    assert half.left_eye == pytest.approx(full.left_eye) and half.right_eye == pytest.approx(full.right_eye)

    from faceforge.config import DataConfig
    from faceforge.data import synthetic

    b = template_for_data(DataConfig(source="builtin:faces"))
    assert b == builtin_template()
    # the renderer's eye centres for an average face (face_width 0 -> width 0.8), no tilt
    eye_dx = 0.24 + 0.15 * 0.80
    assert b.left_eye[0] == pytest.approx(synthetic._CX - synthetic._R * eye_dx)
    assert b.left_eye[1] == pytest.approx(synthetic._CY + synthetic._R * -0.14)
    assert math.isclose(b.eye_distance, 2 * synthetic._R * eye_dx)


def test_builtin_template_finds_the_rendered_eyes():
    """Render an average built-in face large and locate its eye whites: they sit on the builtin template."""
    from faceforge.data.synthetic import BUILTIN_ATTRIBUTES, render_faces

    attrs = np.zeros((1, len(BUILTIN_ATTRIBUTES)), np.float32)
    attrs[0, BUILTIN_ATTRIBUTES.index("glasses")] = -1.0
    img = render_faces(attrs, 256, seed=0)[0].astype(int)
    white = (img.min(axis=2) > 235)
    white[:, :] &= np.arange(256)[:, None] < 128  # eye whites are in the upper half (ignore light backgrounds)
    ys, xs = np.nonzero(white[:, :128])
    ys2, xs2 = np.nonzero(white[:, 128:])
    tpl = builtin_template()
    # background can be light too: take the white pixels near the expected places
    for (ex, ey), (px, py) in ((tpl.left_eye, (xs, ys)), (tpl.right_eye, (xs2 + 128, ys2))):
        near = (np.abs(px - ex * 256) < 20) & (np.abs(py - ey * 256) < 20)
        assert near.sum() > 30
        assert abs(px[near].mean() / 256 - ex) < 0.01 and abs(py[near].mean() / 256 - ey) < 0.015
