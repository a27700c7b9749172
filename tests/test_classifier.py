"""FaceForge's attribute classifier: heads that learn planted signals, scores in the column's units, safe and exact
save/load, cancel without leftovers, an early ETA, and the built-in faces' continuous attributes."""
import time

import numpy as np
import pytest
import torch

from faceforge.checkpoints import CheckpointError
from faceforge.config import TrainConfig
from faceforge.data import make_builtin
from faceforge.models.classifier import (META_NAME, WEIGHTS_NAME, classifier_dir, infer_kinds, load_classifier)
from faceforge.runs import Run
from faceforge.tasks import Cancelled
from faceforge.training.classifier import split_rows, train_classifier, train_for_run

FAST = dict(channels=8, precision="fp32", channels_last=False)  # tiny net, no timing probes


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Nets this small gain nothing from a second thread, and on a busy machine two threads waiting for each
    other made a step 30x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def planted(n=240, res=32, seed=0):
    """Noise faces with two planted signals: a bright left half means +1 (binary column), and the right half's
    brightness is linear in a continuous column with mean 50 and std 15."""
    rng = np.random.default_rng(seed)
    images = rng.integers(40, 120, (n, res, res, 3)).astype(np.float32)
    positive = rng.random(n) < 0.5
    images[positive, :, : res // 2] += 90
    value = rng.normal(50.0, 15.0, n)
    images[:, :, res // 2:] += ((value - 50.0) / 15.0 * 30.0)[:, None, None, None]
    labels = np.stack([np.where(positive, 1.0, -1.0), value], 1).astype(np.float32)
    return np.clip(images, 0, 255).astype(np.uint8), labels


@pytest.fixture(scope="module")
def trained():
    images, labels = planted()
    clf, metrics = train_classifier(images, labels, names=["left_bright", "right_level"], seed=1, steps=40,
                                    batch_size=32, holdout=0.25, **FAST)
    return images, labels, clf, metrics


def test_binary_head_learns_a_planted_signal(trained):
    images, labels, clf, metrics = trained
    assert clf.kinds == ["binary", "continuous"]
    _, held = split_rows(len(images), 0.25, 1)
    p = clf.score(images[held])[:, 0]
    assert ((p > 0.5) == (labels[held, 0] > 0)).mean() > 0.9
    assert ((p >= 0) & (p <= 1)).all()  # a probability, not a logit
    assert metrics["attributes"]["left_bright"]["accuracy"] > 0.9
    assert metrics["attributes"]["left_bright"]["balanced_accuracy"] > 0.9


def test_continuous_head_predicts_in_the_columns_units(trained):
    images, labels, clf, metrics = trained
    _, held = split_rows(len(images), 0.25, 1)
    pred = clf.score(images[held])[:, 1]
    mae = np.abs(pred - labels[held, 1]).mean()
    assert mae < 0.5 * 15.0, mae
    assert abs(pred.mean() - 50.0) < 5.0
    assert metrics["attributes"]["right_level"]["mae"] == pytest.approx(mae, rel=1e-5)
    assert clf.spec.mean[1] == pytest.approx(50.0, abs=3.0) and clf.spec.std[1] == pytest.approx(15.0, abs=3.0)


def test_generator_output_scores_like_the_uint8_faces(trained):
    images, _, clf, _ = trained
    as_tensor = torch.from_numpy(images[:8]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    np.testing.assert_allclose(clf.score(as_tensor), clf.score(images[:8]), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="32x32"):
        clf.score(np.zeros((2, 64, 64, 3), np.uint8))


def test_save_load_round_trips_bit_identically(trained, tmp_path):
    images, _, clf, metrics = trained
    clf.save(tmp_path, metadata={**clf.info, "data": {"source": "planted"}})
    back = load_classifier(tmp_path)
    a, b = clf.net.state_dict(), back.net.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert np.array_equal(back.score(images[:16]), clf.score(images[:16]))
    assert back.spec == clf.spec
    assert back.info["metrics"]["attributes"] == metrics["attributes"] and back.info["data"]["source"] == "planted"
    (tmp_path / WEIGHTS_NAME).write_bytes((tmp_path / WEIGHTS_NAME).read_bytes())  # same bytes: still described
    assert load_classifier(tmp_path / WEIGHTS_NAME).info["seed"] == 1


def test_json_of_other_weights_is_not_taken_for_these(trained, tmp_path):
    _, _, clf, _ = trained
    clf.save(tmp_path, metadata=clf.info)
    meta = (tmp_path / META_NAME).read_text()
    clf.net.head[-1].bias.data += 1.0
    try:
        clf.save(tmp_path, metadata=clf.info)
    finally:
        clf.net.head[-1].bias.data -= 1.0
    (tmp_path / META_NAME).write_text(meta)  # as if a crash came between writing the weights and the JSON
    assert load_classifier(tmp_path).info == {}


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / "code-ran"
    torch.save({"format": "faceforge-checkpoint", "format_version": 1, "kind": "faceforge-classifier",
                "spec": _RunsCode(marker)}, tmp_path / WEIGHTS_NAME)
    with pytest.raises(CheckpointError, match="refused"):
        load_classifier(tmp_path)
    assert not marker.exists()


def _builtin_run(tmp_path, n=64):
    cfg = TrainConfig(seed=5)
    cfg.data.builtin_count, cfg.data.resolution, cfg.model.resolution = n, 32, 32
    run = Run(tmp_path / "00000-builtin-faces-cdcgan32")
    run.write_config(cfg)
    return run


def test_cancel_raises_and_leaves_no_file(tmp_path):
    run = _builtin_run(tmp_path)
    events = []
    with pytest.raises(Cancelled):
        train_for_run(run.path, steps=50, batch_size=8, log_every=1, progress=events.append,
                      should_stop=lambda: any(e["kind"] == "stats" for e in events), **FAST)
    assert [e["step"] for e in events if e["kind"] == "stats"] == [1]  # stopped at the next step, not the end
    folder = classifier_dir(run.path)
    assert not folder.exists() or not any(folder.iterdir())

    clf, metrics = train_for_run(run.path, steps=3, batch_size=8, **FAST)  # finishing writes both files
    assert sorted(p.name for p in folder.iterdir()) == sorted([WEIGHTS_NAME, META_NAME])
    info = load_classifier(folder).info
    assert info["data"]["attributes"] == ["*"] and info["seed"] == 5 and len(clf.names) == 8
    assert info["training"]["flip_negates"] == ["head_tilt"]


def test_progress_reports_an_eta_from_the_first_steps():
    images, labels = planted(n=40)
    events = []

    def slow_stop():  # every step takes at least 20 ms, so the ETA has a known floor
        time.sleep(0.02)
        return False

    train_classifier(images, labels, names=["a", "b"], steps=16, batch_size=8, log_every=4, progress=events.append,
                     should_stop=slow_stop, **FAST)
    estimate = next(e for e in events if e["kind"] == "estimate")
    assert 1 < estimate["step"] <= 6  # timed after the first step (which allocates), and early
    assert estimate["seconds_per_step"] >= 0.02
    assert estimate["eta_s"] == pytest.approx(estimate["seconds_per_step"] * (16 - estimate["step"]))
    stats = [e for e in events if e["kind"] == "stats"]
    assert [e["step"] for e in stats] == [4, 8, 12, 16]
    assert stats[0]["eta_s"] >= 0.02 * 12 and stats[-1]["eta_s"] == 0


def test_builtin_faces_continuous_attributes_beat_the_mean():
    images, attrs, names = make_builtin(400, 32, seed=3)
    kinds = infer_kinds(attrs)
    assert kinds == ["binary" if a == "glasses" else "continuous" for a in names]
    clf, metrics = train_classifier(images, attrs, names=names, seed=0, steps=150, batch_size=32, holdout=0.25,
                                    flip_negates=("head_tilt",), **{**FAST, "channels": 16})
    _, held = split_rows(len(images), 0.25, 0)
    scores = clf.score(images[held])
    for j, (name, kind) in enumerate(zip(names, kinds)):
        if kind == "continuous":
            corr = np.corrcoef(scores[:, j], attrs[held, j])[0, 1]
            assert corr > 0.5, f"{name}: held-out correlation {corr:.2f}"
            assert metrics["attributes"][name]["mae"] < metrics["attributes"][name]["mean_guess_mae"]
