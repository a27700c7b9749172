"""Unsupervised directions (faceforge/directions/ganspace.py, named.py) and the sliders' layer choice: GANSpace
recovers a planted dominant direction of w through a toy W generator, and for a z-only model maps a planted linear
first layer's components back to the z directions that make them; naming a component makes a slider with its
spread and its source; "all layers" widens a ranked direction's edit to every style layer."""
import numpy as np
import pytest
import torch
from torch import nn

from faceforge.config import TrainConfig
from faceforge.directions.ganspace import early_layer, ganspace_directions
from faceforge.directions.named import name_component
from faceforge.directions.sliders import DirectionSliders
from faceforge.directions.store import DirectionSet, load_directions
from faceforge.editing import LoadedGenerator
from faceforge.editing.generator import seeded_z
from faceforge.tasks import Cancelled

from helpers import cosine
from toy_w_model import NUM_WS, W_DIM, toy_loaded_generator


@pytest.fixture()
def toy_gen():
    with toy_loaded_generator() as gen:
        yield gen


def test_ganspace_finds_the_planted_dominant_direction_of_w(toy_gen):
    rng = np.random.default_rng(1)
    planted = rng.uniform(0.2, 1.0, W_DIM)  # positive: the mapping's leaky ReLU keeps the line a line
    planted /= np.linalg.norm(planted)
    with torch.no_grad():  # w = lrelu(M z): M = small noise + 3 * planted (x) a, so w varies most along planted
        m = toy_gen.G.map
        a = torch.as_tensor(rng.standard_normal(16), dtype=torch.float32)
        m.weight.mul_(0.05).add_(3 * torch.outer(torch.as_tensor(planted, dtype=torch.float32), a))
        m.bias.zero_()
    events = []
    dirs = ganspace_directions(toy_gen, components=3, samples=600, seed=2, batch=200, progress=events.append)
    assert dirs.space == "w" and dirs.dim == W_DIM and dirs.names == ["ganspace-0", "ganspace-1", "ganspace-2"]
    assert abs(cosine(dirs.normal("ganspace-0"), planted)) > 0.9
    assert np.allclose(dirs.normals @ dirs.normals.T, np.eye(3), atol=1e-5)
    shares = [dirs.fits[n]["explained_variance"] for n in dirs.names]
    assert shares == sorted(shares, reverse=True) and shares[0] > 0.8 and sum(shares) <= 1 + 1e-6
    w = toy_gen.G.mapping(seeded_z(2, 600, 16))  # the very samples PCA saw
    assert abs(dirs.spread("ganspace-0") - float((w.double().numpy() @ dirs.normal("ganspace-0")).std())) < 1e-3
    assert all(dirs.fits[n]["kind"] == "unsupervised" for n in dirs.names) and dirs.meta["method"] == "ganspace"
    assert [e["done"] for e in events] == [200, 400, 600]


class PlantedLinearG(nn.Module):
    """A z-only generator whose first layer is linear with planted singular directions: first(z) = Q diag(s) R^T z.
    The rest (a pixel head) is never needed by GANSpace; ``rest_calls`` counts its runs."""

    def __init__(self, z_dim=12, features=40, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(features, z_dim, generator=g))
        r, _ = torch.linalg.qr(torch.randn(z_dim, z_dim, generator=g))
        s = torch.tensor([9.0, 4.0, 2.0] + [0.3] * (z_dim - 3))
        self.planted = r  # columns: the z directions the components come from, strongest first
        self.first = nn.Linear(z_dim, features, bias=False)
        self.first.weight.data = q @ torch.diag(s) @ r.T
        self.head = nn.Linear(features, 3 * 8 * 8)
        self.rest_calls = 0

    def forward(self, z, y=None):
        h = self.first(z)
        self.rest_calls += 1
        return torch.tanh(self.head(h)).view(-1, 3, 8, 8)


def test_ganspace_for_a_z_model_maps_the_first_layer_components_back_to_z():
    cfg = TrainConfig()
    cfg.model.name, cfg.model.resolution, cfg.model.z_dim = "planted-linear", 32, 12  # not registered: no W
    G = PlantedLinearG().eval()
    gen = LoadedGenerator(G=G, config=cfg, attributes=[], step=0, source="memory")
    assert not gen.w_space and early_layer(G)[0] == "first"
    dirs = ganspace_directions(gen, components=3, samples=800, seed=0)
    assert dirs.space == "z" and dirs.dim == 12 and G.rest_calls == 0  # the pass stops at the early layer
    for i in range(3):
        assert abs(cosine(dirs.normals[i], G.planted[:, i].numpy())) > 0.99, i
        assert abs(np.linalg.norm(dirs.normals[i]) - 1) < 1e-5
    assert 0.85 < dirs.spread("ganspace-0") < 1.15  # z ~ N(0, I): one unit along any unit direction
    assert "first" in dirs.meta["pca_of"] and "least squares" in dirs.meta["pca_of"]
    with pytest.raises(Cancelled):
        ganspace_directions(gen, components=2, samples=800, batch=100, should_stop=lambda: True)


def test_dcgan_names_its_first_block_for_ganspace():
    from faceforge.models import build_generator

    from helpers import tiny_config

    G = build_generator(tiny_config(model="dcgan", attrs=()).model)
    name, layer = early_layer(G)
    assert layer is G.main[2] and isinstance(layer, nn.ReLU)


def unit_rows(n, dim, seed):
    x = np.random.default_rng(seed).standard_normal((n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_a_named_component_becomes_a_slider_with_its_spread_and_source(tmp_path):
    comps = DirectionSet(space="w", names=["sefa-0", "sefa-1"], normals=unit_rows(2, 6, 0),
                         fits={"sefa-0": {"kind": "unsupervised", "spread": 2.5, "intercept": 0.5},
                               "sefa-1": {"kind": "unsupervised", "spread": 1.5, "intercept": 0.0}},
                         meta={"method": "sefa", "checkpoint_step": 40})
    path = name_component(tmp_path, comps, "sefa-1", "Smile")
    name_component(tmp_path, comps, "sefa-0", "Age", sign=-1)
    again = name_component(tmp_path, comps, "sefa-0", "Smile")  # the same name again: replaced, not doubled
    assert again == path == tmp_path / "directions" / "named.json"
    named = load_directions(path)
    assert named.names == ["Smile", "Age"] and named.space == "w"
    assert np.allclose(named.normal("Smile"), comps.normal("sefa-0")) and named.spread("Smile") == 2.5
    assert np.allclose(named.normal("Age"), -comps.normal("sefa-0")) and named.fits["Age"]["intercept"] == -0.5
    assert named.fits["Age"]["source"] == {"method": "sefa", "file": None, "component": "sefa-0", "index": 0,
                                           "sign": -1.0, "checkpoint_step": 40}
    comps.save(tmp_path / "directions", "sefa")  # the numbered components themselves are strips, not sliders
    sliders = DirectionSliders()
    assert sliders.load_run(tmp_path, space="w", dim=6) == ["Smile", "Age"]
    assert any(s.startswith("sefa.json: unnamed sefa components") for s in sliders.skipped)
    assert sliders.label("Smile") == "named, SeFa sefa-0" and sliders.label("Age").endswith("reversed")
    sliders.set_amount("Smile", 2.0)
    assert np.allclose(sliders.edit().steps[0][1], 2.0 * 2.5 * comps.normal("sefa-0"), atol=1e-6)
    with pytest.raises(ValueError, match="letters"):
        name_component(tmp_path, comps, "sefa-0", "a=b")
    z_comps = DirectionSet(space="z", names=["c"], normals=unit_rows(1, 6, 1), fits={"c": {"spread": 1.0}})
    with pytest.raises(ValueError, match="another file"):
        name_component(tmp_path, z_comps, "c", "Other")


def test_the_layers_choice_widens_a_ranked_direction_to_every_layer(tmp_path):
    rank = {"gains": [0.0, 0.4, 0.3, 0.01], "ranking": [1, 2, 3, 0], "kept": [1, 2], "all_gain": 0.7,
            "kept_gain": 0.65, "amount": 2.0, "samples": 8, "target": 0.8}
    dirs = DirectionSet(space="w", names=["Smiling", "Plain"], normals=unit_rows(2, W_DIM, 2),
                        fits={"Smiling": {"spread": 1.0, "val_accuracy": 0.9, "layers": rank},
                              "Plain": {"spread": 1.0, "val_accuracy": 0.8}})
    dirs.save(tmp_path / "directions", "fit")
    sliders = DirectionSliders()
    sliders.load_run(tmp_path, space="w", dim=-1)
    assert sliders.ranked == ["Smiling"] and sliders.ranking("Plain") is None
    sliders.set_amount("Smiling", 1.0)
    ws = torch.zeros(2, NUM_WS, W_DIM)
    moved = sliders.edit()(ws)
    assert sliders.edit().steps[0][0] == (1, 2)
    assert moved[:, [0, 3]].abs().sum() == 0 and moved[:, [1, 2]].abs().sum() > 0
    sliders.set_layers("all")
    assert sliders.edit().steps[0][0] is None and (sliders.edit()(ws)[:, [0, 3]].abs().sum() > 0)
    with pytest.raises(ValueError):
        sliders.set_layers("coarse")


def test_the_randomised_pca_of_wide_activations_matches_the_full_one(monkeypatch):
    import faceforge.directions.ganspace as ganspace

    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 40)) * np.geomspace(10, 0.1, 40) @ np.linalg.qr(rng.standard_normal((40, 40)))[0]
    full = ganspace.pca(x, 4)
    monkeypatch.setattr(ganspace, "FULL_SVD_LIMIT", 10)  # as for thousands of activation values
    fast = ganspace.pca(x, 4)
    assert np.allclose(np.abs((full[0] * fast[0]).sum(1)), 1, atol=1e-3)
    assert np.allclose(fast[1], full[1], rtol=1e-3) and fast[3] == pytest.approx(full[3])


def test_ganspace_reads_every_registered_model_in_the_space_edits_move():
    from faceforge.models import available_models, build_generator, capabilities

    from helpers import tiny_config

    for name in available_models():
        caps = capabilities(name)
        cfg = tiny_config(model=name, attrs=("a0",) if caps.conditioning == "required" else ())
        cfg.model.n_attributes = len(cfg.data.attributes)
        G = build_generator(cfg.model).eval()
        means = torch.zeros(cfg.model.n_attributes) if cfg.model.n_attributes else None
        gen = LoadedGenerator(G=G, config=cfg, attributes=list(cfg.data.attributes), step=0, source="memory",
                              attribute_means=means)
        dirs = ganspace_directions(gen, components=2, samples=48)
        assert dirs.space == ("w" if caps.w_space else "z"), name
        assert dirs.dim == (G.w_dim if caps.w_space else cfg.model.z_dim), name
        assert np.allclose(np.linalg.norm(dirs.normals, axis=1), 1, atol=1e-5), name
