"""The rules of a run, in one place for the CLI and the GUI: which model fits the chosen attributes, the default
widths and attributes, the presets, and why a plan cannot start.

A preset sets the model and the schedule for the dataset the user chose; it never changes the data. See
docs/ARCHITECTURE.md.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from faceforge.config import BUILTIN_SOURCE, DataConfig, TrainConfig, is_builtin
from faceforge.models import available_models, capabilities, config_problem, model_for

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


def apply_model_defaults(config: TrainConfig) -> TrainConfig:
    """The objective, learning rates and conditioning the chosen model trains best with (its registry
    ``TrainingDefaults``, measured by bench/model_quality.py): called when a person picks a model, before their own
    choices of loss or learning rate are applied over it."""
    caps = capabilities(config.model.name)
    apply_loss(config, caps.defaults.loss)
    if config.model.conditioning not in caps.conditionings:
        config.model.conditioning = caps.conditionings[0]
    return config


def apply_loss(config: TrainConfig, loss: str) -> TrainConfig:
    """Train the plan's model with ``loss``, bringing the settings measured for that pair (the model's registry
    ``TrainingDefaults.for_loss``: ProGAN's WGAN-GP comes with the paper's learning rate, one D step and drift
    term). A loss not measured for the model keeps the learning rates and takes its usual D steps (5 for WGAN-GP,
    else 1); the drift term, which only a WGAN critic's unbounded scores need, is dropped. The CLI's --loss and the
    New-run dialog's loss box both come here; options given beside it still win."""
    config.loss.kind = loss
    measured = capabilities(config.model.name).defaults.for_loss(loss) \
        if config.model.name in available_models() else None
    if measured is None:
        if loss == "wgan-gp":
            config.loss.n_critic = 5
        else:
            config.loss.n_critic, config.loss.drift = 1, 0.0
        return config
    config.loss.n_critic, config.loss.drift, config.loss.r1_gamma = measured.n_critic, measured.drift, \
        measured.r1_gamma
    o = config.optim
    o.lr_g, o.lr_d, o.beta1, o.beta2 = measured.lr_g, measured.lr_d, measured.beta1, measured.beta2
    return config


def plan_problem(config: TrainConfig) -> str | None:
    """Why this plan cannot start, for a person; None when it can."""
    try:
        config.validate()
    except ValueError as exc:
        return str(exc)
    return config_problem(config.model, loss_kind=config.loss.kind, n_attributes=len(config.data.attributes),
                          path_length=config.loss.pl_weight > 0)


# ----------------------------------------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class Preset:
    """A model size and a schedule; applied to whatever dataset the user chose.

    ``model`` None keeps the model the plan already has (its family fitted to the attributes, dcgan <-> cdcgan); a
    named model brings its registry training defaults (loss, learning rates, betas, drift, conditioning). ``loss``
    None is the model's own default loss, so a preset never pairs a model with a loss it cannot train with."""

    resolution: int
    channels: int
    steps: int
    sample_every: int
    checkpoint_every: int
    device: str
    batch_size: int = 64
    loss: str | None = None
    model: str | None = None
    phase_images: int | None = None  # a progressive model's images per fade-in and per stable stretch

    def apply(self, cfg: TrainConfig) -> None:
        cfg.model.resolution = cfg.data.resolution = self.resolution
        cfg.model.g_channels = cfg.model.d_channels = self.channels
        if self.model is not None:
            cfg.model.name = self.model
            fit_model(cfg)
            apply_model_defaults(cfg)
        else:
            fit_model(cfg)
        defaults = capabilities(cfg.model.name).defaults if cfg.model.name in available_models() else None
        loss = self.loss or (defaults.loss if defaults else "bce")
        if loss != cfg.loss.kind:  # e.g. a kept ProGAN back from WGAN-GP: RaHinge's learning rates, no drift
            apply_loss(cfg, loss)
        cfg.loss.n_critic = defaults.n_critic if defaults and loss == defaults.loss else 1
        if self.phase_images is not None:
            cfg.model.phase_images = self.phase_images
        s = cfg.schedule
        s.steps, s.batch_size = self.steps, self.batch_size
        s.sample_every, s.checkpoint_every = self.sample_every, self.checkpoint_every
        cfg.perf.device = self.device


def growth_phases(resolution: int) -> int:
    """How many phases of ``phase_images`` a progressive model takes to reach ``resolution`` fully faded in: 4x4
    stable, then a fade-in and a stable stretch per doubling, less the last stable one (models/progan.py's
    schedule)."""
    return 2 * (max(resolution, 8).bit_length() - 3)


def phase_images_for(*, resolution: int, steps: int, batch_size: int, share: float = 0.6) -> int:
    """``phase_images`` that finishes growing to ``resolution`` within ``share`` of the run's images, so the rest of
    the run trains the full network."""
    return int(share * steps * batch_size / growth_phases(resolution))


_PROGAN_64 = dict(resolution=64, channels=64, steps=20000, sample_every=250, checkpoint_every=1000, device="auto",
                  batch_size=32)
PRESETS: dict[str, Preset] = {
    # minutes on a laptop CPU: 32 channels at 32 px are ~4x less work than 64, and the faces still form
    "Quick look, CPU, 32 px": Preset(resolution=32, channels=32, steps=2000, sample_every=100, checkpoint_every=500,
                                     device="cpu"),
    # the usual 64 px setup on aligned faces (CelebA-like crops), on any device
    "Faces 64 px (CelebA settings)": Preset(resolution=64, channels=64, steps=20000, sample_every=500,
                                            checkpoint_every=2000, device="auto"),
    # MSG-GAN sees every scale from the first step: a quick look shows the coarse scales settle within minutes
    "MSG-GAN quick look, CPU, 32 px": Preset(resolution=32, channels=32, steps=2000, sample_every=100,
                                             checkpoint_every=500, device="cpu", model="msggan"),
    # StyleGAN's W (truncation, style mixing) in minutes on a CPU; 32 px is its quick size
    "StyleGAN quick look, CPU, 32 px": Preset(resolution=32, channels=32, steps=2000, sample_every=100,
                                              checkpoint_every=500, device="cpu", model="stylegan"),
    "MSG-GAN, faces 64 px": Preset(resolution=64, channels=64, steps=20000, sample_every=250, checkpoint_every=1000,
                                   device="auto", batch_size=32, model="msggan"),
    # the growth to 64 px completes in the first 60% of the images; the rest trains the whole network
    "ProGAN, faces 64 px": Preset(**_PROGAN_64, model="progan",
                                  phase_images=phase_images_for(resolution=64, steps=_PROGAN_64["steps"],
                                                                batch_size=_PROGAN_64["batch_size"])),
}
CUSTOM = "Custom"


def apply_preset(name: str, config: TrainConfig) -> TrainConfig:
    """A copy of ``config`` with the preset's model size and schedule (and model, if it names one); the data and
    attributes are kept."""
    cfg = copy.deepcopy(config)
    PRESETS[name].apply(cfg)
    return cfg


def matching_preset(config: TrainConfig) -> str:
    """The preset whose settings ``config`` has (so the New-run dialog's box says what the fields say), else
    "Custom". Presets that name a model are tried first: an MSG-GAN plan with the quick-look schedule is the
    MSG-GAN quick look, not the generic one kept on MSG-GAN."""
    def settings(cfg: TrainConfig) -> tuple:
        return (cfg.model.name, cfg.model.resolution, cfg.model.g_channels, cfg.model.d_channels, cfg.loss.kind,
                cfg.loss.n_critic, cfg.model.phase_images, cfg.schedule.steps, cfg.schedule.batch_size,
                cfg.schedule.sample_every, cfg.schedule.checkpoint_every, cfg.perf.device)

    for name in sorted(PRESETS, key=lambda n: PRESETS[n].model is None):
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
