"""The Edit studio's W controls without Qt, on the toy W model (tests/toy_w_model.py): psi towards w_avg over a layer
range, style mixing from one second face for every face, interpolation in W (the ends exactly, unlike z's slerp),
the state's rules (ranges checked, a new model drops the mix, a model without W refuses), and an export's recipe
(ws, psi, layers, mix) rebuilding the same pixels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from faceforge.config import TrainConfig
from faceforge.editing.edits import regenerate
from faceforge.editing.generator import LoadedGenerator, seeded_z
from faceforge.editing.state import FaceState, InterpolationEnds
from faceforge.editing.wspace import StyleChoice, interpolate_w, interpolate_z, lerp_styles, render, styles_for
from faceforge.models.styles import broadcast
from faceforge.recipes import Recipe
from toy_w_model import NUM_WS, W_DIM, ToyWGenerator, toy_w_registered


@pytest.fixture(scope="module")
def gen():
    """A LoadedGenerator around a fresh toy G (4 style layers: coarse 0, middle 1-2, fine 3) with a w_avg far from
    any mapped w, so truncation shows."""
    with toy_w_registered() as name:
        cfg = TrainConfig()
        cfg.model.name, cfg.model.resolution, cfg.model.z_dim = name, 32, 16
        torch.manual_seed(0)
        G = ToyWGenerator(cfg.model).eval()
        G.w_avg.copy_(torch.linspace(-2, 2, W_DIM))
        yield LoadedGenerator(G=G, config=cfg, attributes=[], step=0, source="-")


def w_face() -> FaceState:
    face = FaceState()
    face.set_model([], None, w_space=True, num_ws=NUM_WS)
    face.set_seed(3)
    face.set_grid(np.zeros((4, 8, 8, 3), np.uint8), seeded_z(3, 4, 16))
    return face


def test_psi_pulls_only_the_chosen_layers_towards_w_avg(gen):
    z = seeded_z(1, 3, gen.z_dim)
    own = broadcast(gen.G.mapping(z), NUM_WS)
    avg = gen.G.w_avg.expand(3, W_DIM)
    coarse = styles_for(gen, z, None, StyleChoice(psi=0.0, truncation_layers="coarse"))
    assert torch.equal(coarse[:, 0], avg) and torch.equal(coarse[:, 1:], own[:, 1:])
    half = styles_for(gen, z, None, StyleChoice(psi=0.5, truncation_layers="1-2"))
    assert torch.allclose(half[:, 1:3], avg[:, None].lerp(own[:, 1:3], 0.5)) and torch.equal(half[:, [0, 3]], own[:, [0, 3]])
    every = styles_for(gen, z, None, StyleChoice(psi=0.3))  # "all" is the model's own truncation
    assert torch.equal(every, gen.styles(z, truncation=0.3))
    # pixels: psi 0 at every layer is the average face for every z; at one layer the faces still differ
    faces = gen.synthesize(styles_for(gen, z, None, StyleChoice(psi=0.0)))
    assert all(np.array_equal(f, faces[0]) for f in faces)
    assert len({f.tobytes() for f in gen.synthesize(coarse)}) == 3


def test_one_style_source_gives_its_layers_to_every_face(gen):
    face = w_face()
    seen: list[str] = []
    face.observe(seen.append)
    face.select(2)
    assert face.use_current_as_mix_source() and seen[-1] == "mix"
    source = seeded_z(3, 4, 16)[2:3]
    assert torch.equal(face.mix.z, source) and (face.mix.seed, face.mix.index, face.mix.layers) == (3, 2, "coarse")
    face.set_mix_layers("fine")
    assert face.mix.layers == "fine" and seen[-1] == "mix"
    z = seeded_z(8, 5, gen.z_dim)
    ws = styles_for(gen, z, None, face.style())
    theirs = broadcast(gen.G.mapping(source), NUM_WS)
    # fine = layer 3, the same for every face (the source mapped in a batch of 5: float rounding of the batch)
    assert all(torch.allclose(ws[i, 3], theirs[0, 3], atol=1e-6) for i in range(5))
    assert torch.equal(ws[:, :3], broadcast(gen.G.mapping(z), NUM_WS)[:, :3])
    mixed = gen.synthesize(ws)
    assert not np.array_equal(mixed, gen.images(z))
    face.clear_mix()
    assert face.mix is None and face.style() == StyleChoice(psi=1.0) and seen[-1] == "mix"
    face.set_mix_layers("middle")  # chosen before a source: the next source gives them
    face.use_current_as_mix_source()
    assert face.mix.layers == "middle"


def test_the_state_checks_ranges_and_a_new_model_starts_the_styles_over():
    face = w_face()
    face.set_truncation(0.4)
    face.set_truncation_layers(" Middle ")
    assert face.truncation_layers == "middle" and face.style().truncation_layers == "middle"
    for bad in ("0-9", "eyes", "3-1"):
        with pytest.raises(ValueError, match="layers"):
            face.set_truncation_layers(bad)
        with pytest.raises(ValueError, match="layers"):
            face.set_mix_layers(bad)
    assert face.truncation_layers == "middle"
    face.use_current_as_mix_source()
    face.set_model([], None, keep=True, w_space=True, num_ws=NUM_WS)  # a newer checkpoint: kept
    assert face.mix is not None and face.truncation_layers == "middle"
    face.set_model([], None, w_space=True, num_ws=6)  # another model: its own layers
    assert face.mix is None and face.truncation_layers == "all" and face.truncation == 0.4
    face.set_truncation(1.5)
    face.set_model([], None)  # without W: z truncation, no style choice, mixing refused
    assert face.style() is None and face.truncation == 1.5
    with pytest.raises(ValueError, match="W space"):
        face.set_mix_layers("coarse")
    face.set_model([], None, w_space=True, num_ws=NUM_WS)
    assert face.truncation == 1.0  # psi stays within 0..1


def test_interpolation_in_w_lerps_the_styles_and_ends_on_the_two_faces(gen):
    a_choice = StyleChoice(psi=0.6, truncation_layers="coarse")
    b_choice = StyleChoice(psi=1.0)
    za, zb = seeded_z(4, 1, gen.z_dim), seeded_z(9, 1, gen.z_dim)
    ends = InterpolationEnds()
    for which, z, choice in (("A", za, a_choice), ("B", zb, b_choice)):
        ends.set(which, z.reshape(-1), None, ws=styles_for(gen, z, None, choice)[0], style=choice)
    strip = interpolate_w(gen, ends.get("A"), ends.get("B"), 5)
    assert strip.images.shape == (5, 32, 32, 3) and strip.ws.shape == (5, NUM_WS, W_DIM)
    assert np.array_equal(strip.images[0], gen.synthesize(ends.get("A").ws[None])[0])
    assert np.array_equal(strip.images[-1], gen.synthesize(ends.get("B").ws[None])[0])
    assert torch.allclose(strip.ws[2], (ends.get("A").ws + ends.get("B").ws) / 2, atol=1e-6)
    slerped = interpolate_z(gen, ends.get("A"), ends.get("B"), 5)
    assert not np.array_equal(strip.images[2], slerped.images[2])
    assert torch.equal(lerp_styles(torch.zeros(2, 3), torch.ones(2, 3), torch.tensor([0.0, 0.25, 1.0]))[1],
                       torch.full((2, 3), 0.25))


def test_a_mixed_truncated_export_records_its_styles_and_rebuilds_the_same_pixels(gen, tmp_path):
    from PIL import Image

    from faceforge.editing.edits import export

    face = w_face()
    face.select(1)
    face.use_current_as_mix_source()
    face.set_mix_layers("0-1")
    face.set_truncation(0.25)
    face.set_truncation_layers("fine")
    z = seeded_z(5, 1, gen.z_dim)
    path = export(render(gen, z, None, face.style()), tmp_path / "face.png", gen, seed=5, scale=2)
    recipe = Recipe.load(tmp_path / "face.recipe.json")
    assert recipe.truncation == 0.25 and recipe.truncation_layers == {"layers": "fine", "range": [3, 4]}
    assert {k: recipe.mix[k] for k in ("seed", "index", "layers", "range")} == \
        {"seed": 3, "index": 1, "layers": "0-1", "range": [0, 2]}
    assert torch.equal(torch.tensor(recipe.mix["z"]), seeded_z(3, 2, 16)[1])
    assert torch.equal(torch.tensor(recipe.ws), styles_for(gen, z, None, face.style()))
    shown = np.asarray(Image.open(path))
    assert np.array_equal(regenerate(recipe, gen), shown)
    assert not np.array_equal(regenerate(Recipe(checkpoint="-", z=recipe.z, scale=2), gen), shown)


def test_a_recipe_reopens_its_face_settings_and_cell():
    from faceforge.editing.recipe_face import restorable, restore_face

    face = w_face()
    seen: list[str] = []
    face.observe(seen.append)
    grid_z = seeded_z(7, 4, 16)
    recipe = Recipe(checkpoint="-", seed=7, z=grid_z[2:3].tolist(), truncation=0.5, kind="sample",
                    truncation_layers={"layers": "middle", "range": [1, 3]}, labels="mean",
                    mix={"seed": 3, "index": 1, "layers": "fine", "range": [3, 4], "z": seeded_z(3, 2, 16)[1].tolist()})
    restore_face(face, recipe)
    assert (face.seed, face.truncation, face.truncation_layers, face.labels) == (7, 0.5, "middle", "mean")
    assert (face.mix.seed, face.mix.index, face.mix.layers) == (3, 1, "fine") and torch.equal(face.mix.z[0], seeded_z(3, 2, 16)[1])
    assert seen[-1] == "seed"
    face.set_grid(np.zeros((4, 8, 8, 3), np.uint8), seeded_z(8, 4, 16))  # another seed's grid: still waiting
    assert face.index == 0 and face.pending_z is not None
    face.set_grid(np.zeros((4, 8, 8, 3), np.uint8), grid_z)
    assert face.index == 2 and face.pending_z is None and seen[-2:] == ["grid", "face"]
    for bad in (Recipe(checkpoint="-", seed=1, n=2, z=grid_z[:2].tolist(), kind="sample"),
                Recipe(checkpoint="-", z=grid_z[:1].tolist(), kind="edit")):
        assert restorable(bad) is not None
        with pytest.raises(ValueError, match="only a sampled face"):
            restore_face(face, bad)
    with pytest.raises(ValueError, match="layers"):  # a range this model lacks: nothing changes
        restore_face(face, Recipe(checkpoint="-", seed=9, z=grid_z[:1].tolist(), kind="sample",
                                  truncation_layers={"layers": "0-9"}))
    assert face.seed == 7
