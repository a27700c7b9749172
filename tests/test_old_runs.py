"""What a user already has on disk keeps working: a run folder and an export written by an old release.

tests/data/old-run/ was written by FaceForge 0.1.0 through its command line (tests/data/make_old_run.py; never
regenerated). Each test works on a copy in tmp_path, only through what users touch: the CLI (``faceforge.cli.main``),
``faceforge.runs`` and ``faceforge.checkpoints``, so it holds whatever the training and CLI code become inside.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceforge.checkpoints import load_checkpoint
from faceforge.cli import main
from faceforge.runs import Run, list_runs

FIXTURE = Path(__file__).parent / "data" / "old-run"
RUN_NAME = "00000-builtin-faces-cdcgan32"


@pytest.fixture
def old(tmp_path):
    """A copy of the fixture. Recipes name their checkpoint and run by absolute path (where they were made, a
    temporary folder long gone), so the copy's recipe is pointed at the copied run, as a user who moved the folder
    would do."""
    copy = tmp_path / "old-run"
    shutil.copytree(FIXTURE, copy)
    recipe_file = copy / "export" / "faces.recipe.json"
    recipe = json.loads(recipe_file.read_text())
    made_in = json.loads((copy / "MADE_BY.json").read_text())["made_in"]
    assert recipe["checkpoint"].startswith(made_in) and recipe["run"].startswith(made_in)
    for key in ("checkpoint", "run"):
        recipe[key] = str(copy) + recipe[key][len(made_in):]
    recipe_file.write_text(json.dumps(recipe))
    return copy


def test_an_old_run_is_listed(old, capsys):
    (run,) = list_runs(old / "runs")
    assert run.name == RUN_NAME
    assert main(["runs", str(old / "runs")]) == 0
    line = capsys.readouterr().out.strip()
    assert line.split()[:4] == [RUN_NAME, "finished", "step", "4/4"]  # then its speed and last score


def test_an_old_run_opens(old):
    run = Run(old / "runs" / RUN_NAME)
    cfg = run.config()
    assert (cfg.model.name, cfg.model.resolution, cfg.model.g_channels, cfg.model.z_dim) == ("cdcgan", 32, 8, 16)
    assert run.status()["state"] == "finished" and run.status()["step"] == 4
    assert [r["step"] for r in run.stats()] == [2, 4]
    assert all(np.isfinite(r["loss_g"]) and np.isfinite(r["loss_d"]) for r in run.stats())
    assert [step for step, _ in run.samples()] == [0, 4]
    assert any("started" in line for line in run.events())
    (ckpt,) = run.checkpoints()
    state = load_checkpoint(ckpt)
    assert state["step"] == 4 and len(state["attributes"]) == 8
    assert {"G", "D", "G_ema", "opt_g", "opt_d", "rng", "config"} <= set(state)


def test_an_old_run_resumes(old):
    path = old / "runs" / RUN_NAME
    assert main(["train", "--resume", str(path), "--steps", "6", "--quiet"]) == 0
    run = Run(path)
    assert run.status()["state"] == "finished" and run.status()["step"] == 6
    assert [(r["step"], r["images"]) for r in run.stats() if "loss_g" in r] == [(2, 16), (4, 32), (6, 48)]
    assert not [line for line in run.events() if " INFO " not in line]  # no warning: the checkpoint loaded whole
    assert load_checkpoint(run.latest_checkpoint())["step"] == 6
    assert run.config().schedule.steps == 6


def test_an_old_recipe_regenerates_the_same_pixels(old, tmp_path):
    again = tmp_path / "again.png"
    assert main(["generate", "--recipe", str(old / "export" / "faces.recipe.json"), "--out", str(again)]) == 0
    committed = np.asarray(Image.open(FIXTURE / "export" / "faces.png"))
    assert np.array_equal(np.asarray(Image.open(again)), committed)
