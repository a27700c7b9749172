"""The rules of a run, in one place for the CLI and the GUI: which model fits the chosen attributes, the default
widths and attributes, the presets, and why a plan cannot start.

A preset sets the model and the schedule for the dataset the user chose; it never changes the data. See
docs/ARCHITECTURE.md.
"""
from __future__ import annotations

import copy
from typing import Callable

from faceforge.config import BUILTIN_SOURCE, DataConfig, TrainConfig, is_builtin
from faceforge.models import available_models, config_problem, model_for

#: what the Dataset pane proposes to condition on when a CelebA-style label file is opened
CELEBA_DEFAULT_ATTRIBUTES = ("Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair", "Black_Hair", "Bald",
                             "Mouth_Slightly_Open", "Wearing_Hat", "Mustache")
DEFAULT_MODEL = "cdcgan"  # with attributes; model_for() turns it into its unconditional twin without


def default_channels(resolution: int) -> int:
    """DCGAN's ngf/ndf: 32 at 32 px (about 4x less work than 64, the faces still form), else 64."""
    return 32 if resolution <= 32 else 64


def default_attributes(source: str) -> list[str]:
    """All of the built-in faces' attributes (their renderer knows them exactly); none for a user's data until the
    user picks them."""
    return ["*"] if is_builtin(source) else []


def fit_model(config: TrainConfig, *, requested: str | None = None) -> TrainConfig:
    """Set ``config.model.name`` to the model of the requested (or current) family that fits the attributes."""
    name = requested or config.model.name or DEFAULT_MODEL
    config.model.name = model_for(name, n_attributes=len(config.data.attributes)) if name in available_models() \
        else name
    return config


def plan_problem(config: TrainConfig) -> str | None:
    """Why this plan cannot start, for a person; None when it can."""
    try:
        config.validate()
    except ValueError as exc:
        return str(exc)
    return config_problem(config.model, loss_kind=config.loss.kind, n_attributes=len(config.data.attributes))


# ----------------------------------------------------------------------------------------------------------- presets
def _quick_look(cfg: TrainConfig) -> None:
    """Minutes on a laptop CPU: 32 px, 32 channels, 2,000 steps."""
    cfg.model.resolution = cfg.data.resolution = 32
    cfg.model.g_channels = cfg.model.d_channels = 32
    cfg.loss.kind, cfg.loss.n_critic = "bce", 1
    s = cfg.schedule
    s.steps, s.batch_size, s.sample_every, s.checkpoint_every = 2000, 64, 100, 500
    cfg.perf.device = "cpu"


def _faces_64(cfg: TrainConfig) -> None:
    """The usual 64 px setup on aligned faces (CelebA-like crops): 20,000 steps, any device."""
    cfg.model.resolution = cfg.data.resolution = 64
    cfg.model.g_channels = cfg.model.d_channels = 64
    cfg.loss.kind, cfg.loss.n_critic = "bce", 1
    s = cfg.schedule
    s.steps, s.batch_size, s.sample_every, s.checkpoint_every = 20000, 64, 500, 2000
    cfg.perf.device = "auto"


PRESETS: dict[str, Callable[[TrainConfig], None]] = {
    "Quick look, CPU, 32 px": _quick_look,
    "Faces 64 px (CelebA settings)": _faces_64,
}
CUSTOM = "Custom"


def apply_preset(name: str, config: TrainConfig) -> TrainConfig:
    """A copy of ``config`` with the preset's model size and schedule; the data and attributes are kept."""
    cfg = copy.deepcopy(config)
    PRESETS[name](cfg)
    return fit_model(cfg)


def matching_preset(config: TrainConfig) -> str:
    """The preset whose settings ``config`` has (so the New-run dialog's box says what the fields say), else
    "Custom"."""
    def settings(cfg: TrainConfig) -> tuple:
        return (cfg.model.resolution, cfg.model.g_channels, cfg.model.d_channels, cfg.loss.kind, cfg.loss.n_critic,
                cfg.schedule.steps, cfg.schedule.batch_size, cfg.schedule.sample_every,
                cfg.schedule.checkpoint_every, cfg.perf.device)

    for name in PRESETS:
        if settings(apply_preset(name, config)) == settings(config):
            return name
    return CUSTOM


def quick_look_config() -> TrainConfig:
    """The app's first-launch plan: the built-in faces with all their attributes, the quick-look preset."""
    from faceforge.data.synthetic import BUILTIN_ATTRIBUTES

    cfg = TrainConfig(name="quick-look")
    cfg.data = DataConfig(source=BUILTIN_SOURCE, attributes=list(BUILTIN_ATTRIBUTES))
    cfg.model.name = DEFAULT_MODEL
    return apply_preset("Quick look, CPU, 32 px", cfg)
