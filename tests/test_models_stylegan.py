"""StyleGAN: shapes, constant vs random noise, truncation to w_avg, style mixing through W+, training (with lazy
R1) that moves w_avg, a stop half-way through a step and a resume that are bit-identical, sampling from the
checkpoint through the editing layer, and a conditional G that follows y."""
from __future__ import annotations

import pytest
import torch

from faceforge.checkpoints import load_checkpoint
from faceforge.config import ModelConfig
from faceforge.editing.generator import LoadedGenerator
from faceforge.models import build_models, capabilities
from faceforge.models.conditioning import fade_at
from faceforge.models.stylegan_layers import Noise
from faceforge.runs import Run
from faceforge.training import resume_run, start_run
from helpers import assert_same_weights, random_dataset, tiny_config

ATTRS = ("attr0", "attr1", "attr2")


def _config(res=32, n_attributes=0, style_mixing=0.9):
    return ModelConfig(name="stylegan", resolution=res, z_dim=16, w_dim=16, g_channels=8, d_channels=8,
                       n_attributes=n_attributes, conditioning="projection", style_mixing=style_mixing)


def _run_config(*, steps, conditional=False):
    cfg = tiny_config(model="stylegan", loss="bce", steps=steps, attrs=ATTRS if conditional else ())
    cfg.model.conditioning = "projection"
    cfg.model.w_dim = 16
    cfg.loss.r1_gamma, cfg.loss.r1_every = -1.0, 2
    batch = cfg.schedule.batch_size
    cfg.model.condition_fade = (batch, 3 * batch)  # the attributes fade in over steps 1-3 of these short runs
    return cfg


def _models(res=32, n_attributes=0, **kwargs):
    torch.manual_seed(0)
    G, D = build_models(_config(res=res, n_attributes=n_attributes, **kwargs))
    with torch.no_grad():  # a w_avg away from zero, so truncation has somewhere to go
        G.w_avg.normal_()
    return G, D


@pytest.mark.parametrize("res", [32, 64])
def test_shapes_styles_and_noise_modes(res):
    G, D = _models(res=res)
    assert G.num_ws == 2 * (res.bit_length() - 1) - 2 <= capabilities("stylegan").style_layers
    z = torch.randn(8, 16)
    with torch.no_grad():
        G.eval()
        image = G(z)
        assert image.shape == (8, 3, res, res) and image.abs().max() <= 1
        assert D(image).shape == (8,)
        assert torch.equal(G(z), image)  # eval: constant noise buffers, one z gives one image
        for layer in (G.base, *G.convs):
            layer.noise.strength.fill_(0.5)
        assert torch.equal(G(z, noise="const"), G(z, noise="const"))
        assert not torch.allclose(G(z, noise="random"), G(z, noise="const"), atol=1e-4)
        assert not torch.allclose(G(z, noise="none"), G(z, noise="const"), atol=1e-4)


def test_truncation_zero_gives_w_avg_for_every_z():
    G, _ = _models()
    G.eval()
    with torch.no_grad():
        images = G(torch.randn(4, 16), truncation=0.0)
        average = G.synthesis(G.w_avg.expand(1, G.num_ws, -1))
        assert torch.allclose(images, average.expand(4, -1, -1, -1), atol=1e-6)
        w = G.mapping(torch.randn(2, 16))
        ws = G.truncate(w, 0.5, layers=3)  # only the styles below 3 move towards w_avg
        assert torch.allclose(ws[:, :3], G.w_avg.lerp(w, 0.5)[:, None].expand(-1, 3, -1))
        assert torch.equal(ws[:, 3:], w[:, None].expand(-1, G.num_ws - 3, -1))


def test_mixing_takes_the_second_faces_styles_from_layer_k():
    G, _ = _models()
    G.eval()
    z1, z2, k = torch.randn(2, 16), torch.randn(2, 16), 3
    with torch.no_grad():
        mixed = G(z1, mix=(z2, k))
        w1, w2 = G.truncate(G.mapping(z1), 1.0), G.truncate(G.mapping(z2), 1.0)
        manual = G.synthesis(torch.cat([w1[:, :k], w2[:, k:]], dim=1))
        assert torch.allclose(mixed, manual, atol=1e-6)
        assert not torch.allclose(mixed, G(z1), atol=1e-4) and not torch.allclose(mixed, G(z2), atol=1e-4)


@pytest.mark.parametrize("probability,mixes", [(1.0, True), (0.0, False)])
def test_training_forward_mixes_styles_and_tracks_w_avg(probability, mixes):
    G, _ = _models(style_mixing=probability)
    seen = []
    synthesis = G.synthesis
    G.synthesis = lambda ws, **kw: seen.append(ws) or synthesis(ws, **kw)
    before = G.w_avg.clone()
    G.train()
    G(torch.randn(4, 16))
    ws = seen[0]
    assert (not torch.allclose(ws[:, 0], ws[:, -1])) == mixes  # a second w takes over from a random layer
    assert not torch.allclose(G.w_avg, before)
    G.eval()
    G(torch.randn(4, 16))
    assert torch.allclose(seen[1][:, 0], seen[1][:, -1])  # eval never mixes


@pytest.mark.parametrize("conditional", [False, True])
def test_trains_with_r1_and_moves_w_avg(tmp_path, conditional):
    ds = random_dataset(n_attr=3 if conditional else 0)
    result = start_run(_run_config(steps=3, conditional=conditional), run_dir=tmp_path / "run", dataset=ds)
    assert result.state == "finished" and result.config.model.n_attributes == (3 if conditional else 0)
    rows = [r for r in Run(tmp_path / "run").stats() if "loss_d" in r]
    assert rows and all(torch.isfinite(torch.tensor([r["loss_g"], r["loss_d"]])).all() for r in rows)
    state = load_checkpoint(Run(tmp_path / "run").latest_checkpoint())
    assert state["G"]["w_avg"].abs().sum() > 0 and torch.equal(state["G"]["w_avg"], state["G_ema"]["w_avg"])


def test_stop_mid_step_and_resume_is_bit_identical_and_samples(tmp_path):
    ds = random_dataset(n_attr=3)
    start_run(_run_config(steps=4, conditional=True), run_dir=tmp_path / "a", dataset=ds)
    polls = []

    def stop_in_step_two() -> bool:  # polled at a step's top, after D's forward and after its backward
        polls.append(1)
        return len(polls) == 5
    stopped = start_run(_run_config(steps=4, conditional=True), run_dir=tmp_path / "b", dataset=ds,
                        should_stop=stop_in_step_two)
    assert stopped.state == "stopped" and stopped.step == 1
    resumed = resume_run(tmp_path / "b", steps=4, dataset=ds)
    assert resumed.state == "finished" and resumed.step == 4
    assert_same_weights(tmp_path / "a", tmp_path / "b")

    gen = LoadedGenerator.from_run(tmp_path / "b")
    first, z, _ = gen.sample(n=4, seed=1, settings={"attr0": 1.0})
    assert first.shape == (4, 32, 32, 3)
    assert (gen.images(z, gen.make_y(4, {"attr0": 1.0})) == first).all()  # constant noise: one z, one image


def test_conditional_generator_follows_y():
    G, D = _models(n_attributes=3)
    G.eval()
    z = torch.randn(4, 16)
    with torch.no_grad():
        on, off = G(z, torch.ones(4, 3)), G(z, -torch.ones(4, 3))
        assert not torch.allclose(on, off, atol=1e-4)
        assert not torch.allclose(D(on, torch.ones(4, 3)), D(on, -torch.ones(4, 3)), atol=1e-5)


def test_attributes_fade_in_with_the_images_seen():
    """Conditioned from the first step the conditional StyleGAN collapsed; it now starts unconditional."""
    assert [fade_at(n, (8, 24)) for n in (0, 8, 16, 24, 99)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert fade_at(0, (5, 5)) == 1.0
    G, D = _models(n_attributes=3)
    G.eval()
    G.grow(0)
    D.grow(0)
    z, x = torch.randn(4, 16), torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(G(z, torch.ones(4, 3)), G(z, -torch.ones(4, 3)))  # y does nothing yet
        assert torch.equal(D(x, torch.ones(4, 3)), D(x, -torch.ones(4, 3)))
        G.grow(10 ** 6)
        D.grow(10 ** 6)
        assert not torch.allclose(G(z, torch.ones(4, 3)), G(z, -torch.ones(4, 3)), atol=1e-4)
        assert not torch.allclose(D(x, torch.ones(4, 3)), D(x, -torch.ones(4, 3)), atol=1e-5)
    plain, _ = _models()
    plain.grow(0)  # an unconditional G has nothing to fade
    assert not any("fade" in k for k in plain.state_dict())


def test_a_checkpoint_from_before_the_fade_loads_fully_conditioned():
    G, _ = _models(n_attributes=3)
    old = {k: v for k, v in G.state_dict().items() if "fade" not in k}
    G.grow(0)
    G.load_state_dict(old)
    assert float(G.mapping.fade.strength) == 1.0


def test_a_run_records_the_fade_in_its_checkpoints(tmp_path):
    ds = random_dataset(n_attr=3)
    cfg = _run_config(steps=3, conditional=True)
    start_run(cfg, run_dir=tmp_path / "run", dataset=ds)
    state = load_checkpoint(Run(tmp_path / "run").latest_checkpoint())
    seen = (state["step"] - 1) * cfg.schedule.batch_size  # set before the last step
    expected = fade_at(seen, cfg.model.condition_fade)
    assert 0.0 < expected < 1.0
    for net in ("G", "G_ema"):
        assert float(state[net]["mapping.fade.strength"]) == pytest.approx(expected)
    assert float(state["D"]["fade.strength"]) == pytest.approx(expected)


def test_path_length_penalty_reaches_synthesis_and_mapping_and_keeps_its_running_mean():
    from faceforge.training.path_length import PathLength

    G, _ = _models()
    G.train()
    pl = PathLength(weight=2.0, every=4)
    assert pl.due(0) and not pl.due(1) and not PathLength(weight=0.0, every=4).due(0)
    gen = torch.Generator().manual_seed(0)
    penalty = pl(G, torch.randn(8, 16), None, gen)
    first = pl.mean
    assert first > 0 and penalty.item() > 0
    penalty.backward()
    assert G.mapping.layers[0].weight.grad.abs().sum() > 0  # through w, as in the paper
    assert G.convs[0].conv.weight.grad.abs().sum() > 0
    restored = PathLength(weight=2.0, every=4)
    restored.load_state_dict(pl.state_dict())
    assert restored.mean == pl.mean


def test_a_run_with_path_length_resumes_exactly_and_other_models_refuse_it(tmp_path):
    from faceforge.training.plans import plan_problem

    ds = random_dataset(n_attr=0)
    cfg = _run_config(steps=4)
    cfg.loss.pl_weight, cfg.loss.pl_every = 2.0, 2
    start_run(cfg, run_dir=tmp_path / "a", dataset=ds)
    state = load_checkpoint(Run(tmp_path / "a").latest_checkpoint())
    assert state["path_length"]["mean"] > 0
    cfg2 = _run_config(steps=4)
    cfg2.loss.pl_weight, cfg2.loss.pl_every = 2.0, 2
    start_run(cfg2.replace(schedule=cfg2.schedule.replace(steps=2)), run_dir=tmp_path / "b", dataset=ds)
    resume_run(tmp_path / "b", steps=4, dataset=ds)
    assert_same_weights(tmp_path / "a", tmp_path / "b")
    other = tiny_config(model="dcgan", steps=2, attrs=())
    other.loss.pl_weight = 2.0
    assert "path-length" in plan_problem(other)


def test_noise_max_res_keeps_the_noise_out_of_the_finer_layers():
    """``noise_max_res`` 8 at 32 px: random noise in the 16 and 32 px layers would change the image from one call
    to the next (their strengths are set high here); with the limit only the 4 and 8 px layers may, and they are
    zeroed, so two calls give the same image. Without the limit the same G gives two different images. The state
    dict is the same either way, so a checkpoint loads into both."""
    def G_with(limit):
        torch.manual_seed(0)
        G = build_models(_config().replace(noise_max_res=limit))[0]
        with torch.no_grad():
            for m in G.modules():
                if isinstance(m, Noise):
                    m.strength.fill_(0.0 if m.const.shape[-1] <= 8 else 1.0)
        return G.eval()  # eval: no style mixing, so only the noise can differ between calls

    z = torch.randn(2, 16)
    limited, every = G_with(8), G_with(0)
    assert set(limited.state_dict()) == set(every.state_dict())
    with torch.no_grad():
        a, b = limited(z, noise="random"), limited(z, noise="random")
        c, d = every(z, noise="random"), every(z, noise="random")
    assert torch.equal(a, b)
    assert not torch.allclose(c, d, atol=1e-4)
    with pytest.raises(Exception, match="noise_max_res"):
        build_models(_config().replace(noise_max_res=12))


def test_new_runs_keep_the_noise_to_16_px_and_stored_runs_keep_every_layer():
    """New runs: noise only up to 16 px (the finer layers' noise left a speckle over every face); a stored config
    without the field was trained with noise everywhere and must keep it."""
    from faceforge.config import TrainConfig

    def noisy_resolutions(**changes):
        G = build_models(_config().replace(**changes))[0]
        return sorted({m.const.shape[-1] for m in G.modules() if isinstance(m, Noise) and m.active})

    assert TrainConfig().model.noise_max_res == 16
    assert noisy_resolutions(resolution=64, noise_max_res=TrainConfig().model.noise_max_res) == [4, 8, 16]
    assert noisy_resolutions(resolution=32, noise_max_res=0) == [4, 8, 16, 32]
    stored = TrainConfig().to_dict()
    del stored["model"]["noise_max_res"]
    assert TrainConfig.from_dict(stored, stored=True).model.noise_max_res == 0


def test_conditional_mapping_input_weighs_y_as_much_as_z():
    """The normalised y embedding carries z's weight in the mapping network's input (z_dim 16 against w_dim 32
    here, so unscaled it would weigh twice z); a stored run without ``y_like_z`` keeps the unscaled embedding."""
    from faceforge.config import TrainConfig

    def input_energies(y_like_z):
        torch.manual_seed(0)
        G = build_models(_config(n_attributes=2).replace(w_dim=32, y_like_z=y_like_z))[0]
        G.grow(10 ** 9)  # past the attributes' fade-in
        seen = []
        G.mapping.layers[0].register_forward_hook(lambda m, args, out: seen.append(args[0]))
        with torch.no_grad():
            G.mapping(torch.randn(4, 16), torch.tensor([[1.0, -1.0]] * 4))
        x = seen[0]
        return x[:, :16].pow(2).sum(1), x[:, 16:].pow(2).sum(1)

    z_part, y_part = input_energies(True)
    assert torch.allclose(y_part, z_part, rtol=1e-4)
    z_part, y_part = input_energies(False)
    assert torch.allclose(y_part, 2 * z_part, rtol=1e-4)
    stored = TrainConfig().to_dict()
    del stored["model"]["y_like_z"]
    assert TrainConfig.from_dict(stored, stored=True).model.y_like_z is False
