"""MSG-GAN: G gives every scale, D reads every scale, it trains with its losses, resumes bit-identically, and a
conditional run samples from its checkpoint through the editing layer and the CLI."""
from __future__ import annotations

import pytest
import torch

from faceforge.cli import main
from faceforge.config import ModelConfig
from faceforge.editing.generator import LoadedGenerator
from faceforge.models import build_models
from faceforge.models.layers import downsample
from faceforge.runs import Run
from faceforge.training import resume_run, start_run
from helpers import assert_same_weights, random_dataset, tiny_config


def _config(res=32, n_attributes=0, combine="simple"):
    return ModelConfig(name="msggan", resolution=res, z_dim=16, g_channels=8, d_channels=8,
                       n_attributes=n_attributes, conditioning="projection", msg_combine=combine)


def _run_config(*, steps, loss="rahinge", conditional=False):
    cfg = tiny_config(model="msggan", loss=loss, steps=steps, attrs=("attr0", "attr1", "attr2") if conditional else ())
    cfg.model.conditioning = "projection"
    return cfg


@pytest.mark.parametrize("res", [32, 64, 128])
def test_shapes_ranges_and_d_reads_a_tensor_as_its_own_pyramid(res):
    torch.manual_seed(0)
    G, D = build_models(_config(res=res, n_attributes=2))
    z, y = torch.randn(8, 16), torch.randn(8, 2)
    with torch.no_grad():
        image = G(z, y)
        scales = G(z, y, scales=True)
        assert image.shape == (8, 3, res, res) and image.abs().max() <= 1
        assert [s.shape[-1] for s in scales] == [2 ** k for k in range(2, res.bit_length())]
        assert torch.allclose(scales[-1], image)  # the final scale is the image G(z, y) gives
        pyramid = [downsample(image, s.shape[-1]) for s in scales]
        out_list, out_tensor = D(pyramid, y), D(image, y)
    assert out_list.shape == out_tensor.shape == (8,)
    assert torch.allclose(out_list, out_tensor)


@pytest.mark.parametrize("combine", ["simple", "lincat"])
def test_d_depends_on_every_scale(combine):
    torch.manual_seed(0)
    _, D = build_models(_config(combine=combine))
    images = [torch.rand(8, 3, r, r) * 2 - 1 for r in (4, 8, 16, 32)]
    with torch.no_grad():
        base = D(images)
        for i in range(len(images)):
            changed = list(images)
            changed[i] = torch.rand_like(images[i]) * 2 - 1
            assert not torch.allclose(D(changed), base, atol=1e-5), f"D ignores the {images[i].shape[-1]} px scale"


@pytest.mark.parametrize("loss,conditional", [("rahinge", False), ("wgan-gp", True)])
def test_trains_with_finite_losses_and_writes_scale_strips(tmp_path, loss, conditional):
    ds = random_dataset(n_attr=3 if conditional else 0)
    result = start_run(_run_config(steps=3, loss=loss, conditional=conditional), run_dir=tmp_path / "run", dataset=ds)
    assert result.state == "finished" and result.config.model.n_attributes == (3 if conditional else 0)
    rows = [r for r in Run(tmp_path / "run").stats() if "loss_d" in r]
    assert rows and all(torch.isfinite(torch.tensor([r["loss_g"], r["loss_d"]])).all() for r in rows)
    strips = Run(tmp_path / "run").scales()
    assert strips and all(path.exists() for _, path in strips)


def test_stop_and_resume_is_bit_identical(tmp_path):
    ds = random_dataset(n_attr=3)
    start_run(_run_config(steps=4, conditional=True), run_dir=tmp_path / "a", dataset=ds)
    start_run(_run_config(steps=2, conditional=True), run_dir=tmp_path / "b", dataset=ds)
    resumed = resume_run(tmp_path / "b", steps=4, dataset=ds)
    assert resumed.state == "finished" and resumed.step == 4
    assert_same_weights(tmp_path / "a", tmp_path / "b")


def test_conditional_model_follows_y_and_samples_from_its_checkpoint(tmp_path):
    torch.manual_seed(0)
    G, _ = build_models(_config(n_attributes=3))
    z = torch.randn(4, 16)
    with torch.no_grad():
        assert not torch.allclose(G(z, torch.ones(4, 3)), G(z, -torch.ones(4, 3)), atol=1e-4)

    start_run(_run_config(steps=2, conditional=True), run_dir=tmp_path / "run", dataset=random_dataset(n_attr=3))
    gen = LoadedGenerator.from_run(tmp_path / "run")
    assert gen.attributes == ["attr0", "attr1", "attr2"]
    on, z, _ = gen.sample(n=4, seed=1, settings={"attr0": 1.0})
    off = gen.images(z, gen.make_y(4, {"attr0": -1.0}))
    assert on.shape == (4, 32, 32, 3) and not (on == off).all()
    out = tmp_path / "generated.png"
    assert main(["generate", "--run", str(tmp_path / "run"), "--n", "4", "--seed", "7", "--set", "attr0=1",
                 "--out", str(out)]) == 0
    assert out.exists()


def test_generator_upsamples_as_its_config_says_and_old_runs_keep_bilinear():
    """New runs up-sample with nearest (bilinear drew one ringing template over every 64 px face); a run stored
    before ``msg_upsample`` existed was trained with bilinear and must still generate the same pixels."""
    import torch.nn.functional as F

    from faceforge.config import TrainConfig

    assert TrainConfig().model.msg_upsample == "nearest"
    stored = TrainConfig().to_dict()
    del stored["model"]["msg_upsample"]
    assert TrainConfig.from_dict(stored, stored=True).model.msg_upsample == "bilinear"
    assert TrainConfig.from_json(TrainConfig().to_json()).model.msg_upsample == "nearest"

    torch.manual_seed(0)
    G = build_models(_config())[0]
    z = torch.randn(4, 16)

    def by_hand(mode: str) -> torch.Tensor:  # G's forward pass written out with the up-sampling named
        x = G.norm(z)
        h = G.norm(F.leaky_relu(G.latent(x).view(4, -1, 4, 4), 0.2))
        h = G.norm(F.leaky_relu(G.base(h), 0.2))
        for block in G.blocks:
            up = F.interpolate(h, scale_factor=2.0, mode=mode, **({} if mode == "nearest" else
                                                                    {"align_corners": False}))
            h = G.norm(F.leaky_relu(block(up), 0.2))
        return torch.tanh(G.to_rgb[-1](h))

    with torch.no_grad():
        for mode in ("nearest", "bilinear"):
            G.upsample = mode
            assert torch.allclose(G(z), by_hand(mode), atol=1e-6), mode
        assert not torch.allclose(by_hand("nearest"), by_hand("bilinear"), atol=1e-3)
    assert build_models(_config().replace(msg_upsample="bilinear"))[0].upsample == "bilinear"


def test_a_config_to_start_from_takes_new_defaults_and_a_runs_own_keeps_its_past(tmp_path):
    """The same JSON without the fields added later means two things: in a run folder (or a checkpoint) it is what
    that run was trained with (bilinear, noise everywhere, y at its old weight); as ``faceforge train --config``
    for a new run it is a partial config, and the missing fields take what new runs do."""
    import json

    from faceforge.config import TrainConfig

    partial = tmp_path / "start.json"
    partial.write_text(json.dumps({"model": {"name": "msggan", "resolution": 64}}))
    new = TrainConfig.load(partial, stored=False).model
    assert (new.msg_upsample, new.noise_max_res, new.y_like_z, new.d_downsample, new.progan_width_floor) == (
        "nearest", 16, True, "stride", 0.5)

    stored = TrainConfig().to_dict()
    for name in ("msg_upsample", "noise_max_res", "y_like_z", "d_downsample", "progan_width_floor"):
        del stored["model"][name]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(stored))
    old = Run(tmp_path / "run").config().model
    assert (old.msg_upsample, old.noise_max_res, old.y_like_z, old.d_downsample, old.progan_width_floor) == (
        "bilinear", 0, False, "pool", 0.0)
