"""Editing helpers and the CLI's encoder/edit commands: interpolation, the axis-incremental figure, GIFs, the fast
slider renderer, and recipes that rebuild every export pixel for pixel."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import main as cli
from faceforge.editing import LoadedGenerator
from faceforge.editing.edits import (FastRenderer, add_headings, axis_incremental, export, interpolate, regenerate,
                                     save_gif, slerp)
from faceforge.recipes import Recipe, recipe_path
from faceforge.training import start_run
from helpers import random_dataset, tiny_config
from editing_helpers import one_thread, random_generator

ASTRONAUT = Path(__file__).parent / "data" / "editing_astronaut.jpg"


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture
def gen():
    return random_generator(channels=16)


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_slerp_endpoints_are_exact_and_the_path_keeps_to_the_sphere():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(2, 64, generator=g)
    path = slerp(z0, z1, torch.linspace(0, 1, 9))
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    norms = path.norm(dim=1)
    # a straight line dips to ~0.7 of the norm in the middle; the great circle does not
    assert float(norms.min()) > 0.95 * min(float(z0.norm()), float(z1.norm()))
    u0, u1 = z0 / z0.norm() * 8, z1 / z1.norm() * 8  # on one sphere: equal angular steps, constant norm
    arc = slerp(u0, u1, torch.linspace(0, 1, 9))
    cos = torch.nn.functional.cosine_similarity(arc[:-1], arc[1:])
    assert float(cos.max() - cos.min()) < 1e-5
    assert torch.allclose(arc.norm(dim=1), torch.full((9,), 8.0), atol=1e-4)


def test_interpolation_endpoints_equal_the_endpoints_images(gen):
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(2, gen.z_dim, generator=g)
    y0, y1 = torch.tensor([-1.0, 1.0, 0.0]), torch.tensor([1.0, -1.0, 0.5])
    strip = interpolate(gen, (z0, y0), (z1, y1), steps=6)
    assert strip.images.shape == (6, 32, 32, 3) and strip.ncols == 6
    assert np.array_equal(strip.images[0], gen.images(z0[None], y0[None])[0])
    assert np.array_equal(strip.images[-1], gen.images(z1[None], y1[None])[0])
    assert torch.allclose(strip.y[3], y0 + 0.6 * (y1 - y0))
    assert strip.image.shape == (2 + 34, 2 + 6 * 34, 3)


def test_axis_incremental_figure_layout(gen):
    fig = axis_incremental(gen, n_faces=4, seed=3, attributes=["attr0", "ATTR2"], values=(-1, 0, 1))
    assert fig.columns == ["sample", "attr0=-1", "attr0=+0", "attr0=+1", "attr2=-1", "attr2=+0", "attr2=+1"]
    assert fig.ncols == 7 and fig.images.shape == (28, 32, 32, 3)
    assert fig.image.shape == (2 + 4 * 34, 2 + 7 * 34, 3)
    cells_y = fig.y.reshape(4, 7, 3)
    cells_z = fig.z.reshape(4, 7, -1)
    assert torch.equal(cells_z[:, 0], cells_z[:, 6])  # one identity per row
    assert cells_y[:, 1:4, 0].tolist() == [[-1.0, 0.0, 1.0]] * 4
    assert cells_y[:, 4:7, 2].tolist() == [[-1.0, 0.0, 1.0]] * 4
    assert torch.equal(cells_y[:, 1:4, 1:], cells_y[:, :1, 1:].expand(4, 3, 2))  # the rest held fixed
    # the first column is the faces as sampled
    from faceforge.editing import seeded_z

    assert np.array_equal(fig.images[::7], gen.images(seeded_z(3, 4, gen.z_dim), gen.make_y(4)))
    labelled = add_headings(fig.image, fig.columns, cell=32)
    assert labelled.shape[0] > fig.image.shape[0] and labelled.shape[1] == fig.image.shape[1]


def test_gif_loops_forever_with_a_recipe(gen, tmp_path):
    g = torch.Generator().manual_seed(2)
    z0, z1 = torch.randn(2, gen.z_dim, generator=g)
    y = gen.make_y(1)[0]
    strip = interpolate(gen, (z0, y), (z1, y), steps=5)
    path = save_gif(strip.images, tmp_path / "morph.gif", frame_ms=50, scale=2, recipe=strip.recipe(gen))
    with Image.open(path) as im:
        assert im.info["loop"] == 0 and im.n_frames == 8  # 5 forward, 3 back
        assert im.size == (64, 64)
        im.seek(0)
        first = np.asarray(im.convert("RGB"))
    assert recipe_path(path).is_file()
    # the GIF's palette is lossy; the first frame is the start face, enlarged
    assert np.abs(first[::2, ::2].astype(int) - strip.images[0]).mean() < 6


def _saved_run(tmp_path, *, steps=2):
    cfg = tiny_config(steps=steps)
    cfg.data.source = str(tmp_path / "no-such-folder")
    start_run(cfg, run_dir=tmp_path / "run", dataset=random_dataset())
    return tmp_path / "run"


def test_exports_regenerate_identical_pixels_from_their_recipes(tmp_path):
    run = _saved_run(tmp_path)
    gen = LoadedGenerator.from_run(run)
    fig = axis_incremental(gen, n_faces=3, seed=1, values=(-2, 2))
    g = torch.Generator().manual_seed(5)
    strip = interpolate(gen, (torch.randn(gen.z_dim, generator=g), gen.make_y(1)[0]),
                        (torch.randn(gen.z_dim, generator=g), gen.make_y(1, {"attr1": 1.0})[0]), steps=4)
    for name, rendered in (("axis.png", fig), ("strip.png", strip)):
        out = export(rendered, tmp_path / name, gen, run=run)
        recipe = Recipe.load(recipe_path(out))
        assert recipe.kind == rendered.kind and recipe.ncols == rendered.ncols
        assert np.array_equal(regenerate(recipe), _png(out))
        assert cli(["generate", "--recipe", str(recipe_path(out)), "--out", str(tmp_path / f"again-{name}")]) == 0
        assert np.array_equal(_png(tmp_path / f"again-{name}"), _png(out))


def test_fast_renderer_matches_the_generator(gen):
    fast = FastRenderer.for_generator(gen)
    z = torch.randn(6, gen.z_dim, generator=torch.Generator().manual_seed(4))
    y = torch.randn(6, 3, generator=torch.Generator().manual_seed(5))
    a, b = fast(z, y, truncation=0.7), gen.images(z, y, truncation=0.7)
    assert a.shape == b.shape and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b).max() <= 1 and (a != b).mean() < 0.01
    with torch.no_grad():
        assert torch.allclose(fast.model(z, y), gen.G(z, y), atol=1e-5)


def test_cli_encoder_train_then_edit_a_photo_with_a_crop_box(tmp_path, capsys):
    run = _saved_run(tmp_path)
    assert cli(["encoder", "train", "--run", str(run), "--steps", "4", "--batch-size", "8", "--quiet"]) == 0
    assert "encoders-00000002.pt" in capsys.readouterr().out
    photo = tmp_path / "me.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 48, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out" / "edited.png"
    code = cli(["edit", str(photo), "--run", str(run), "--set", "ATTR1=1", "--set", "attr0=-1", "--refine", "3",
                "--crop", "0,6,48,54", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "read from the photo (estimates): attr0" in text
    for name in ("edited.png", "edited-aligned.png", "edited-reconstruction.png", "edited.recipe.json",
                 "edited-reconstruction.recipe.json"):
        assert (out.parent / name).is_file(), name
    recipe = Recipe.load(recipe_path(out))
    assert recipe.kind == "edit" and recipe.edits == {"attr1": 1.0, "attr0": -1.0}
    assert recipe.y[0][0] == -1.0 and recipe.y[0][1] == 1.0
    assert _png(out.parent / "edited-aligned.png").shape == (32, 32, 3)
    gen = LoadedGenerator.from_run(run)
    assert np.array_equal(regenerate(recipe, gen), _png(out))
    recon = Recipe.load(out.parent / "edited-reconstruction.recipe.json")
    assert np.array_equal(regenerate(recon, gen), _png(out.parent / "edited-reconstruction.png"))


def test_cli_edit_errors_are_one_line(tmp_path, capsys):
    run = _saved_run(tmp_path)
    photo = tmp_path / "me.png"
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(photo)
    assert cli(["edit", str(photo), "--run", str(run), "--out", str(tmp_path / "e.png")]) == 2
    assert "faceforge encoder train --run" in capsys.readouterr().err
    assert cli(["encoder", "train", "--run", str(run), "--steps", "2", "--batch-size", "4", "--quiet"]) == 0
    assert cli(["edit", str(photo), "--run", str(run), "--set", "Nope=1", "--out", str(tmp_path / "e.png")]) == 2
    assert "unknown attribute 'Nope'" in capsys.readouterr().err
    pytest.importorskip("cv2")
    assert cli(["edit", str(photo), "--run", str(run), "--out", str(tmp_path / "e.png")]) == 2
    assert "no face found" in capsys.readouterr().err
    two = tmp_path / "two.jpg"
    img = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    Image.fromarray(np.concatenate([img, img], axis=1)).save(two)
    assert cli(["edit", str(two), "--run", str(run), "--out", str(tmp_path / "e.png")]) == 2
    assert "2 faces found" in capsys.readouterr().err
    assert cli(["edit", str(two), "--run", str(run), "--face", "1", "--refine", "0",
                "--out", str(tmp_path / "e.png")]) == 0
    assert "eyes levelled" in capsys.readouterr().out
