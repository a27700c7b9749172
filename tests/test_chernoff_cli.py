"""``faceforge chernoff`` end to end: a tiny conditional run (its attributes draw the columns), a tiny W run with
planted directions (PNG, SVG, PDF, and the recipe rebuilding the same pixels), and a run with neither."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main
from faceforge.directions.store import directions_dir
from faceforge.editing import LoadedGenerator
from faceforge.resources import EXAMPLE_TABLE, files
from faceforge.runs import list_runs

from chernoff_helpers import planted_directions

TABLE = str(files() / EXAMPLE_TABLE)


@pytest.fixture(scope="module")
def threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_a_conditional_run_draws_the_judges_with_its_attributes(threads, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", "--data", "builtin:faces", "--builtin-count", "32", "--model", "cdcgan", "--resolution",
                 "32", "--channels", "8", "--batch-size", "8", "--steps", "2", "--checkpoint-every", "2",
                 "--sample-every", "2", "--log-every", "2", "--metrics-every", "0", "--precision", "fp32", "--out",
                 str(out), "--quiet"]) == 0
    (run,) = list_runs(out)
    attrs = LoadedGenerator.from_run(run.path).attributes
    assert "smile" in attrs
    capsys.readouterr()
    fig = tmp_path / "judges.png"
    assert main(["chernoff", TABLE, "--run", str(run.path), "--auto", "corr:RTEN", "--out", str(fig)]) == 0
    printed = capsys.readouterr().out
    assert "RTEN -> smile (conditional attribute)" in printed and "wrote" in printed and "43 faces" in printed
    image = np.asarray(Image.open(fig).convert("RGB"))
    assert image.shape[0] > 500 and image.shape[1] > 800 and image.std() > 20  # a grid, not a blank page
    recipe = json.loads((tmp_path / "judges.recipe.json").read_text())
    assert recipe["mapping"]["RTEN"] == "smile" and recipe["label"] == "JUDGE" and recipe["auto"] is None

    flat = tmp_path / "flat.csv"  # a column the same in every row draws nothing, and the command says so
    flat.write_text("name,score\na,5\nb,5\n")
    assert main(["chernoff", str(flat), "--run", str(run.path), "--out", str(tmp_path / "flat.png")]) == 0
    assert "no column is drawn" in capsys.readouterr().out


def test_a_w_run_with_directions_exports_png_svg_pdf_and_its_recipe_rebuilds_it(threads, tmp_path, capsys):
    from helpers import random_dataset, tiny_config
    from toy_w_model import toy_w_registered

    from faceforge.training import start_run

    with toy_w_registered() as name:
        run_dir = tmp_path / "w-run"
        assert start_run(tiny_config(model=name, steps=2, attrs=()), run_dir=run_dir,
                         dataset=random_dataset(n=16, n_attr=0)).state == "finished"
        capsys.readouterr()
        common = [TABLE, "--run", str(run_dir), "--map", "RTEN=green", "--map", "CONT=red", "--sort", "RTEN",
                  "--descending"]
        assert main(["chernoff", *common, "--out", str(tmp_path / "none.png")]) == 2
        assert "neither conditional attributes nor fitted directions" in capsys.readouterr().err

        planted_directions(LoadedGenerator.from_run(run_dir), accuracy=0.6).save(directions_dir(run_dir), "planted")
        for suffix in ("png", "svg", "pdf"):
            assert main(["chernoff", *common, "--out", str(tmp_path / f"judges.{suffix}")]) == 0
        printed = capsys.readouterr().out
        assert "RTEN -> green" in printed and "WARNING: low accuracy: val 0.60" in printed
        assert (tmp_path / "judges.pdf").read_bytes().startswith(b"%PDF")
        assert "<text" in (tmp_path / "judges.svg").read_text()
        recipe = json.loads((tmp_path / "judges.recipe.json").read_text())
        assert recipe["mapping"] == {"RTEN": "green", "CONT": "red"} and recipe["descending"] is True
        assert main(["chernoff", "--recipe", str(tmp_path / "judges.recipe.json"), "--out",
                     str(tmp_path / "again.png")]) == 0
        first = np.asarray(Image.open(tmp_path / "judges.png"))
        assert np.array_equal(first, np.asarray(Image.open(tmp_path / "again.png")))
        assert main(["chernoff", TABLE, "--run", str(run_dir), "--map", "RTEN=beard", "--out",
                     str(tmp_path / "x.png")]) == 2
        assert "no feature 'beard'" in capsys.readouterr().err
