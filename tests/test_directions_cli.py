"""``faceforge directions fit | list`` and ``faceforge generate --set dir:NAME=AMOUNT`` on a tiny built-in run
without attributes (so ``--set smile=`` falls back to the fitted direction), and the recipe rebuilding the edit."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main
from faceforge.directions import load_directions
from faceforge.runs import list_runs
from faceforge.training.classifier import train_for_run

FAST = dict(channels=8, precision="fp32", channels_last=False)


@pytest.fixture(scope="module")
def run_with_classifier(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "--data", "builtin:faces", "--builtin-count", "64", "--model", "dcgan", "--channels", "8",
                 "--batch-size", "8", "--steps", "2", "--checkpoint-every", "2", "--sample-every", "2",
                 "--log-every", "2", "--metrics-every", "0", "--precision", "fp32", "--out", str(out),
                 "--quiet"]) == 0
    (run,) = list_runs(out)
    train_for_run(run.path, steps=3, batch_size=8, **FAST)
    yield run
    torch.set_num_threads(before)


def png(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_fit_list_and_generate_along_a_fitted_direction(run_with_classifier, tmp_path, capsys):
    run = run_with_classifier
    assert main(["directions", "fit", "--run", str(run.path), "--attributes", "smile,glasses", "--samples", "64",
                 "--name", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "scored 64/64 faces" in out and "fitted glasses (2/2)" in out and "wrote" in out
    dirs = load_directions(run.path / "directions" / "tiny.json")
    assert dirs.space == "z" and dirs.names == ["smile", "glasses"] and dirs.dim == 100
    assert dirs.meta["options"]["samples"] == 64 and dirs.meta["classifier"]["sha256"]
    assert dirs.meta["checkpoint_step"] == 2 and "accuracy" not in dirs.fits["smile"]["classifier_held_out"]
    assert main(["directions", "list", "--run", str(run.path)]) == 0
    assert "tiny: z space, step 2, 64 samples" in capsys.readouterr().out

    plain, moved, fallback = tmp_path / "plain.png", tmp_path / "moved.png", tmp_path / "fallback.png"
    common = ["generate", "--run", str(run.path), "--n", "4", "--seed", "3"]
    assert main([*common, "--out", str(plain)]) == 0
    assert main([*common, "--set", "dir:smile=3", "--out", str(moved)]) == 0
    assert main([*common, "--set", "Smile=3", "--out", str(fallback)]) == 0  # no such attribute: the direction
    assert not np.array_equal(png(plain), png(moved)) and np.array_equal(png(moved), png(fallback))
    recipe = json.loads((tmp_path / "moved.recipe.json").read_text())
    assert recipe["edits"] == {"dir:smile": 3.0}
    again = tmp_path / "again.png"
    assert main(["generate", "--recipe", str(tmp_path / "moved.recipe.json"), "--out", str(again)]) == 0
    assert np.array_equal(png(again), png(moved))
    capsys.readouterr()
    assert main([*common, "--set", "dir:beard=1", "--out", str(tmp_path / "x.png")]) == 2
    assert "no fitted direction 'beard'" in capsys.readouterr().err


def test_generate_moves_only_the_style_layers_asked_on_a_w_model(tmp_path, capsys):
    from helpers import random_dataset, tiny_config
    from test_directions import PixelScorer
    from toy_w_model import toy_w_registered

    from faceforge.directions import fit_directions
    from faceforge.directions.store import directions_dir
    from faceforge.editing import LoadedGenerator
    from faceforge.training import start_run

    with toy_w_registered() as name:
        run_dir = tmp_path / "w-run"
        assert start_run(tiny_config(model=name, steps=2, attrs=()), run_dir=run_dir,
                         dataset=random_dataset(n=16, n_attr=0)).state == "finished"
        dirs = fit_directions(LoadedGenerator.from_run(run_dir), PixelScorer())
        dirs.meta["checkpoint_step"] = 1  # as if fitted on an older checkpoint: generate says so
        dirs.save(directions_dir(run_dir), "toy")
        common = ["generate", "--run", str(run_dir), "--n", "2", "--seed", "1"]
        assert main([*common, "--out", str(tmp_path / "plain.png")]) == 0
        assert main([*common, "--set", "redness=2", "--dir-layers", "1-2", "--out", str(tmp_path / "moved.png")]) == 0
        assert "fitted at step 1, the model is at step 2" in capsys.readouterr().out
        assert main([*common, "--keep", "redness", "--out", str(tmp_path / "x.png")]) == 2  # nothing to hold still for
        assert "--keep holds directions still" in capsys.readouterr().err
    plain = np.array(json.loads((tmp_path / "plain.recipe.json").read_text())["ws"])
    moved = np.array(json.loads((tmp_path / "moved.recipe.json").read_text())["ws"])
    step = 2 * dirs.spread("redness") * dirs.normal("redness")
    assert np.array_equal(moved[:, [0, 3]], plain[:, [0, 3]])  # "1-2": layers 1 and 2 (inclusive), no others
    assert np.allclose(moved[:, 1:3], plain[:, 1:3] + step, atol=1e-5)


def test_sefa_components_are_saved_and_usable_as_directions(run_with_classifier, tmp_path, capsys):
    run = run_with_classifier
    assert main(["directions", "sefa", "--run", str(run.path), "--components", "3"]) == 0
    assert "sefa-2" in capsys.readouterr().out
    dirs = load_directions(run.path / "directions" / "sefa.json")
    assert dirs.names == ["sefa-0", "sefa-1", "sefa-2"] and dirs.space == "z"
    common = ["generate", "--run", str(run.path), "--n", "2", "--directions", "sefa"]
    assert main([*common, "--out", str(tmp_path / "a.png")]) == 0
    assert main([*common, "--set", "dir:sefa-0=3", "--out", str(tmp_path / "b.png")]) == 0
    assert not np.array_equal(png(tmp_path / "a.png"), png(tmp_path / "b.png"))


def test_a_stopped_fit_writes_nothing(run_with_classifier, tmp_path):
    from faceforge.directions import FitOptions, fit_for_run
    from faceforge.tasks import Cancelled

    events = []
    before = sorted(p.name for p in (run_with_classifier.path / "directions").glob("*")) \
        if (run_with_classifier.path / "directions").exists() else []
    with pytest.raises(Cancelled):
        fit_for_run(run_with_classifier.path, options=FitOptions(samples=64, batch=16), name="stopped",
                    progress=events.append, should_stop=lambda: any(e.get("stage") == "sampling" for e in events))
    after = sorted(p.name for p in (run_with_classifier.path / "directions").glob("*")) \
        if (run_with_classifier.path / "directions").exists() else []
    assert after == before and [e["done"] for e in events if e.get("stage") == "sampling"] == [16]
