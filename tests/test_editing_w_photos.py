"""Real photos into W+ for a model with a W space (the toy W model of tests/toy_w_model.py; the real StyleGAN
lives in faceforge/models): the W+ encoder learns on generated pairs and beats the average face, projection
lowers the error of its guess and stops when told, the encoder file loads weights-only (and the IcGAN loader
refuses it), a photo's W+ code renders, takes attribute edits, interpolates and exports a recipe that rebuilds
its pixels, and ``faceforge encoder train`` / ``faceforge edit`` take the W+ path for a W run."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from faceforge.checkpoints import CheckpointError
from faceforge.cli import main
from faceforge.editing import photo_latents
from faceforge.editing.edits import Rendered, export, interpolate, regenerate
from faceforge.editing.generator import LoadedGenerator, seeded_z
from faceforge.editing.ms_ssim import ms_ssim, reconstruction_scores
from faceforge.editing.w_codes import is_code
from faceforge.recipes import Recipe
from faceforge.training import start_run
from editing_helpers import one_thread
from helpers import random_dataset, tiny_config
from toy_w_model import NUM_WS, W_DIM, toy_w_registered

ENCODER_STEPS = 150


@pytest.fixture(scope="module")
def toy_w():
    with toy_w_registered() as name, one_thread():  # tiny models: a second thread only waits on a busy machine
        yield name


def _w_run(name, root, attrs):
    torch.manual_seed(0)
    run_dir = root / "run"
    data = random_dataset(n=256, n_attr=len(attrs))
    result = start_run(tiny_config(model=name, steps=6, attrs=attrs), run_dir=run_dir, dataset=data)
    assert result.state == "finished"
    gen = LoadedGenerator.from_run(run_dir)
    train = photo_latents.train(run_dir, gen=gen, steps=ENCODER_STEPS, batch_size=16, log_every=50, dataset=data)
    assert train.state == "finished" and train.path is not None
    return run_dir, gen, photo_latents.load(run_dir, gen=gen)


@pytest.fixture(scope="module")
def w_run(toy_w, tmp_path_factory):
    """An unconditional toy W run and its W+ encoder."""
    return _w_run(toy_w, tmp_path_factory.mktemp("wp"), ())


@pytest.fixture(scope="module")
def cw_run(toy_w, tmp_path_factory):
    """A conditional toy W run (two attributes) and its W+ encoder with E_y."""
    return _w_run(toy_w, tmp_path_factory.mktemp("cwp"), ("attr0", "attr1"))


def _faces(gen, n=8, seed=1):
    return gen.images(seeded_z(seed, n, gen.z_dim), gen.default_y(n, seed=seed, labels="data"))


def test_ms_ssim_is_one_for_the_same_image_and_falls_with_noise():
    torch.manual_seed(0)
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    scores = [ms_ssim(a, (a + s * torch.randn_like(a)).clamp(-1, 1)).mean().item() for s in (0.0, 0.05, 0.2, 0.8)]
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert scores == sorted(scores, reverse=True) and scores[1] > 0.95
    assert ms_ssim(a, torch.rand_like(a) * 2 - 1).max().item() < 0.2  # an unrelated image


def test_the_w_encoder_guess_beats_the_average_face(w_run):
    run_dir, gen, enc = w_run
    faces = _faces(gen)
    recon = np.stack([gen.images(*photo_latents.encode(gen, enc, face))[0] for face in faces])
    average = gen.synthesize(gen.G.w_avg.reshape(1, 1, -1).repeat(len(faces), NUM_WS, 1))
    err_enc = np.mean(reconstruction_scores(faces, recon)["mse"])
    err_avg = np.mean(reconstruction_scores(faces, average)["mse"])
    assert err_enc < 0.3 * err_avg


def test_projection_lowers_the_error_of_the_encoder_guess_and_stops_when_told(w_run):
    _, gen, enc = w_run
    face = _faces(gen, 1, seed=3)[0]
    code, y = photo_latents.encode(gen, enc, face)
    assert is_code(code) and code.shape == (1, NUM_WS, W_DIM) and y is None
    events = []
    refined, _ = photo_latents.refine(gen, face, code, y, 40, progress=events.append)
    before = reconstruction_scores(face, gen.images(code, y))
    after = reconstruction_scores(face, gen.images(refined, y))
    assert after["mse"][0] < 0.7 * before["mse"][0] and after["ms_ssim"][0] >= before["ms_ssim"][0]
    assert events[-1]["step"] == 40 and "eta" in events[-1] and "ms_ssim" in events[-1]
    calls = []
    stopped, _ = photo_latents.refine(gen, face, code, y, 40, progress=calls.append,
                                      should_stop=lambda: len(calls) >= 3)
    assert calls[-1]["step"] < 10 and torch.isfinite(stopped).all()  # stopped early, with the best code so far


def test_the_w_encoder_file_is_weights_only_and_only_its_own_loader_takes_it(w_run, tmp_path):
    run_dir, gen, enc = w_run
    state = torch.load(enc.path, weights_only=True)
    assert state["kind"] == "faceforge-w-encoder" and "E_w" in state
    again = photo_latents.load(run_dir, gen=gen)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.equal(again.predict_ws(x), enc.predict_ws(x))
    from faceforge.editing.encoders import load_encoders

    with pytest.raises(CheckpointError, match="not an encoder file"):
        load_encoders(run_dir)
    stopped = photo_latents.train(run_dir, gen=gen, steps=50, batch_size=4, should_stop=lambda: True)
    assert stopped.state == "stopped" and stopped.path is None


def test_a_photo_code_takes_edits_interpolates_and_exports_a_recipe(cw_run, tmp_path):
    run_dir, gen, enc = cw_run
    face = _faces(gen, 1, seed=4)[0]
    code, y = photo_latents.encode(gen, enc, face)
    assert y is not None and y.shape == (1, 2)
    assert set(enc.reliability) == {"attr0", "attr1"}  # E_y learnt from the real rows, scored on held-out ones
    own = gen.images(code, y)[0]
    edited = gen.images(code, gen.make_y(1, {"attr0": -float(y[0, 0].sign() or 1) * 1.0}, base=y))[0]
    assert not np.array_equal(own, edited)  # the slider moves the face (through the mean w of y')
    from faceforge.editing.edits import FastRenderer

    fast = FastRenderer.for_generator(gen)(code, y)[0]
    assert np.abs(fast.astype(int) - own.astype(int)).max() <= 1
    strip = interpolate(gen, (code, y), (seeded_z(9, 1, gen.z_dim), y), steps=4)
    assert np.array_equal(strip.images[0], own) and np.array_equal(strip.images[-1], gen.images(seeded_z(9, 1, gen.z_dim), y)[0])
    path = export(Rendered(gen.images(code, y), code, y, ncols=1, kind="edit"), tmp_path / "photo.png", gen, run=run_dir)
    recipe = Recipe.load(tmp_path / "photo.recipe.json")
    assert recipe.ws is not None and np.array_equal(regenerate(recipe), own)
    assert main(["generate", "--recipe", str(tmp_path / "photo.recipe.json"), "--out", str(tmp_path / "again.png")]) == 0
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png").convert("RGB")), np.asarray(Image.open(path).convert("RGB")))


def test_cli_encoder_train_and_edit_take_the_w_path(cw_run, tmp_path, capsys):
    run_dir, gen, _ = cw_run
    from faceforge.imaging import write_png

    photo = write_png(tmp_path / "face.png", _faces(gen, 1, seed=6)[0].repeat(2, 0).repeat(2, 1))
    assert main(["encoder", "train", "--run", str(run_dir), "--steps", "20", "--batch-size", "8"]) == 0
    assert "W+ encoder" in capsys.readouterr().out
    out = tmp_path / "edited.png"
    assert main(["edit", str(photo), "--run", str(run_dir), "--crop", "0,0,64,64", "--refine", "5",
                 "--set", "attr0=1", "--out", str(out)]) == 0
    for name in ("edited.png", "edited-reconstruction.png", "edited.recipe.json", "edited-reconstruction.recipe.json"):
        assert (tmp_path / name).exists(), name
    recipe = Recipe.load(tmp_path / "edited.recipe.json")
    assert recipe.ws is not None and np.asarray(recipe.z).shape == (1, NUM_WS, W_DIM)
    assert np.array_equal(regenerate(recipe), np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(out).convert("RGB")))
