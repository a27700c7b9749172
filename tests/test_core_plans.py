"""The rules of a run, which the CLI and the GUI both follow (training/plans.py)."""
from faceforge.config import TrainConfig
from faceforge.models import capabilities
from faceforge.training.plans import (CUSTOM, PRESETS, apply_loss, apply_model_defaults, apply_preset,
                                      default_attributes, default_channels, fit_model, growth_phases, matching_preset,
                                      plan_problem, quick_look_config)


def test_choosing_attributes_picks_the_conditional_twin_and_clearing_them_the_unconditional():
    cfg = TrainConfig()
    cfg.data.attributes = ["Smiling"]
    assert fit_model(cfg, requested="dcgan").model.name == "cdcgan"
    cfg.data.attributes = []
    assert fit_model(cfg).model.name == "dcgan"
    assert plan_problem(cfg) is None


def test_a_plan_that_cannot_start_says_why():
    cfg = TrainConfig()
    cfg.model.name, cfg.data.attributes = "cdcgan", []
    assert "choose at least one attribute" in plan_problem(cfg) and "dcgan" in plan_problem(cfg)
    cfg.model.name = "no-such-model"
    assert "unknown model" in plan_problem(cfg)
    cfg.model.name, cfg.model.resolution = "dcgan", 48
    assert "resolution" in plan_problem(cfg)


def test_a_preset_sets_size_and_schedule_but_never_the_data():
    cfg = TrainConfig()
    cfg.data.source, cfg.data.labels, cfg.data.attributes = "/data/celeba/images", "/data/celeba/a.txt", ["Male"]
    for name, preset in PRESETS.items():
        out = apply_preset(name, cfg)
        assert (out.data.source, out.data.labels, out.data.attributes) == (cfg.data.source, cfg.data.labels, ["Male"])
        assert out.model.resolution == out.data.resolution == preset.resolution
        assert out.schedule.steps == preset.steps and out.model.name == (preset.model or "cdcgan")
        assert matching_preset(out) == name  # the box names what the fields are
        out.schedule.steps += 1
        assert matching_preset(out) == CUSTOM
    assert cfg.schedule.steps == TrainConfig().schedule.steps  # the caller's config untouched


def test_defaults():
    assert default_attributes("builtin:faces") == ["*"] and default_attributes("/data/x") == []
    assert default_channels(32) == 32 and default_channels(64) == default_channels(128) == 64
    q = quick_look_config()
    assert q.data.source == "builtin:faces" and q.model.resolution == 32 and plan_problem(q) is None


def test_a_model_preset_brings_the_models_defaults_and_a_loss_it_trains_with():
    cfg = TrainConfig()
    cfg.data.attributes = ["Male"]
    named = {name: p for name, p in PRESETS.items() if p.model is not None}
    assert {p.model for p in named.values()} >= {"msggan", "progan"}
    for name, preset in named.items():
        out = apply_preset(name, cfg)
        d = capabilities(preset.model).defaults
        assert out.model.name == preset.model  # "optional" conditioning: attributes keep the model itself
        assert (out.loss.kind, out.loss.n_critic, out.loss.drift) == (d.loss, d.n_critic, d.drift)
        assert (out.optim.lr_g, out.optim.lr_d, out.optim.beta1) == (d.lr_g, d.lr_d, d.beta1)
        assert out.model.conditioning in capabilities(preset.model).conditionings
        assert plan_problem(out) is None, name
        # a preset without a model, chosen now, keeps this model and gives it a loss it trains with
        for generic in (n for n, p in PRESETS.items() if p.model is None):
            kept = apply_preset(generic, out)
            assert kept.model.name == preset.model and plan_problem(kept) is None, generic
            assert matching_preset(kept) != CUSTOM  # the generic one, or the model's own with that schedule


def test_a_generic_preset_puts_a_kept_model_back_on_its_own_loss_with_that_losss_settings():
    """ProGAN on WGAN-GP (the paper's lr 0.003 and drift term), then a generic preset: back on RaHinge, with RaHinge's
    learning rates and no drift (it used to keep WGAN-GP's)."""
    cfg = apply_loss(apply_preset("ProGAN, faces 64 px", TrainConfig()), "wgan-gp")
    assert cfg.loss.drift > 0
    kept = apply_preset("Faces 64 px (CelebA settings)", cfg)
    d = capabilities("progan").defaults
    assert kept.model.name == "progan" and kept.loss.kind == d.loss
    assert (kept.loss.drift, kept.optim.lr_g, kept.optim.lr_d) == (d.drift, d.lr_g, d.lr_d)


def test_a_model_preset_is_named_before_the_generic_one_with_the_same_schedule():
    quick = apply_preset("MSG-GAN quick look, CPU, 32 px", TrainConfig())
    assert matching_preset(quick) == "MSG-GAN quick look, CPU, 32 px"
    quick.loss.kind = "hinge"  # a loss the model can train with, but not its own
    assert matching_preset(quick) == CUSTOM


def test_the_progan_preset_finishes_growing_in_the_first_60_percent_of_the_run():
    preset = PRESETS["ProGAN, faces 64 px"]
    assert growth_phases(64) == 8 and growth_phases(32) == 6  # 4 stable, then fade + stable per doubling, less one
    images = preset.steps * preset.batch_size * capabilities("progan").defaults.n_critic
    grown = growth_phases(preset.resolution) * preset.phase_images
    assert 0.5 * images <= grown <= 0.6 * images
    out = apply_preset("ProGAN, faces 64 px", TrainConfig())
    assert out.model.phase_images == preset.phase_images
    out.model.phase_images += 1
    assert matching_preset(out) == CUSTOM


def test_choosing_a_model_applies_its_training_defaults():
    cfg = TrainConfig()
    cfg.model.name, cfg.model.conditioning = "progan", "acgan"
    apply_model_defaults(cfg)
    d = capabilities("progan").defaults
    assert (cfg.loss.kind, cfg.optim.lr_g, cfg.loss.drift) == (d.loss, d.lr_g, d.drift)
    assert cfg.model.conditioning == capabilities("progan").conditionings[0]


def test_a_loss_brings_the_settings_measured_for_it_with_that_model():
    """ProGAN trains best with RaHinge; choosing the paper's WGAN-GP brings the paper's lr, one D step and drift,
    and choosing RaHinge again takes them back. A loss not measured for a model keeps its learning rates."""
    cfg = TrainConfig()
    cfg.model.name = "progan"
    apply_model_defaults(cfg)
    assert (cfg.loss.kind, cfg.optim.lr_g, cfg.loss.drift) == ("rahinge", 0.006, 0.0)
    apply_loss(cfg, "wgan-gp")
    assert (cfg.loss.n_critic, cfg.optim.lr_g, cfg.optim.lr_d, cfg.loss.drift) == (1, 0.003, 0.003, 0.001)
    apply_loss(cfg, "rahinge")
    assert (cfg.loss.n_critic, cfg.optim.lr_g, cfg.loss.drift) == (1, 0.006, 0.0)
    apply_loss(cfg, "hinge")  # not measured with ProGAN: the learning rates stay
    assert (cfg.loss.kind, cfg.loss.n_critic, cfg.optim.lr_g) == ("hinge", 1, 0.006)
    apply_loss(cfg, "wgan-gp")
    apply_loss(cfg, "hinge")  # from the paper's WGAN-GP: its drift term does not come along to a hinge loss
    assert (cfg.loss.kind, cfg.loss.drift, cfg.optim.lr_g) == ("hinge", 0.0, 0.003)
    dc = apply_model_defaults(TrainConfig())
    apply_loss(dc, "wgan-gp")  # WGAN-GP's usual five D steps where nothing was measured
    assert (dc.loss.n_critic, dc.optim.lr_g) == (5, 2e-4)
