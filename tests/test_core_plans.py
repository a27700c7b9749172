"""The rules of a run, which the CLI and the GUI both follow (training/plans.py)."""
from faceforge.config import TrainConfig
from faceforge.training.plans import (CUSTOM, PRESETS, apply_preset, default_attributes, default_channels, fit_model,
                                      matching_preset, plan_problem, quick_look_config)


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
        assert out.schedule.steps == preset.steps and out.model.name == "cdcgan"
        assert matching_preset(out) == name  # the box names what the fields are
        out.schedule.steps += 1
        assert matching_preset(out) == CUSTOM
    assert cfg.schedule.steps == TrainConfig().schedule.steps  # the caller's config untouched


def test_defaults():
    assert default_attributes("builtin:faces") == ["*"] and default_attributes("/data/x") == []
    assert default_channels(32) == 32 and default_channels(64) == default_channels(128) == 64
    q = quick_look_config()
    assert q.data.source == "builtin:faces" and q.model.resolution == 32 and plan_problem(q) is None
