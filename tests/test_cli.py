"""The CLI end to end, in-process (same code path as the console script), on the built-in faces."""
import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main
from faceforge.runs import list_runs


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    rc = main(["train", "--data", "builtin:faces", "--builtin-count", "200", "--channels", "8", "--batch-size", "8",
               "--steps", "6", "--checkpoint-every", "3", "--sample-every", "3", "--log-every", "3",
               "--metrics-every", "0", "--precision", "fp32", "--out", str(out), "--quiet"])
    assert rc == 0
    (run,) = list_runs(out)
    return run


def test_train_writes_a_complete_run(trained_run):
    cfg = json.loads(trained_run.config_path.read_text())
    assert cfg["model"]["name"] == "cdcgan" and cfg["model"]["n_attributes"] == 8
    assert trained_run.name.startswith("00000-builtin-faces-cdcgan32")
    assert len(trained_run.samples()) == 3


def test_resume_extends_a_run(trained_run, tmp_path):
    import shutil

    copy = tmp_path / trained_run.name
    shutil.copytree(trained_run.path, copy)
    assert main(["train", "--resume", str(copy), "--steps", "9", "--quiet"]) == 0
    from faceforge.runs import Run

    assert Run(copy).status()["step"] == 9


def test_generate_with_settings_and_recipe_regenerates_identical_pixels(trained_run, tmp_path, capsys):
    out = tmp_path / "smiling.png"
    assert main(["generate", "--run", str(trained_run.path), "--n", "4", "--seed", "7", "--set", "smile=1",
                 "--out", str(out)]) == 0
    recipe = json.loads((tmp_path / "smiling.recipe.json").read_text())
    assert recipe["edits"] == {"smile": 1.0} and recipe["seed"] == 7 and len(recipe["z"]) == 4
    again = tmp_path / "again.png"
    assert main(["generate", "--recipe", str(tmp_path / "smiling.recipe.json"), "--out", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))


def test_a_gif_recipe_rebuilds_the_same_animation(trained_run, tmp_path):
    from faceforge.editing import LoadedGenerator
    from faceforge.editing.edits import interpolate, save_gif

    gen = LoadedGenerator.from_run(trained_run)
    g = torch.Generator().manual_seed(3)
    z0, z1 = torch.randn(2, gen.z_dim, generator=g)
    strip = interpolate(gen, (z0, gen.make_y(1)[0]), (z1, gen.make_y(1)[0]), steps=4)
    first = save_gif(strip.images, tmp_path / "morph.gif", frame_ms=120, scale=3, recipe=strip.recipe(gen))
    assert json.loads((tmp_path / "morph.recipe.json").read_text())["animation"] == {
        "frame_ms": 120, "boomerang": True, "scale": 3}
    again = tmp_path / "again.gif"
    assert main(["generate", "--recipe", str(tmp_path / "morph.recipe.json"), "--out", str(again)]) == 0
    assert first.read_bytes() == again.read_bytes()


def test_generate_from_a_lone_checkpoint(trained_run, tmp_path):
    ckpt = trained_run.latest_checkpoint()
    lone = tmp_path / "model.pt"
    lone.write_bytes(ckpt.read_bytes())
    assert main(["generate", "--checkpoint", str(lone), "--n", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 32 * 3


def test_unknown_attribute_is_a_clear_error(trained_run, tmp_path, capsys):
    assert main(["generate", "--run", str(trained_run.path), "--set", "Smiling=1", "--out", str(tmp_path / "x.png")]) == 2
    assert "smile" in capsys.readouterr().err


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/.faceforge-should-not-exist",))


def test_a_code_carrying_checkpoint_is_refused_and_does_not_run(tmp_path, capsys):
    import os

    marker = "/tmp/.faceforge-should-not-exist"
    if os.path.exists(marker):
        os.remove(marker)
    evil = tmp_path / "evil.pt"
    import torch

    torch.save({"format": "faceforge-checkpoint", "x": _RunsCode()}, evil)
    assert main(["generate", "--checkpoint", str(evil), "--out", str(tmp_path / "x.png")]) == 2
    assert "refused" in capsys.readouterr().err
    assert not os.path.exists(marker)
    (tmp_path / "legacy.pt").write_bytes(pickle.dumps(_RunsCode()))
    assert main(["generate", "--checkpoint", str(tmp_path / "legacy.pt"), "--out", str(tmp_path / "x.png")]) == 2
    assert not os.path.exists(marker)
    assert not (tmp_path / "x.png").exists()


def test_dataset_check_reports_bad_files(tmp_path, capsys):
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.jpg").write_bytes(b"not an image at all")
    assert main(["dataset", "check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "broken.jpg" in out and "3" in out


def test_missing_data_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope"), "--steps", "1", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_runs_shows_the_live_step_speed_and_quality_score(tmp_path, capsys):
    """A run's status.json is written at the start (step 0) and at checkpoints; the list shows where it is now."""
    from faceforge.config import TrainConfig
    from faceforge.runs import Run

    run = Run(tmp_path / "00000-faces-cdcgan32")
    run.write_config(TrainConfig())
    run.write_status("running", step=0, total_steps=1020)
    for step in range(20, 481, 20):
        run.append_stats({"step": step, "images": 64 * step, "loss_g": 1.0, "img_s": 100.0 + step})
        if step % 200 == 0:
            run.append_stats({"step": step, "images": 64 * step, "swd": 31.25, "diversity": 0.3})
    assert main(["runs", str(tmp_path)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("00000-faces-cdcgan32") and "running" in line
    assert "step 480/1020" in line and "580 img/s" in line and "SWD 31.2" in line


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for opt in ("--data", "--labels", "--attributes", "--resume", "--resolution", "--loss", "--precision"):
        assert opt in text
