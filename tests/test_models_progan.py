"""ProGAN: the growth schedule, what G and D give at every stage and across a fade-in, training through the phases,
a bit-identical resume in the middle of a fade-in, and sampling a mid-growth checkpoint at its own stage."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from faceforge.checkpoints import load_checkpoint
from faceforge.config import ConfigError
from faceforge.editing.generator import LoadedGenerator
from faceforge.models import build_models, progan
from faceforge.runs import Run
from faceforge.training import resume_run, start_run
from helpers import assert_same_weights, random_dataset, tiny_config

PHASE = 16  # images per fade-in and per stable stretch; at batch 8 a phase is 2 steps


def _model_config(*, n_attributes=0, phase_images=PHASE):
    cfg = tiny_config(model="progan", loss="wgan-gp").model
    cfg.n_attributes, cfg.phase_images = n_attributes, phase_images
    return cfg


def _grown(images_seen, **kw):
    torch.manual_seed(0)
    G, D = build_models(_model_config(**kw), loss_kind="wgan-gp")
    for m in (G, D):
        m.grow(images_seen)
    return G, D


@pytest.mark.parametrize("images, res, alpha", [
    (0, 4, 1.0), (PHASE - 1, 4, 1.0),                                 # 4x4 stable
    (PHASE, 8, 0.0), (PHASE + 4, 8, 0.25), (2 * PHASE - 1, 8, 0.9375),  # 8 fading in, linear in images
    (2 * PHASE, 8, 1.0), (3 * PHASE - 1, 8, 1.0),                     # 8 stable
    (3 * PHASE, 16, 0.0), (4 * PHASE, 16, 1.0),
    (5 * PHASE + 8, 32, 0.5), (6 * PHASE, 32, 1.0), (10**12, 32, 1.0),  # final: stable for ever
])
def test_the_schedule_at_the_phase_boundaries(images, res, alpha):
    G, D = _grown(images)
    assert G.stage() == D.stage() == {"res": res, "alpha": alpha}
    state = G.state_dict()  # the stage is in the state, so checkpoints and G_ema carry it
    assert int(state["stage_res"]) == res and float(state["stage_alpha"]) == alpha


def test_widths_halve_dcgans_with_a_floor_at_the_finest_resolutions():
    from faceforge.models.progan import widths
    assert widths(32, 32) == {4: 64, 8: 32, 16: 16, 32: 16}
    assert widths(64, 64) == {4: 256, 8: 128, 16: 64, 32: 32, 64: 32}
    assert widths(32, 32, floor=0.0) == {4: 64, 8: 32, 16: 16, 32: 8}  # runs stored before the floor
    cfg = _model_config()
    cfg.progan_width_floor = 0.0
    G, D = build_models(cfg, loss_kind="wgan-gp")
    assert G.to_rgb[-1].weight.shape[1] == D.from_rgb[-1][0].weight.shape[0] == widths(cfg.g_channels, 32, floor=0)[32]


@pytest.mark.parametrize("how", ["stride", "pool"])
def test_each_d_block_halves_the_resolution_as_configured(how):
    """stride: a 3x3 convolution of stride 2 over every pixel of the block's input (the default); pool: 2x2 means
    first, as runs stored before the choice were trained."""
    cfg = _model_config()
    cfg.d_downsample = how
    torch.manual_seed(0)
    _, D = build_models(cfg, loss_kind="wgan-gp")
    block = D.blocks[-1]
    conv = block[1]
    h = torch.randn(2, conv.weight.shape[1], 32, 32)
    if how == "stride":
        expect = F.conv2d(h, conv.weight * conv.scale, conv.bias, padding=1, stride=2)
    else:
        expect = F.conv2d(F.avg_pool2d(h, 2), conv.weight * conv.scale, conv.bias, padding=1)
    torch.testing.assert_close(block(h), F.leaky_relu(expect, 0.2))


def test_outputs_at_every_stage_and_a_continuous_fade_in():
    z, x = torch.randn(8, 16, generator=torch.Generator().manual_seed(1)), torch.rand(8, 3, 32, 32) * 2 - 1
    G, D = _grown(0)

    def at(images):
        G.grow(images)
        D.grow(images)
        return G(z), D(x)

    with torch.no_grad():
        for images in range(0, 7 * PHASE, PHASE):
            out, score = at(images)
            assert out.shape == (8, 3, 32, 32) and out.abs().max() <= 1
            assert score.shape == (8,) and D(out).shape == (8,)
            block = 32 // G.stage()["res"]  # nearest up-sampled from the current resolution: flat over blocks
            tiles = out.unfold(2, block, block).unfold(3, block, block)
            assert torch.equal(tiles, tiles[..., :1, :1].expand_as(tiles)), images
        # the fade-in to 8 px: alpha 0 is the 4x4 stage exactly; from there to the stable 8 px stage the image
        # and D's scores move in small steps (no jump anywhere)
        start = at(PHASE - 1)
        path = [at(PHASE + i) for i in range(0, PHASE, 2)] + [at(2 * PHASE)]
        assert torch.equal(path[0][0], start[0]) and torch.equal(path[0][1], start[1])
        images = torch.stack([p[0] for p in path])
        steps, total = (images[1:] - images[:-1]).abs(), (images[-1] - images[0]).abs()
        assert total.max() > 0.01
        torch.testing.assert_close(steps.sum(0), total, atol=1e-4, rtol=1e-4)  # each pixel moves monotonically
        assert steps.max() < total.max() / 3
        scores = torch.stack([p[1] for p in path])  # D is not monotone in alpha, but it does not jump either
        assert (scores - scores[0]).abs().max() > 0.01
        assert (scores[1:] - scores[:-1]).abs().max() < (scores - scores[0]).abs().max() / 3


def test_in_a_fade_in_d_sees_the_reals_blended_between_two_resolutions_as_g_makes_its_images():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    _, D = _grown(PHASE + 4)  # 8 px fading in, alpha 0.25
    seen = D.blend_reals(x)
    assert seen.shape == x.shape
    at8, at4 = torch.nn.functional.avg_pool2d(x, 4), torch.nn.functional.avg_pool2d(x, 8)
    expected = 0.75 * torch.nn.functional.interpolate(at4, size=8) + 0.25 * at8
    torch.testing.assert_close(torch.nn.functional.avg_pool2d(seen, 4), expected)
    for stable in (0, 2 * PHASE, 10**9):  # a stable stage: the reals as they are
        D.grow(stable)
        assert D.blend_reals(x) is x


def test_training_gives_d_the_blended_reals(tmp_path, monkeypatch):
    stages = []
    real_blend = progan.Discriminator.blend_reals

    def spy(self, x):
        stages.append(self.stage()["alpha"])
        return real_blend(self, x)

    monkeypatch.setattr(progan.Discriminator, "blend_reals", spy)
    start_run(_config(4), run_dir=tmp_path / "run", dataset=random_dataset(n_attr=0))
    # every D step at the stage it trains: two updates (of 4 images) per step at these sizes
    assert stages == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.5, 0.5]


def _config(steps, *, attrs=(), phase_images=PHASE):
    cfg = tiny_config(model="progan", loss="wgan-gp", steps=steps, attrs=attrs)
    cfg.model.phase_images = phase_images
    cfg.model.growth_batch = 4  # steps at 16 px and below are two updates of 4 images
    cfg.loss.drift = 0.001
    cfg.model.conditioning = "projection"
    return cfg


def test_training_grows_through_the_phases_with_finite_losses(tmp_path):
    result = start_run(_config(14), run_dir=tmp_path / "run", dataset=random_dataset(n_attr=0))
    assert result.state == "finished" and result.step == 14
    rows = Run(tmp_path / "run").stats()
    assert all(torch.isfinite(torch.tensor([r["loss_g"], r["loss_d"]])).all() for r in rows)
    # each row reports the stage its step trained at: step s starts with (s - 1) * 8 images seen
    assert [(r["step"], r["res"], r["alpha"]) for r in rows] == [
        (2, 4, 1.0), (4, 8, 0.5), (6, 8, 1.0), (8, 16, 0.5), (10, 16, 1.0), (12, 32, 0.5), (14, 32, 1.0)]
    # steps 1-10 (4-16 px) took two updates of 4 images each, steps 11-14 (32 px) one of 8; the same 112 images
    state = load_checkpoint(Run(tmp_path / "run").latest_checkpoint())
    assert state["images_seen"] == 14 * 8
    for opt in ("opt_g", "opt_d"):  # the layers used at every stage (G's first, D's last) took every update
        assert max(int(s["step"]) for s in state[opt]["state"].values()) == 10 * 2 + 4
    assert sum(len(r["loss_g_steps"]) for r in rows) == 14  # one loss per step, whatever its updates


@pytest.mark.parametrize("res, batch, growth_batch, updates", [
    (4, 64, 16, 4), (16, 64, 16, 4), (32, 64, 16, 1), (8, 16, 16, 1), (8, 8, 16, 1), (8, 64, 0, 1), (16, 32, 8, 4)])
def test_low_resolution_steps_are_taken_as_updates_of_growth_batch_images(res, batch, growth_batch, updates):
    assert progan.updates_per_step(res, batch=batch, growth_batch=growth_batch) == updates


def test_a_growth_batch_that_does_not_divide_the_batch_is_refused():
    cfg = _config(4)
    cfg.model.growth_batch = 3
    with pytest.raises(ConfigError, match="growth_batch must be 0 .off. or divide the batch of 8"):
        cfg.validate()


def test_a_resume_in_the_middle_of_a_fade_in_is_bit_identical_and_its_checkpoint_samples_at_its_stage(tmp_path):
    ds = random_dataset(n_attr=3)
    attrs = ("attr0", "attr1", "attr2")
    straight = start_run(_config(6, attrs=attrs, phase_images=12), run_dir=tmp_path / "a", dataset=ds)
    start_run(_config(3, attrs=attrs, phase_images=12), run_dir=tmp_path / "b", dataset=ds)
    saved = load_checkpoint(Run(tmp_path / "b").latest_checkpoint())
    assert int(saved["G_ema"]["stage_res"]) == 8 and 0 < float(saved["G_ema"]["stage_alpha"]) < 1  # mid-fade
    resumed = resume_run(tmp_path / "b", dataset=ds, steps=6)
    assert straight.step == resumed.step == 6 and straight.config.model.n_attributes == 3
    assert_same_weights(tmp_path / "a", tmp_path / "b")
    rows = [{r["step"]: r for r in Run(d).stats()} for d in (tmp_path / "a", tmp_path / "b")]
    assert [(r["res"], r["alpha"]) for r in rows[0].values()] == [(4, 1.0), (8, 1.0), (16, 0.3333)]
    for step in (2, 4, 6):  # same stages; the same losses where a row averages the same steps (the stop logs step 3)
        assert (rows[0][step]["res"], rows[0][step]["alpha"]) == (rows[1][step]["res"], rows[1][step]["alpha"])
    assert all(rows[0][s]["loss_d"] == rows[1][s]["loss_d"] for s in (2, 6))

    # the step-3 checkpoint, loaded into a freshly built G, samples at 8 px fading in (alpha 1/3): 4x4 pixel
    # blocks of the 32 px image are flat, 8x8 ones are not
    gen = LoadedGenerator.from_checkpoint(Run(tmp_path / "b").checkpoint_path(3))
    assert gen.G.stage() == {"res": 8, "alpha": 0.3333}
    on, z, _ = gen.sample(n=4, seed=1, settings={"attr0": 1.0})
    images = torch.from_numpy(on).float()  # (N, H, W, 3)
    assert images.shape == (4, 32, 32, 3)
    tiles4 = images.unfold(1, 4, 4).unfold(2, 4, 4)
    assert torch.equal(tiles4, tiles4[..., :1, :1].expand_as(tiles4))
    tiles8 = images.unfold(1, 8, 8).unfold(2, 8, 8)
    assert not torch.equal(tiles8, tiles8[..., :1, :1].expand_as(tiles8))
    off = gen.images(z, gen.make_y(4, {"attr0": -1.0}))
    assert not (on == off).all()  # the conditional model responds to y


def test_the_estimate_times_the_full_size_network_not_its_4x4_start():
    from faceforge.training.estimate import estimate_run, format_estimate

    cfg = tiny_config(model="progan", loss="wgan-gp", attrs=(), steps=4)
    cfg.model.phase_images = 16
    result = estimate_run(cfg, dataset=random_dataset(n=32, res=32, n_attr=0), steps=1)
    assert result["stage"] == {"res": 32, "alpha": 1.0}
    assert "at full size" in format_estimate(result)
