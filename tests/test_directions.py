"""Directions (faceforge/directions): the SVM recovers a planted linear attribute in z and, through a toy W
generator and a toy classifier, in w; conditional projection is orthogonal to its conditions; the files round-trip
without pickles; edits move the layers asked; fitting reports progress and stops when told."""
import json

import numpy as np
import pytest
import torch

from faceforge.directions import (DirectionSet, FitOptions, apply_edits, apply_step, edit_vector, fit_directions,
                                  load_directions, project_out, split_settings)
from faceforge.directions.svm import fit_direction
from faceforge.tasks import Cancelled

from helpers import cosine
from toy_w_model import NUM_WS, W_DIM, toy_loaded_generator


def test_svm_recovers_a_planted_direction_in_z():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((600, 16))
    planted = rng.standard_normal(16)
    p = 1 / (1 + np.exp(-3 * (z @ planted / np.linalg.norm(planted) - 0.3)))  # a classifier's probability
    fit = fit_direction(z, p, share=0.3, seed=1)
    assert cosine(fit.normal, planted) > 0.9
    assert abs(np.linalg.norm(fit.normal) - 1) < 1e-5
    assert fit.val_accuracy > 0.95 and fit.remainder_accuracy > 0.8
    assert fit.n_train + fit.n_val == 360 and fit.n_remainder == 240
    assert abs(fit.spread - (z @ fit.normal).std()) < 1e-4  # amounts are in units of this spread
    # equal shares put the plane at the median score: it splits the samples in half
    assert abs((z @ fit.normal + fit.intercept > 0).mean() - 0.5) < 0.05
    far = fit_direction(z + 25.0, p, share=0.3, seed=1)  # a space whose mean is far from 0, as W's is
    assert cosine(far.normal, planted) > 0.9 and far.val_accuracy > 0.95
    assert abs(((z + 25.0) @ far.normal + far.intercept > 0).mean() - 0.5) < 0.05


class PixelScorer:
    """A toy "classifier": its one continuous attribute is the red value of the top-left pixel, which the toy W
    generator makes from a linear function of w (then tanh)."""

    names, kinds, resolution, info = ["redness"], ["continuous"], 32, {}

    def score(self, images):
        return images[:, 0, 0, :1].astype(np.float32)


@pytest.fixture()
def toy_gen():
    with toy_loaded_generator() as gen:
        yield gen


def test_fit_through_a_toy_w_generator_finds_the_planted_w_direction(toy_gen):
    events = []
    dirs = fit_directions(toy_gen, PixelScorer(), options=FitOptions(samples=512, seed=2, batch=128),
                          progress=events.append)
    truth = sum(layer.weight[0] for layer in toy_gen.G.layers).numpy()  # d(pixel 0 of channel 0)/dw, all layers
    assert dirs.space == "w" and dirs.dim == W_DIM and dirs.names == ["redness"]
    assert cosine(dirs.normal("redness"), truth) > 0.9
    sampling = [e for e in events if e.get("stage") == "sampling"]
    assert [e["done"] for e in sampling] == [128, 256, 384, 512] and sampling[0]["eta_s"] is not None
    assert [e["attribute"] for e in events if e.get("stage") == "fit"] == ["redness"]
    # moving +2 spreads along it, on every style layer, makes the pixel redder for every face
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(5))
    ws = toy_gen.styles(z)
    before = PixelScorer().score(toy_gen.synthesize(ws))
    after = PixelScorer().score(toy_gen.synthesize(apply_step(ws, edit_vector(dirs, {"redness": 2.0}))))
    assert (after > before).all()


def test_fitting_stops_when_told_and_returns_nothing(toy_gen):
    events = []
    with pytest.raises(Cancelled):
        fit_directions(toy_gen, PixelScorer(), options=FitOptions(samples=512, batch=64), progress=events.append,
                       should_stop=lambda: len(events) >= 2)
    assert [e["done"] for e in events] == [64, 128]


def test_conditional_projection_is_orthogonal_to_every_condition():
    rng = np.random.default_rng(3)
    n = rng.standard_normal(12)
    conditions = [rng.standard_normal(12) for _ in range(3)]
    conditions.append(conditions[0] + conditions[1])  # a repeated span is projected out once, not twice
    m = project_out(n, conditions)
    assert abs(np.linalg.norm(m) - 1) < 1e-5
    assert max(abs(float(m @ c)) for c in conditions) < 1e-5
    assert cosine(m, n) > 0.1  # what is left still points the same way
    with pytest.raises(ValueError, match="span"):
        project_out(conditions[0] - 2 * conditions[2], conditions[:3])


def small_set(dim=6):
    rng = np.random.default_rng(4)
    normals = rng.standard_normal((2, dim))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    fits = {name: {"spread": s, "intercept": 0.1, "val_accuracy": 0.9, "remainder_accuracy": 0.8}
            for name, s in (("Smiling", 2.0), ("Male", 0.5))}
    return DirectionSet(space="w", names=["Smiling", "Male"], normals=normals, fits=fits, meta={"seed": 7})


def test_save_and_load_round_trip_without_pickles(tmp_path):
    dirs = small_set()
    path = dirs.save(tmp_path, "mine")
    again = load_directions(path)
    assert again.names == dirs.names and again.space == "w" and again.meta["seed"] == 7
    assert np.array_equal(again.normals, dirs.normals) and again.fits == dirs.fits
    assert json.loads(path.read_text())["arrays"] == "mine.npy"
    np.save(tmp_path / "mine.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)  # a pickle in disguise
    with pytest.raises(ValueError):
        load_directions(path)
    data = json.loads(path.read_text())
    data.pop("arrays_sha256")  # even unchecked, the loader never unpickles
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="pickle"):
        load_directions(path)


def test_edits_move_the_asked_layers_by_amount_times_spread_and_keep_conditions():
    dirs = small_set()
    step = edit_vector(dirs, {"smiling": 1.5})
    assert np.allclose(step, 1.5 * 2.0 * dirs.normal("Smiling"), atol=1e-6)
    kept = edit_vector(dirs, {"Smiling": 1.0}, keep=["Male"])
    assert abs(float(kept @ dirs.normal("Male"))) < 1e-5 and abs(np.linalg.norm(kept) - 2.0) < 1e-5
    ws = torch.zeros(3, NUM_WS, 6)
    moved = apply_step(ws, step, layers=(1, 3))
    assert torch.equal(moved[:, [0, 3]], ws[:, [0, 3]])
    assert torch.allclose(moved[:, 1:3], torch.as_tensor(step).expand(3, 2, 6))
    with pytest.raises(ValueError, match="dimensional"):
        apply_step(torch.zeros(2, 5), step)


def test_set_items_go_to_the_conditional_attribute_first_and_dir_prefix_to_the_direction():
    dirs = small_set()
    plain, moves = split_settings(["smiling=1", "dir:Smiling=2", "Male=-1"], ["Smiling"], dirs)
    assert plain == ["smiling=1"] and moves == {"Smiling": 2.0, "Male": -1.0}
    plain, moves = split_settings(["Glasses=1"], [], dirs)
    assert plain == ["Glasses=1"] and moves == {}  # left for the attribute parser's own message
    with pytest.raises(ValueError, match="no fitted direction"):
        split_settings(["dir:Glasses=1"], [], dirs)
    with pytest.raises(ValueError, match="amount"):
        split_settings(["dir:Male=lots"], [], dirs)


def test_layer_relevance_ranks_the_layers_that_draw_the_attribute_first(toy_gen):
    with torch.no_grad():  # only style layers 1 and 2 reach the red top-left pixel
        for i in (0, 3):
            toy_gen.G.layers[i].weight[0].zero_()
    events = []
    dirs = fit_directions(toy_gen, PixelScorer(), options=FitOptions(samples=256, seed=2, batch=128, relevance=True,
                                                                     relevance_samples=32), progress=events.append)
    rel = dirs.fits["redness"]["layers"]
    assert set(rel["ranking"][:2]) == {1, 2} and set(rel["kept"]) <= {1, 2}
    assert abs(rel["gains"][0]) < 1e-6 and abs(rel["gains"][3]) < 1e-6 and rel["all_gain"] > 0
    assert rel["kept_gain"] >= 0.8 * rel["all_gain"]
    assert any(e.get("stage") == "relevance" for e in events)
    ws = toy_gen.styles(torch.randn(2, 16))
    moved = apply_edits(ws, dirs, {"redness": 1.0}, layers="relevant")
    untouched = [i for i in range(NUM_WS) if i not in rel["kept"]]
    assert torch.equal(moved[:, untouched], ws[:, untouched]) and not torch.equal(moved, ws)


def test_sefa_finds_the_direction_every_style_map_stretches_most(toy_gen):
    from faceforge.directions.sefa import sefa_directions

    planted = torch.tensor([1.0, -1, 1, 1, -1, 1, -1, -1])  # equal magnitudes: SeFa scales each latent column to 1
    with torch.no_grad():
        for i, layer in enumerate(toy_gen.G.layers):
            u = torch.randn(layer.weight.shape[0], generator=torch.Generator().manual_seed(i))
            layer.weight.mul_(0.05).add_(torch.outer(u, planted))
    dirs = sefa_directions(toy_gen, components=3)
    assert dirs.names == ["sefa-0", "sefa-1", "sefa-2"] and dirs.space == "w"
    assert abs(cosine(dirs.normal("sefa-0"), planted)) > 0.99
    assert np.allclose(dirs.normals @ dirs.normals.T, np.eye(3), atol=1e-5)  # orthonormal components
    values = [dirs.fits[n]["eigenvalue"] for n in dirs.names]
    assert values == sorted(values, reverse=True) and dirs.fits["sefa-0"]["spread"] > 0


def test_every_model_that_offers_latent_weights_reads_the_space_edits_move():
    from faceforge.models import available_models, build_generator, capabilities

    from helpers import tiny_config

    offered = 0
    for name in available_models():
        caps = capabilities(name)
        cfg = tiny_config(model=name, attrs=("a0",) if caps.conditioning == "required" else ())
        cfg.model.n_attributes = len(cfg.data.attributes)
        G = build_generator(cfg.model)
        if not hasattr(G, "latent_weights"):
            continue
        offered += 1
        dim = G.w_dim if caps.w_space else cfg.model.z_dim
        weights = G.latent_weights()
        assert weights and all(w.ndim == 2 and w.shape[1] == dim for w in weights), name
        if caps.w_space:
            assert len(weights) <= G.num_ws, name
    assert offered >= 2


def test_the_confident_split_keeps_an_svms_worth_of_faces_on_each_side():
    from faceforge.directions.svm import MIN_SIDE, confident_split

    scores = np.arange(4000.0)
    low, high, rest = confident_split(scores, 0.05)
    assert len(low) == len(high) == 200 and high.min() > low.max() and len(rest) == 3600
    low, high, _ = confident_split(np.arange(600.0), 0.05)  # 5% would be 30: the floor keeps MIN_SIDE
    assert len(low) == len(high) == MIN_SIDE
    low, high, _ = confident_split(np.arange(40.0), 0.05)  # fewer than 4 * MIN_SIDE: a quarter each
    assert len(low) == len(high) == 10
