"""Editing in W, proved with a toy W-space model registered here (tests/toy_w_model.py; the real StyleGAN lives in
faceforge/models): truncation lerps w towards w_avg (0 = one face for every seed), style mixing takes exactly the
named layers from the second face, ``faceforge generate --mix/--truncation`` write a recipe of the styles that
rebuilds the same pixels, each snapshot of a W run writes the style-mixing figure, and a model without W refuses
mixing with a message."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main
from faceforge.config import TrainConfig
from faceforge.editing.generator import LoadedGenerator, seeded_z
from faceforge.models.styles import MIXING_SEED_OFFSET, broadcast, named_ranges, parse_layers
from faceforge.recipes import Recipe
from faceforge.runs import Run
from faceforge.training import start_run
from helpers import random_dataset, tiny_config
from toy_w_model import NUM_WS, W_DIM, ToyWGenerator, toy_w_registered


@pytest.fixture(scope="module")
def toy_w():
    with toy_w_registered() as name:
        yield name


@pytest.fixture(scope="module")
def w_run(toy_w, tmp_path_factory):
    """A toy W run of a few steps, without attributes (snapshots at 0, 3 and 6)."""
    run_dir = tmp_path_factory.mktemp("w") / "run"
    result = start_run(tiny_config(model=toy_w, steps=6, attrs=()), run_dir=run_dir, dataset=random_dataset(n_attr=0))
    assert result.state == "finished"
    return run_dir


def loose_generator(name: str, *, n_attributes: int = 0) -> LoadedGenerator:
    """A LoadedGenerator around a fresh toy G with a w_avg far from any mapped w (no checkpoint needed)."""
    cfg = TrainConfig()
    cfg.model.name, cfg.model.resolution, cfg.model.z_dim, cfg.model.n_attributes = name, 32, 16, n_attributes
    torch.manual_seed(0)
    G = ToyWGenerator(cfg.model).eval()
    G.w_avg.copy_(torch.linspace(-2, 2, W_DIM))
    return LoadedGenerator(G=G, config=cfg, attributes=[f"a{i}" for i in range(n_attributes)], step=0, source="-")


def png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_the_layer_ranges():
    assert named_ranges(18) == {"coarse": (0, 4), "middle": (4, 8), "fine": (8, 18)}  # StyleGAN's split
    assert named_ranges(10) == {"coarse": (0, 4), "middle": (4, 8), "fine": (8, 10)}
    assert named_ranges(8) == {"coarse": (0, 3), "middle": (3, 5), "fine": (5, 8)}  # thirds: fine is never empty
    assert named_ranges(4) == {"coarse": (0, 1), "middle": (1, 3), "fine": (3, 4)}
    assert parse_layers("0-3", 18) == (0, 4) and parse_layers(" Fine ", 18) == (8, 18) and parse_layers("2", 4) == (2, 3)
    for bad in ("4-2", "0-18", "eyes", "-1", "1-x"):
        with pytest.raises(ValueError, match="layers"):
            parse_layers(bad, 18)


def test_truncation_zero_is_the_average_face_for_every_seed(toy_w):
    gen = loose_generator(toy_w)
    assert gen.w_space and gen.num_ws == NUM_WS
    z = seeded_z(11, 5, gen.z_dim)
    average = gen.images(z, truncation=0.0)
    assert all(np.array_equal(face, average[0]) for face in average)
    # it is w_avg's face (not z scaled to 0, whose mapped w is the layer's bias), with the constant noise
    assert np.array_equal(average, gen.synthesize(broadcast(gen.G.w_avg.expand(5, -1), NUM_WS)))
    free = gen.images(z, truncation=1.0)
    assert len({face.tobytes() for face in free}) == 5
    assert np.array_equal(free, gen.images(z, truncation=1.0))  # constant noise: one w, one image
    half = gen.styles(z, truncation=0.5)
    assert torch.allclose(half, broadcast(gen.G.w_avg.lerp(gen.G.mapping(z), 0.5), NUM_WS))


def test_mixing_at_layer_k_keeps_the_first_faces_styles_below_k(toy_w):
    gen = loose_generator(toy_w, n_attributes=2)
    z1, z2 = seeded_z(1, 3, gen.z_dim), seeded_z(2, 3, gen.z_dim)
    y = gen.make_y(3, {"a0": 1.0})
    w1, w2 = gen.G.mapping(z1, y), gen.G.mapping(z2, y)  # the second face has the same y
    gen.G.calls.clear()
    mixed = gen.images(z1, y, mix=(z2, "2-3"))
    (ws,) = gen.G.calls  # what synthesis was given
    assert torch.equal(ws[:, :2], broadcast(w1, 2)) and torch.equal(ws[:, 2:], broadcast(w2, 2))
    assert not np.array_equal(mixed, gen.images(z1, y))
    gen.G.calls.clear()
    gen.images(z1, y, mix=(z2, "coarse"))  # [0, 1) for 4 layers
    assert torch.equal(gen.G.calls[0][:, :1], broadcast(w2, 1)) and torch.equal(gen.G.calls[0][:, 1:], broadcast(w1, 3))


def test_generate_mix_and_truncation_write_a_recipe_that_rebuilds_the_pixels(w_run, tmp_path, capsys):
    out = tmp_path / "mixed.png"
    assert main(["generate", "--run", str(w_run), "--n", "4", "--seed", "3", "--truncation", "0.7",
                 "--mix", "5:middle", "--out", str(out)]) == 0
    recipe = Recipe.load(tmp_path / "mixed.recipe.json")
    assert recipe.truncation == 0.7 and recipe.mix == {"seed": 5, "layers": "middle", "range": [1, 3]}
    ws = torch.tensor(recipe.ws)
    assert ws.shape == (4, NUM_WS, W_DIM)
    gen = LoadedGenerator.from_run(w_run)
    own = gen.styles(seeded_z(3, 4, gen.z_dim), truncation=0.7)
    other = gen.styles(seeded_z(5, 4, gen.z_dim), truncation=0.7)
    assert torch.equal(ws[:, [0, 3]], own[:, [0, 3]]) and torch.equal(ws[:, 1:3], other[:, 1:3])

    data = json.loads((tmp_path / "mixed.recipe.json").read_text())
    data["z"] = [[0.0] * len(row) for row in data["z"]]  # the pixels come from the recorded styles, not from z
    (tmp_path / "tampered.recipe.json").write_text(json.dumps(data))
    again = tmp_path / "again.png"
    assert main(["generate", "--recipe", str(tmp_path / "tampered.recipe.json"), "--out", str(again)]) == 0
    assert np.array_equal(png(again), png(out))

    plain = tmp_path / "plain.png"  # no mixing: other pixels; and a recipe without ws (version 1) still rebuilds
    assert main(["generate", "--run", str(w_run), "--n", "4", "--seed", "3", "--truncation", "0.7",
                 "--out", str(plain)]) == 0
    assert not np.array_equal(png(plain), png(out))
    old = json.loads((tmp_path / "plain.recipe.json").read_text())
    for key in ("ws", "mix"):
        old.pop(key)
    old["version"] = 1
    (tmp_path / "old.recipe.json").write_text(json.dumps(old))
    assert main(["generate", "--recipe", str(tmp_path / "old.recipe.json"), "--out", str(tmp_path / "o.png")]) == 0
    assert np.array_equal(png(tmp_path / "o.png"), png(plain))


def test_generate_truncates_only_the_layers_asked_and_the_recipe_rebuilds_them(w_run, tmp_path):
    out = tmp_path / "fine.png"
    assert main(["generate", "--run", str(w_run), "--n", "3", "--seed", "2", "--truncation", "0",
                 "--truncation-layers", "fine", "--out", str(out)]) == 0
    recipe = Recipe.load(tmp_path / "fine.recipe.json")
    assert recipe.truncation_layers == {"layers": "fine", "range": [3, 4]}
    gen = LoadedGenerator.from_run(w_run)
    ws, own = torch.tensor(recipe.ws), gen.styles(seeded_z(2, 3, gen.z_dim))
    assert torch.equal(ws[:, :3], own[:, :3]) and torch.equal(ws[:, 3], gen.G.w_avg.expand(3, -1))
    assert main(["generate", "--recipe", str(tmp_path / "fine.recipe.json"), "--out", str(tmp_path / "a.png")]) == 0
    assert np.array_equal(png(tmp_path / "a.png"), png(out))


def test_each_snapshot_of_a_w_run_writes_the_style_mixing_figure(w_run):
    run = Run(w_run)
    assert [s for s, _ in run.mixings()] == [0, 3, 6]
    figure = png(run.mixing_path(6))
    assert figure.shape == (5 * 34 + 2, 5 * 34 + 2, 3)
    gen = LoadedGenerator.from_run(w_run)
    z = torch.randn(8, gen.z_dim, generator=torch.Generator().manual_seed(3 + MIXING_SEED_OFFSET))
    rows, cols = z[:4], z[4:]

    def cell(i, j):  # figure row i, column j (0 = the sources)
        return figure[2 + i * 34 : 2 + i * 34 + 32, 2 + j * 34 : 2 + j * 34 + 32]

    assert (cell(0, 0) == 255).all()  # the corner is blank
    assert np.array_equal(cell(0, 2), gen.images(cols[1:2])[0]) and np.array_equal(cell(3, 0), gen.images(rows[2:3])[0])
    # row 2's coarse styles with column 3's middle and fine ones, as editing's own mixing makes it
    assert np.array_equal(cell(2, 3), gen.images(cols[2:3], mix=(rows[1:2], "coarse"))[0])
    assert not np.array_equal(cell(2, 3), cell(2, 2))


def test_a_model_without_w_refuses_mixing_with_a_message(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert start_run(tiny_config(steps=1), run_dir=run_dir, dataset=random_dataset()).state == "finished"
    assert Run(run_dir).mixings() == []  # no figure for a model without W
    assert main(["generate", "--run", str(run_dir), "--mix", "5:coarse", "--out", str(tmp_path / "x.png")]) == 2
    assert "needs a model with a W space" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    assert main(["generate", "--run", str(run_dir), "--mix", "oops", "--out", str(tmp_path / "y.png")]) == 2
    assert "SEED:LAYERS" in capsys.readouterr().err
    assert main(["generate", "--run", str(run_dir), "--truncation-layers", "coarse", "--out",
                 str(tmp_path / "z.png")]) == 2
    assert "needs a model with a W space" in capsys.readouterr().err
