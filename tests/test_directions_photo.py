"""Fitted directions on encoded photos (issue #17): ``faceforge edit --set dir:NAME=A [--keep] [--dir-layers]``
moves the photo's own latent (a W+ code for a model with W, z otherwise) by amount x spread x normal, a plain
``--set NAME=`` on a W model takes the fitted direction of that name before the conditional attribute (and
``attr:NAME=`` the attribute), the recipe records the directions file and amounts, and ``generate --recipe``
rebuilds the edited photo's pixels exactly."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main
from faceforge.directions import FitOptions, fit_directions, split_settings
from faceforge.directions.conditional import project_out
from faceforge.directions.store import directions_dir
from faceforge.editing import photo_latents
from faceforge.editing.generator import LoadedGenerator, seeded_z
from faceforge.training import start_run
from editing_helpers import one_thread
from helpers import random_dataset, tiny_config
from toy_w_model import NUM_WS, toy_w_registered


class PixelScorer:
    """A toy classifier: "attr0" (the name of the W run's conditional attribute) is the mean red, "bright" the
    brightness of the top half; continuous scores read off the pixels."""

    names, kinds, resolution, info = ["attr0", "bright"], ["continuous", "continuous"], 32, {}

    def score(self, images):
        images = np.asarray(images, np.float32)
        return np.stack([images[..., 0].mean(axis=(1, 2)), images[:, :16].mean(axis=(1, 2, 3))], 1)


def _run(root, model, attrs):
    """A tiny run, its photo encoders and fitted directions "toy" (PixelScorer) in its latent space."""
    torch.manual_seed(0)
    data = random_dataset(n=64, n_attr=len(attrs))
    assert start_run(tiny_config(model=model, steps=4, attrs=attrs), run_dir=root / "run", dataset=data).state \
        == "finished"
    gen = LoadedGenerator.from_run(root / "run")
    assert photo_latents.train(root / "run", gen=gen, steps=6, batch_size=8, log_every=50, dataset=data).path
    dirs = fit_directions(gen, PixelScorer(), options=FitOptions(samples=96, batch=48, seed=1))
    dirs.save(directions_dir(root / "run"), "toy")
    photo = gen.images(seeded_z(5, 1, gen.z_dim), gen.default_y(1))[0].repeat(3, 0).repeat(3, 1)
    Image.fromarray(photo).save(root / "photo.png")
    return root / "run", gen, dirs


@pytest.fixture(scope="module")
def w_run(tmp_path_factory):
    with toy_w_registered() as name, one_thread():
        yield _run(tmp_path_factory.mktemp("pw"), name, ("attr0", "attr1"))


@pytest.fixture(scope="module")
def z_run(tmp_path_factory):
    with one_thread():
        yield _run(tmp_path_factory.mktemp("pz"), "dcgan", ())


def _edit(run_dir, out, *extra):
    photo = run_dir.parent / "photo.png"
    assert main(["edit", str(photo), "--run", str(run_dir), "--crop", "0,0,96,96", "--refine", "0", "--out",
                 str(out), *extra]) == 0
    return json.loads(out.with_name(out.stem + ".recipe.json").read_text()), \
        json.loads(out.with_name(out.stem + "-reconstruction.recipe.json").read_text())


def _png(path):
    return np.asarray(Image.open(path).convert("RGB"))


def _rebuilt(path, tmp_path):
    again = tmp_path / f"again-{path.stem}.png"
    assert main(["generate", "--recipe", str(path.with_name(path.stem + ".recipe.json")), "--out", str(again)]) == 0
    return _png(again)


def test_set_items_split_between_attributes_and_directions(w_run):
    _, _, dirs = w_run
    items = ["attr0=2", "attr1=1", "bright=-1"]
    assert split_settings(items, ["attr0", "attr1"], dirs) == (["attr0=2", "attr1=1"], {"bright": -1.0})
    assert split_settings(items, ["attr0", "attr1"], dirs, prefer_directions=True) == \
        (["attr1=1"], {"attr0": 2.0, "bright": -1.0})  # a photo of a W model: the fitted direction first
    assert split_settings(["attr:attr0=1", "dir:attr0=0.5"], ["attr0", "attr1"], dirs, prefer_directions=True) == \
        (["attr0=1"], {"attr0": 0.5})  # the prefixes decide whatever the preference


def test_a_w_photo_moves_along_a_fitted_direction_and_its_recipe_rebuilds_it(w_run, tmp_path, capsys):
    run_dir, gen, dirs = w_run
    with toy_w_registered(), one_thread():
        out = tmp_path / "dir.png"
        recipe, recon = _edit(run_dir, out, "--set", "attr0=2")  # a fitted direction of that name: it wins
        said = capsys.readouterr()
        assert "moved along toy: attr0 +2.00 spreads" in said.out and "attr:attr0=VALUE" in said.err
        assert recipe["edits"] == {"dir:attr0": 2.0} and recipe["y"] == recon["y"]
        assert recipe["directions"]["files"][0]["path"] == str((run_dir / "directions" / "toy.json").resolve())
        assert recipe["directions"]["files"][0]["sha256"] and recipe["directions"]["layers"] == "all"
        step = 2 * dirs.spread("attr0") * dirs.normal("attr0")
        moved = np.array(recipe["ws"]) - np.array(recon["ws"])
        assert np.allclose(moved, np.broadcast_to(step, moved.shape), atol=1e-5)  # every layer, exactly the step
        assert np.array_equal(_rebuilt(out, tmp_path), _png(out)) and not np.array_equal(
            _png(out), _png(tmp_path / "dir-reconstruction.png"))

        attr = tmp_path / "attr.png"
        recipe, recon = _edit(run_dir, attr, "--set", "attr:attr0=2")  # the model's own attribute (mean-w shift)
        assert recipe["edits"] == {"attr0": 2.0} and recipe["directions"] is None and recipe["y"] != recon["y"]

        layers = tmp_path / "layers.png"
        recipe, recon = _edit(run_dir, layers, "--set", "dir:bright=-2", "--keep", "attr0", "--dir-layers", "0-1")
        assert recipe["directions"]["keep"] == ["attr0"] and recipe["directions"]["layers"] == "0-1"
        assert "bright -2.00 spreads (keeping attr0) on layers 0-1" in capsys.readouterr().out
        moved = np.array(recipe["ws"]) - np.array(recon["ws"])
        expected = -2 * dirs.spread("bright") * project_out(dirs.normal("bright"), [dirs.normal("attr0")])
        assert np.allclose(moved[0, :2], expected, atol=1e-5) and np.abs(moved[0, 2:]).max() < 1e-6
        assert moved.shape[1] == NUM_WS and np.array_equal(_rebuilt(layers, tmp_path), _png(layers))


def test_a_z_photo_moves_along_a_fitted_direction_and_its_recipe_rebuilds_it(z_run, tmp_path, capsys):
    run_dir, gen, dirs = z_run
    with one_thread():
        out = tmp_path / "z.png"
        recipe, recon = _edit(run_dir, out, "--set", "bright=2.5", "--keep", "attr0")  # no attributes: a direction
        assert recipe["edits"] == {"dir:bright": 2.5} and recipe["ws"] is None
        expected = 2.5 * dirs.spread("bright") * project_out(dirs.normal("bright"), [dirs.normal("attr0")])
        assert np.allclose(np.array(recipe["z"]) - np.array(recon["z"]), expected, atol=1e-5)
        assert np.array_equal(_rebuilt(out, tmp_path), _png(out))
        assert np.array_equal(_png(out), gen.images(torch.tensor(recipe["z"]), None)[0])
        grid = tmp_path / "grid.png"  # generate records the directions file the same way
        assert main(["generate", "--run", str(run_dir), "--n", "2", "--set", "dir:bright=1", "--out", str(grid)]) == 0
        record = json.loads((tmp_path / "grid.recipe.json").read_text())["directions"]
        assert record["files"][0]["path"] == dirs.path and record["keep"] == [] and record["layers"] == "all"
        assert main(["edit", str(run_dir.parent / "photo.png"), "--run", str(run_dir), "--crop", "0,0,96,96",
                     "--out", str(tmp_path / "x.png"), "--set", "dir:nothing=1"]) == 2
        assert "no fitted direction 'nothing'" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
