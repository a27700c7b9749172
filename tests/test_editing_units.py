"""Labels in their own units (an age in years, a binary 1/0 column) and varied default faces, headless: the run's
recorded label scales reach every use (settings, recipes, E_y), default faces draw their attributes from the
checkpoint's label sample, and exports (PNG at 2x, MP4, before/after sheet) rebuild from their recipes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from editing_helpers import age_data, age_run, one_thread, random_generator

OLD_RUN = Path(__file__).parent / "data" / "old-run" / "runs" / "00000-builtin-faces-cdcgan32"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return age_run(tmp_path_factory.mktemp("units"))


def _cli(*args) -> int:
    from faceforge.cli import main

    return main([str(a) for a in args])


def test_settings_are_in_units_and_the_recipe_keeps_both(run, tmp_path):
    from faceforge.editing import LoadedGenerator, parse_settings

    gen = LoadedGenerator.from_run(run)
    age = gen.scale("Age")
    assert age.in_units and 18 <= age.low < age.high <= 80 and gen.scale("Smiling").kind == "binary"
    settings = parse_settings(["age=60", "Smiling=1"], gen.attributes)
    assert settings == {"Age": 60.0, "Smiling": 1.0}  # still in units
    y = gen.make_y(2, settings)
    assert torch.allclose(y[:, 2], torch.tensor((60 - age.mean) / age.std, dtype=torch.float32))
    assert torch.all(y[:, 0] == 1.0)
    assert gen.to_units(y[0])["Age"] == pytest.approx(60.0, abs=1e-3)
    # the CLI: --set Age=60 means 60 years; the recipe stores y as the network saw it and the settings in units
    assert _cli("generate", "--run", run, "--n", 4, "--set", "Age=60", "--out", tmp_path / "old.png") == 0
    recipe = json.loads((tmp_path / "old.recipe.json").read_text())
    assert recipe["edits"] == {"Age": 60.0}
    assert np.allclose(np.asarray(recipe["y"])[:, 2], (60 - age.mean) / age.std, atol=1e-5)
    assert _cli("generate", "--recipe", tmp_path / "old.recipe.json", "--out", tmp_path / "again.png") == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "old.png")), np.asarray(Image.open(tmp_path / "again.png")))


def test_a_run_without_recorded_scales_uses_the_identity():
    from faceforge.editing import LoadedGenerator
    from faceforge.runs import Run

    gen = random_generator()
    assert gen.make_y(1, {"attr0": 0.5})[0, 0] == 0.5 and gen.scale("attr0").slider_range() == (-2.0, 2.0)
    old = LoadedGenerator.from_run(Run(OLD_RUN))  # release 0.1.0: no scales, no label sample
    assert not old.scales and not old.has_label_sample
    if old.conditional:
        assert torch.equal(old.default_y(3, seed=5, labels="data"), old.default_y(3, labels="mean"))


def test_default_faces_draw_their_labels_from_the_sample(run, tmp_path):
    from faceforge.editing import LoadedGenerator
    from faceforge.recipes import Recipe

    gen = LoadedGenerator.from_run(run)
    sample = gen.attribute_sample
    assert sample is not None and sample.shape[1] == 3
    y = gen.default_y(8, seed=3, labels="data")
    assert len({tuple(r) for r in y.tolist()}) > 1  # varied
    assert all(any(torch.equal(r, s) for s in sample) for r in y)  # every row is a row of the sample
    assert torch.equal(y, gen.default_y(8, seed=3, labels="data")) and not torch.equal(y, gen.default_y(8, seed=4, labels="data"))
    assert torch.equal(gen.default_y(8, labels="mean"), gen.attribute_means.repeat(8, 1))

    assert _cli("generate", "--run", run, "--n", 6, "--seed", 3, "--out", tmp_path / "data.png") == 0
    recipe = Recipe.load(tmp_path / "data.recipe.json")
    assert recipe.labels == "data" and recipe.seed == 3
    assert torch.equal(torch.tensor(recipe.y), gen.default_y(6, seed=3, labels="data"))
    assert _cli("generate", "--recipe", tmp_path / "data.recipe.json", "--out", tmp_path / "again.png") == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "data.png")), np.asarray(Image.open(tmp_path / "again.png")))
    assert _cli("generate", "--run", run, "--n", 6, "--labels", "mean", "--out", tmp_path / "mean.png") == 0
    mean = Recipe.load(tmp_path / "mean.recipe.json")
    assert mean.labels == "mean" and torch.allclose(torch.tensor(mean.y), gen.attribute_means.repeat(6, 1))


def test_generate_mp4_animates_and_its_recipe_rebuilds_it(run, tmp_path):
    av = pytest.importorskip("av")

    assert _cli("generate", "--run", run, "--n", 4, "--out", tmp_path / "faces.mp4") == 0
    recipe = json.loads((tmp_path / "faces.recipe.json").read_text())
    assert recipe["animation"] == {"fps": 12.5, "boomerang": False, "scale": 1}
    assert _cli("generate", "--recipe", tmp_path / "faces.recipe.json", "--out", tmp_path / "again.mp4") == 0

    def frames(path):
        with av.open(str(path)) as container:
            return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]

    a, b = frames(tmp_path / "faces.mp4"), frames(tmp_path / "again.mp4")
    assert len(a) == 4 and a[0].shape[0] >= 256
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_encoders_learn_labels_on_the_network_scale_and_record_reliability(run, tmp_path):
    import shutil

    from faceforge.editing.encoder_quality import describe_reliability, measure_step_seconds
    from faceforge.editing.encoders import load_encoders, train_encoders
    from faceforge.editing import LoadedGenerator

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    events: list[dict] = []
    with one_thread():
        train_encoders(copy, steps=6, batch_size=8, dataset=age_data(), log_every=2, progress=events.append)
    stats = [e for e in events if e["kind"] == "stats"]
    assert stats[0]["eta"] is None and stats[1]["eta"] is not None and stats[-1]["eta"] == 0.0
    enc = load_encoders(copy)
    assert enc.continuous == [False, True, True]
    rel = enc.reliability
    assert set(rel) == {"Smiling", "mouth_open", "Age"} and rel["Smiling"]["n"] == 25
    assert 0.0 <= rel["Smiling"]["accuracy"] <= 1.0 and rel["Age"]["mae"] > 0
    assert "held-out" in describe_reliability(rel["Smiling"]) and "unknown" in describe_reliability(None)
    # Age predictions are standardised values, not squashed into [-1, 1] as a binary column's are
    gen = LoadedGenerator.from_run(copy)
    x = torch.from_numpy(age_data(16).images).permute(0, 3, 1, 2).float() / 127.5 - 1
    enc.E_y.head[-1].bias.data[2] = 3.0  # push the raw output: a continuous column passes it through
    assert float(enc.predict_y(x)[:, 2].min()) > 1.0
    assert measure_step_seconds(gen, batch_size=4, steps=1) > 0


def test_png_export_at_2x_sheet_and_headings(tmp_path):
    from faceforge.editing.edits import Rendered, export, regenerate
    from faceforge.editing.sheets import add_headings, before_after_sheet
    from faceforge.recipes import Recipe, recipe_path

    gen = random_generator()
    z = torch.randn(1, gen.z_dim)
    y = gen.make_y(1)
    r = Rendered(gen.images(z, y), z, y, ncols=1, kind="sample")
    path = export(r, tmp_path / "face.png", gen, scale=2)
    image = np.asarray(Image.open(path))
    assert image.shape == (64, 64, 3) and np.array_equal(image[::2, ::2], r.image)
    assert np.array_equal(regenerate(Recipe.load(recipe_path(path)), gen), image)
    sheet = before_after_sheet(np.full((90, 90, 3), 200, np.uint8), r.image, r.image, scale=2, edits={"Smiling": 1})
    assert sheet.shape[1] == 3 * 64 + 4 * 8 and sheet.shape[0] > 64
    labelled = add_headings(r.image, ["mouth_open=+1"], cell=32, scale=4)
    assert labelled.shape[0] - 128 >= 2 * 16  # a two-line heading (name, value) in a readable size


def test_encoder_train_cli_estimates_before_and_shows_an_eta(run, tmp_path, monkeypatch, capsys):
    import shutil

    import faceforge.data

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    monkeypatch.setattr(faceforge.data, "load_dataset", lambda *a, **k: age_data())
    with one_thread():
        assert _cli("encoder", "train", "--run", copy, "--steps", 41, "--batch-size", 4) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("about ") and "for 41 steps on this machine (measured" in out[0]
    steps = [line for line in out if line.startswith("step ")]
    assert "ETA" not in steps[0] and "ETA" in steps[1]


def test_the_axis_figure_takes_each_attribute_in_its_units(run):
    from faceforge.editing import LoadedGenerator
    from faceforge.editing.edits import axis_incremental

    gen = LoadedGenerator.from_run(run)
    age = gen.scale("Age")
    fig = axis_incremental(gen, n_faces=2, seed=1, attributes=["Smiling", "Age"], values=None)
    assert fig.columns[:4] == ["sample", "Smiling=-1", "Smiling=+0", "Smiling=+1"]
    years = [float(t.split("=")[1]) for t in fig.columns[4:]]
    assert years == pytest.approx([age.low, age.mean, age.high], abs=0.1)
    ages = fig.y.reshape(2, 7, -1)[0, 4:, 2]  # face 0's Age columns, as the network saw them
    assert torch.allclose(ages, torch.tensor([(v - age.mean) / age.std for v in years]), atol=1e-4)
