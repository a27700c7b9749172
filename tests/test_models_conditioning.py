"""Where cdcgan's attributes enter (ModelConfig.conditioning): every placement builds, uses y, and learns to obey
it; "input" keeps today's parameters; the registry refuses a placement it does not know; the auxiliary-classifier
loss follows each column's kind and never reaches G on the D step.

The learning tests train on planted rules (y0: which half is bright, top or bottom; y1: left or right) with a local
copy of the training step, written the way faceforge/training/loop.py calls conditioning_loss.
"""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faceforge.config import ConfigError, ModelConfig, TrainConfig
from faceforge.models import build_generator, build_models, capabilities, config_problem, registry
from faceforge.models.conditioning import CONDITIONINGS, ConditionalBatchNorm2d
from faceforge.training import losses
from faceforge.training.conditioning_loss import auxiliary_loss, discriminate, label_kinds

Z = 8


def tiny(conditioning: str, *, res: int = 32, n_attr: int = 2) -> ModelConfig:
    return ModelConfig(name="cdcgan", resolution=res, z_dim=Z, n_attributes=n_attr, g_channels=8, d_channels=8,
                       conditioning=conditioning)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny layers: threads only add contention on a shared machine
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------------------------------------ building
@pytest.mark.parametrize("res", [32, 64])
@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_each_placement_builds_with_the_right_shapes(conditioning, res):
    torch.manual_seed(0)
    G, D = build_models(tiny(conditioning, res=res, n_attr=3))
    z, y = torch.randn(4, Z), torch.randn(4, 3)
    x = G(z, y)
    assert x.shape == (4, 3, res, res)
    assert D(x, y).shape == (4,)
    logit, aux = D(x, y, with_aux=True)
    assert logit.shape == (4,)
    assert (aux.shape == (4, 3)) if conditioning == "acgan" else aux is None


@pytest.mark.parametrize("conditioning", ["input", "projection", "acgan"])
def test_generator_output_changes_with_y(conditioning):
    torch.manual_seed(0)
    G = build_generator(tiny(conditioning)).eval()
    z = torch.randn(4, Z)
    assert not torch.allclose(G(z, torch.ones(4, 2)), G(z, -torch.ones(4, 2)), atol=1e-4)


def test_conditional_batchnorm_starts_as_plain_batchnorm_and_then_follows_y():
    torch.manual_seed(0)
    G = build_generator(tiny("cbn")).eval()
    z = torch.randn(4, Z)
    cbns = [m for m in G.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(cbns) == 3 and G.main[0].in_channels == Z  # every BatchNorm is conditional; y is not at the input
    assert torch.equal(G(z, torch.ones(4, 2)), G(z, -torch.ones(4, 2)))  # identity in y at initialisation
    with torch.no_grad():
        for m in cbns:
            m.gain.weight.normal_(0, 0.1)
            m.shift.weight.normal_(0, 0.1)
    assert not torch.allclose(G(z, torch.ones(4, 2)), G(z, -torch.ones(4, 2)), atol=1e-4)


def test_the_fast_slider_renderer_draws_a_conditional_batchnorm_generator_exactly():
    from faceforge.editing.edits import FastRenderer  # it folds plain BatchNorm into the convolutions
    from faceforge.models.sampling import generate

    torch.manual_seed(0)
    G = build_generator(tiny("cbn"))
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.gain.weight.normal_(0, 0.3)
                m.shift.weight.normal_(0, 0.3)
                m.bn.running_mean.normal_(0, 0.1)
    z, y = torch.randn(3, Z), torch.randn(3, 2)
    assert np.abs(FastRenderer(G)(z, y).astype(int) - generate(G, z, y).astype(int)).max() <= 1


@pytest.mark.parametrize("conditioning", ["input", "projection", "cbn"])
def test_discriminator_output_depends_on_y(conditioning):
    torch.manual_seed(0)
    _, D = build_models(tiny(conditioning))
    D.eval()
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert not torch.allclose(D(x, torch.ones(4, 2)), D(x, -torch.ones(4, 2)), atol=1e-6)


def test_acgan_discriminator_judges_without_y_and_its_loss_depends_on_y():
    torch.manual_seed(0)
    _, D = build_models(tiny("acgan"))
    D.eval()
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    ones = torch.ones(4, 2)
    assert torch.equal(D(x, ones), D(x, -ones))  # Odena's D: realness from the image alone
    _, aux = discriminate(D, x, ones)
    assert auxiliary_loss(aux, ones).item() != pytest.approx(auxiliary_loss(aux, -ones).item(), abs=1e-6)


# ------------------------------------------------------------------------------------- today's runs still load
# The state_dict layout of cdcgan and dcgan before ModelConfig.conditioning existed (tiny sizes, 2 attributes):
# checkpoints of every earlier run have exactly these keys and shapes.
_BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
_OLD_G = {"main.0.weight": (Z + 2, 32, 4, 4), "main.3.weight": (32, 16, 4, 4), "main.6.weight": (16, 8, 4, 4),
          "main.9.weight": (8, 3, 4, 4),
          **{f"main.{i}.{p}": () if p == "num_batches_tracked" else (c,)
             for i, c in ((1, 32), (4, 16), (7, 8)) for p in _BN}}
_OLD_D = {"first.weight": (8, 3 + 2, 4, 4), "body.1.weight": (16, 8, 4, 4), "body.4.weight": (32, 16, 4, 4),
          "head.weight": (1, 32, 4, 4),
          **{f"body.{i}.{p}": () if p == "num_batches_tracked" else (c,) for i, c in ((2, 16), (5, 32)) for p in _BN}}


def _layout(module: torch.nn.Module) -> dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_input_placement_keeps_the_parameters_of_earlier_runs():
    G, D = build_models(tiny("input"))
    assert _layout(G) == _OLD_G and _layout(D) == _OLD_D
    # a model saved and built again from its config gives the same images and logits
    torch.manual_seed(1)
    G2, D2 = build_models(tiny("input"))
    for src, dst in ((G, G2), (D, D2)):
        buffer = io.BytesIO()
        torch.save(src.state_dict(), buffer)
        buffer.seek(0)
        dst.load_state_dict(torch.load(buffer))
    z, y = torch.randn(4, Z), torch.randn(4, 2)
    G.eval(), G2.eval(), D.eval(), D2.eval()
    assert torch.equal(G(z, y), G2(z, y)) and torch.equal(D(G(z, y), y), D2(G(z, y), y))
    assert ModelConfig.from_dict({"name": "cdcgan"}).conditioning == "input"  # an old config.json


_OLD_RUN = Path(__file__).parent / "data" / "old-run" / "runs"


@pytest.mark.skipif(not any(_OLD_RUN.glob("*/checkpoints/*.pt")), reason="the old-run fixture is not here")
def test_the_old_run_fixture_loads_into_todays_models():
    from faceforge.checkpoints import load_checkpoint

    for path in _OLD_RUN.glob("*/checkpoints/*.pt"):
        state = load_checkpoint(path)
        config = TrainConfig.from_json(state["config"])
        G, D = build_models(config.model)
        G.load_state_dict(state["G_ema"])
        D.load_state_dict(state["D"])


# ------------------------------------------------------------------------------------------------- registry
def test_registry_names_the_placements_and_refuses_unknown_ones():
    assert capabilities("cdcgan").conditionings == CONDITIONINGS
    assert capabilities("dcgan").conditionings == ("input",)  # the default: one way, the model's own
    for name in CONDITIONINGS:
        assert config_problem(tiny(name), loss_kind="bce", n_attributes=2) is None
    problem = config_problem(tiny("film"), loss_kind="bce", n_attributes=2)
    assert problem and "'film'" in problem and all(name in problem for name in CONDITIONINGS)
    # an unconditional model ignores the placement: clearing the attributes must not make a config invalid
    assert config_problem(ModelConfig(name="dcgan", conditioning="cbn"), loss_kind="bce", n_attributes=0) is None
    with pytest.raises(ConfigError, match="film"):
        build_models(tiny("film"))


def test_config_problem_refuses_a_placement_the_model_lacks():
    spec = registry._SPECS["cdcgan"]
    registry.register("toy-cgan", dataclasses.replace(
        spec, capabilities=dataclasses.replace(spec.capabilities, conditionings=("input",))))
    try:
        config = dataclasses.replace(tiny("projection"), name="toy-cgan")
        assert config_problem(config, loss_kind="bce", n_attributes=2) == (
            "toy-cgan conditions on attributes as input, not 'projection'")
        supported = dataclasses.replace(config, conditioning="input")
        assert config_problem(supported, loss_kind="bce", n_attributes=2) is None
    finally:
        registry.unregister("toy-cgan")


# --------------------------------------------------------------------------------------- auxiliary classifier
def test_auxiliary_loss_uses_bce_for_binary_and_squared_error_for_continuous_columns():
    pred = torch.tensor([[0.3, 1.5], [-2.0, -0.5]])
    y = torch.tensor([[1.0, 0.7], [-1.0, -1.2]])
    bce = F.binary_cross_entropy_with_logits(pred[:, 0], (y[:, 0] + 1) / 2, reduction="none")
    squared = (pred[:, 1] - y[:, 1]) ** 2
    expected = torch.cat([bce, squared]).mean()
    assert auxiliary_loss(pred, y, ("binary", "continuous")).item() == pytest.approx(expected.item(), rel=1e-6)
    all_binary = F.binary_cross_entropy_with_logits(pred, ((y + 1) / 2).clamp(0, 1))
    assert auxiliary_loss(pred, y).item() == pytest.approx(all_binary.item(), rel=1e-6)
    with pytest.raises(ValueError, match="2 attribute columns"):
        auxiliary_loss(pred, y, ("binary",))
    scales = {"Age": {"kind": "continuous", "mean": 40.0, "std": 12.0}, "Male": {"kind": "binary"}}
    assert label_kinds(["Male", "Age", "Smiling"], scales) == ("binary", "continuous", "binary")
    assert label_kinds(["Male"], None) == ("binary",)


def d_step(G, D, opt_d, real, y, z, kinds=None) -> torch.Tensor:
    """The discriminator half of Trainer.train_step with the conditioning_loss lines in it."""
    fake = G(z, y)
    out_real, aux_real = discriminate(D, real, y)
    out_fake = D(fake.detach(), y)
    loss_d = losses.d_loss("bce", out_real, out_fake)
    if aux_real is not None:
        loss_d = loss_d + auxiliary_loss(aux_real, y, kinds)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    return fake


def g_step(G, D, opt_g, fake, y, kinds=None) -> None:
    D.requires_grad_(False)
    out_g, aux_g = discriminate(D, fake, y)
    loss_g = losses.g_loss("bce", out_g)
    if aux_g is not None:
        loss_g = loss_g + auxiliary_loss(aux_g, y, kinds)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    D.requires_grad_(True)


def test_acgan_auxiliary_loss_gives_g_no_gradient_on_the_d_step():
    torch.manual_seed(0)
    G, D = build_models(tiny("acgan"))
    opt_d = torch.optim.SGD(D.parameters(), lr=0.0)
    y = torch.ones(4, 2)
    d_step(G, D, opt_d, torch.rand(4, 3, 32, 32) * 2 - 1, y, torch.randn(4, Z))
    assert all(p.grad is None for p in G.parameters())
    assert D.aux_head.weight.grad is not None and D.aux_head.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------------------------ learning the rule
def planted(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two rules: y0 = +1 brightens the top half (-1 the bottom), y1 = +1 the left half (-1 the right); a little
    brightness jitter and pixel noise. Two rules, so that a G which merely uses y as a random switch between the
    modes of the data (which an unconditional D would also allow) obeys both by luck at most 1 time in 8."""
    y = torch.randint(0, 2, (n, 2), generator=gen).float() * 2 - 1
    rows = torch.where(torch.arange(32) < 16, 1.0, -1.0)
    x = 0.4 * y[:, 0, None, None] * rows[:, None] + 0.4 * y[:, 1, None, None] * rows[None, :]
    x = x[:, None].repeat(1, 3, 1, 1)
    x += 0.2 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) + 0.05 * torch.randn(x.shape, generator=gen)
    return x.clamp(-1, 1), y


def obeys(G, column: int, z: torch.Tensor, others: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per face, (first half - second half) of the axis ``column`` rules, with y[column] forced to +1 and to -1."""
    dims = (1, 2, 3)
    out = []
    G.eval()
    for sign in (1.0, -1.0):
        y = others.clone()
        y[:, column] = sign
        with torch.no_grad():
            img = G(z, y)
        half = img[:, :, :16] if column == 0 else img[:, :, :, :16]
        rest = img[:, :, 16:] if column == 0 else img[:, :, :, 16:]
        out.append(half.mean(dims) - rest.mean(dims))
    G.train()
    return out[0], out[1]


# cbn's y-weights start at zero and wait for D's projection to ask for y, and y acts only through per-channel scales
# and shifts, so G needs channels to spare: with 8 of them it often learned one rule and drew the other from z
# (measured on AMD EPYC Genoa, 1 thread: 3 of 8 seed/loss runs obeyed both by 500 steps); with 16, seeds 0-3 all
# obeyed both on every face by 300 steps.
@pytest.mark.parametrize("conditioning,steps,g_channels", [("projection", 120, 8), ("acgan", 120, 8), ("cbn", 300, 16)])
def test_generator_learns_to_obey_y(conditioning, steps, g_channels):
    torch.manual_seed(0)
    G, D = build_models(dataclasses.replace(tiny(conditioning), g_channels=g_channels))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        real, y = planted(16, gen)
        fake = d_step(G, D, opt_d, real, y, torch.randn(16, Z, generator=gen))
        g_step(G, D, opt_g, fake, y)
    check = torch.Generator().manual_seed(99)
    z, others = torch.randn(64, Z, generator=check), planted(64, check)[1]
    for column in (0, 1):
        up, down = obeys(G, column, z, others)
        assert (up > 0).float().mean() >= 0.9 and (down < 0).float().mean() >= 0.9, (column, up, down)
        assert (up - down).mean() > 0.2, (column, up, down)


@pytest.mark.parametrize("placement", ["input", "projection", "acgan", "cbn"])
def test_each_placement_trains_through_the_trainer_and_responds_to_y(placement, tmp_path):
    from faceforge.editing.generator import LoadedGenerator
    from faceforge.training import start_run
    from helpers import random_dataset, tiny_config

    cfg = tiny_config(steps=4)
    cfg.model.conditioning = placement
    result = start_run(cfg, run_dir=tmp_path / "run", dataset=random_dataset())
    assert result.state == "finished" and result.config.model.conditioning == placement
    rows = [r for r in result_stats(tmp_path / "run") if "loss_g" in r]
    assert rows and all(np.isfinite(r["loss_g"]) and np.isfinite(r["loss_d"]) for r in rows)
    gen = LoadedGenerator.from_run(tmp_path / "run")
    on, z, _ = gen.sample(n=4, seed=1, settings={"attr0": 2.0})
    off = gen.images(z, gen.make_y(4, {"attr0": -2.0}))
    assert not np.array_equal(on, off)


def result_stats(run_dir):
    from faceforge.runs import Run

    return list(Run(run_dir).stats())
