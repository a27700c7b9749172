"""The built-in faces are the default dataset and the ground truth for model tests, so their contract is tested
directly: shapes, determinism, attribute ranges, and that the pixel estimators really recover the attributes."""
from __future__ import annotations

import numpy as np
import pytest

from faceforge.data.synthetic import (
    BUILTIN_ATTRIBUTES,
    iter_render,
    make_builtin,
    measure_attributes,
    render_faces,
    sample_attributes,
)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation with averaged ranks for ties (glasses is binary)."""

    def ranks(x):
        x = np.asarray(x, np.float64)
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        _, inv = np.unique(x, return_inverse=True)
        return (np.bincount(inv, r) / np.bincount(inv))[inv]

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


@pytest.fixture(scope="module")
def faces64():
    return make_builtin(500, 64, 123)


def test_attribute_names_fixed():
    assert BUILTIN_ATTRIBUTES == ["smile", "mouth_open", "eye_size", "face_width", "skin_tone", "hair_length",
                                  "glasses", "head_tilt"]


def test_sample_attributes_ranges():
    a = sample_attributes(4000, seed=3)
    assert a.shape == (4000, len(BUILTIN_ATTRIBUTES)) and a.dtype == np.float32
    assert a.min() >= -1 and a.max() <= 1
    g = a[:, BUILTIN_ATTRIBUTES.index("glasses")]
    assert set(np.unique(g).tolist()) == {-1.0, 1.0}
    assert 0.26 < (g > 0).mean() < 0.34
    for j, name in enumerate(BUILTIN_ATTRIBUTES):
        if name != "glasses":
            col = a[:, j]
            assert col.min() < -0.9 and col.max() > 0.9, name  # spread over the whole slider
            assert 0.4 < (col > 0).mean() < 0.6, name
    np.testing.assert_array_equal(a, sample_attributes(4000, seed=3))
    assert not np.array_equal(a, sample_attributes(4000, seed=4))


@pytest.mark.parametrize("res", [32, 64, 128])
def test_render_shapes_and_determinism(res):
    a = sample_attributes(6, seed=1)
    x = render_faces(a, res, seed=1)
    assert x.shape == (6, res, res, 3) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, render_faces(a, res, seed=1))
    assert not np.array_equal(x, render_faces(a, res, seed=2))  # nuisance factors follow the seed
    assert x.std() > 30  # not blank


def test_chunking_does_not_change_faces():
    a = sample_attributes(10, seed=5)
    whole = render_faces(a, 32, seed=5)
    chunked = np.concatenate([imgs for _, imgs in iter_render(a, 32, 5, chunk=3)])
    np.testing.assert_array_equal(whole, chunked)


def test_attributes_drive_the_named_factors_only():
    a = sample_attributes(4, seed=9)
    b = a.copy()
    b[:, BUILTIN_ATTRIBUTES.index("smile")] = -a[:, BUILTIN_ATTRIBUTES.index("smile")]
    x, y = render_faces(a, 64, seed=9), render_faces(b, 64, seed=9)
    diff = np.abs(x.astype(int) - y.astype(int)).sum(-1) > 0
    rows = np.flatnonzero(diff.any(axis=(0, 2)))
    assert len(rows) and rows.min() >= 64 * 0.47 and rows.max() < 64 * 0.75  # only the mouth region changed


def test_make_builtin_matches_render():
    imgs, attrs, names = make_builtin(5, 32, seed=7)
    assert names == BUILTIN_ATTRIBUTES
    np.testing.assert_array_equal(attrs, sample_attributes(5, 7))
    np.testing.assert_array_equal(imgs, render_faces(attrs, 32, 7))


def test_bad_arguments():
    with pytest.raises(ValueError):
        render_faces(np.zeros((2, 3), np.float32), 32, 0)
    with pytest.raises(ValueError):
        render_faces(sample_attributes(1, 0), 4, 0)


@pytest.mark.parametrize("name", ["smile", "mouth_open", "skin_tone", "face_width", "hair_length", "head_tilt"])
def test_measure_recovers_continuous_attributes(faces64, name):
    imgs, attrs, names = faces64
    est = measure_attributes(imgs)[name]
    assert spearman(attrs[:, names.index(name)], est) > 0.7


def test_measure_recovers_glasses(faces64):
    imgs, attrs, names = faces64
    truth = attrs[:, names.index("glasses")] > 0
    est = measure_attributes(imgs)["glasses"]
    assert ((est > 0) == truth).mean() > 0.95
    assert spearman(truth, est) > 0.7


def test_measure_works_at_32px():
    imgs, attrs, names = make_builtin(300, 32, seed=77)
    est = measure_attributes(imgs)
    for name in ("smile", "mouth_open", "skin_tone", "face_width"):
        assert spearman(attrs[:, names.index(name)], est[name]) > 0.7, name
    assert ((est["glasses"] > 0) == (attrs[:, names.index("glasses")] > 0)).mean() > 0.95


def test_measure_follows_a_single_attribute_sweep():
    """What a slider test will do later: change one attribute of fixed faces and watch the estimate move."""
    base = np.repeat(sample_attributes(1, seed=4), 9, axis=0)
    j = BUILTIN_ATTRIBUTES.index("smile")
    base[:, j] = np.linspace(-1, 1, 9)
    est = measure_attributes(render_faces(base, 64, seed=4))["smile"]
    assert spearman(base[:, j], est) > 0.9


def test_measure_on_non_faces_does_not_crash():
    est = measure_attributes(np.zeros((3, 32, 32, 3), np.uint8))
    assert set(est) >= {"smile", "glasses", "skin_tone", "face_width"}
    assert np.isnan(est["smile"]).all()
