"""``faceforge directions ganspace`` on a tiny z-only run and a tiny W run: the components are written like SeFa's
(ganspace-0.., unsupervised, spread, explained variance), listed, and ``generate --set dir:ganspace-0=3`` moves
the faces."""
import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main
from faceforge.directions import load_directions
from faceforge.directions.named import name_component

from helpers import random_dataset, tiny_config
from toy_w_model import W_DIM, toy_w_registered


def png(path):
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_run(tmp_path, model):
    from faceforge.training import start_run

    run_dir = tmp_path / f"{model}-run"
    assert start_run(tiny_config(model=model, steps=2, attrs=()), run_dir=run_dir,
                     dataset=random_dataset(n=16, n_attr=0)).state == "finished"
    return run_dir


@pytest.mark.parametrize("model", ["dcgan", "toy-w"])
def test_ganspace_components_are_saved_listed_and_move_the_faces(model, tmp_path, capsys):
    with toy_w_registered():
        run = tiny_run(tmp_path, model)
        assert main(["directions", "ganspace", "--run", str(run), "--components", "3", "--samples", "96"]) == 0
        out = capsys.readouterr().out
        assert "sampled 96/96 latents" in out and "ganspace-2" in out and "variance" in out
        dirs = load_directions(run / "directions" / "ganspace.json")
        assert dirs.names == ["ganspace-0", "ganspace-1", "ganspace-2"] and dirs.meta["method"] == "ganspace"
        assert (dirs.space, dirs.dim) == (("w", W_DIM) if model == "toy-w" else ("z", 16))
        assert all(dirs.fits[n]["kind"] == "unsupervised" and dirs.fits[n]["spread"] > 0 for n in dirs.names)
        assert main(["directions", "list", "--run", str(run)]) == 0
        assert "ganspace: " in capsys.readouterr().out
        name_component(run, dirs, "ganspace-0", "Light", sign=-1)  # what the Components tab's Name… writes
        assert main(["directions", "list", "--run", str(run)]) == 0
        listed = capsys.readouterr().out
        assert "GANSpace components" in listed and "named: " in listed and "named components" in listed
        common = ["generate", "--run", str(run), "--n", "2", "--seed", "1", "--directions", "ganspace"]
        assert main([*common, "--out", str(tmp_path / "a.png")]) == 0
        assert main([*common, "--set", "dir:ganspace-0=3", "--out", str(tmp_path / "b.png")]) == 0
        named = ["generate", "--run", str(run), "--n", "2", "--seed", "1", "--directions", "named"]
        assert main([*named, "--set", "dir:Light=-3", "--out", str(tmp_path / "c.png")]) == 0
    assert not np.array_equal(png(tmp_path / "a.png"), png(tmp_path / "b.png"))
    assert np.array_equal(png(tmp_path / "c.png"), png(tmp_path / "b.png"))  # reversed, named: the same move
