"""The models FaceForge can train, and what each can do.

Adding a model is one module in ``faceforge/models/`` plus one :func:`register` call here (and its tests). Nothing
outside ``faceforge/models/`` tests a model's name: the training loop, the speed choices, the New-run dialog, the
CLI's ``--model`` and the Edit pane read the :class:`Capabilities` below. See docs/ARCHITECTURE.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads when a model is built, not when the window reads what models exist
    from torch import nn

from faceforge.config import ConfigError, ModelConfig
from faceforge.config import CONDITIONINGS

LOSSES = ("bce", "wgan-gp", "hinge")


@dataclass(frozen=True)
class TrainingDefaults:
    """The objective and optimiser a model trains best with (measured: bench/model_quality.py); a new run of the
    model starts from these (training/plans.py, apply_model_defaults) and the user can still change any."""

    loss: str = "bce"
    n_critic: int = 1
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    drift: float = 0.0  # ProGAN's drift term for a WGAN critic
    r1_gamma: float = 0.0  # R1 on reals (negative: that many times StyleGAN 2's 0.0002 * res^2 / batch)
    # the settings measured for the same model with its other losses, one TrainingDefaults each: choosing one of
    # those losses brings them along (training/plans.py, apply_loss)
    other_losses: tuple["TrainingDefaults", ...] = ()

    def for_loss(self, loss: str) -> "TrainingDefaults | None":
        """The measured settings for ``loss`` (these, or one of ``other_losses``); None when it was not measured."""
        return next((d for d in (self, *self.other_losses) if d.loss == loss), None)


@dataclass(frozen=True)
class Capabilities:
    """What a model can do; read by everything above the models instead of its name."""

    description: str  # one line, for --help and the New-run dialog
    # "never": takes no attributes; "required": needs at least one; "optional": conditional when attributes are given
    conditioning: str = "never"
    # the same family's model for the other case ("cdcgan" <-> "dcgan"), so choosing attributes picks the right one
    twin: str | None = None
    # where a conditional model can feed its attributes (ModelConfig.conditioning; models/conditioning.py); a model
    # that names none has one way, its own, under the name of the default
    conditionings: tuple[str, ...] = ("input",)
    resolutions: tuple[int, ...] = (32, 64, 128)
    losses: tuple[str, ...] = LOSSES
    w_space: bool = False  # has an intermediate latent W (truncation towards w_avg, style mixing)
    style_layers: int = 0  # how many per-layer styles W+ has (0 without W)
    gemm_conv: bool = False  # its 4x4 stride-2 convolutions can take the im2col + GEMM form (models/gemm_conv.py)
    # D mixes the samples of a batch with BatchNorm (per-sample gradient penalties and multi-process training care);
    # with WGAN-GP such a model switches D to layer norm (see resolve_d_norm)
    batchnorm_d: bool = False
    minibatch_stddev: bool = False  # D couples samples through minibatch standard deviation (group size matters)
    eval_sampling: bool = True  # sample with G in eval mode (BatchNorm running statistics)
    # trains through a schedule of growing resolutions: G and D have ``grow(images_seen)`` (the stage is kept in
    # their buffers, so checkpoints and G_ema carry it), ``stage() -> {"res": .., "alpha": ..}`` for the stats, G has
    # ``updates_per_step(batch)``: how many updates a step's batch is taken as at its stage (training/step.py), and
    # D has ``blend_reals(x)``: the real batch as D should see it in a fade-in
    progressive: bool = False
    # G and D have ``grow(images_seen)``, called before every training step: their form follows the images seen
    # (a progressive model's stage; a conditional StyleGAN's attribute fade-in), kept in persistent buffers
    follows_images: bool = False
    # G emits an image at every scale: ``G(z, y, scales=True)`` is a list from 4 px up to the final size, and D
    # takes such a list (or one image, which it pools down to each scale itself)
    multiscale: bool = False
    defaults: TrainingDefaults = TrainingDefaults()

    def __post_init__(self) -> None:
        if self.progressive:  # growing is following the images seen
            object.__setattr__(self, "follows_images", True)

    def conditional(self, n_attributes: int) -> bool:
        return self.conditioning == "required" or (self.conditioning == "optional" and n_attributes > 0)


@dataclass(frozen=True)
class ModelSpec:
    """How to build one architecture's two networks; separately, so sampling and editing build only G."""

    capabilities: Capabilities
    generator: Callable[[ModelConfig], nn.Module]
    discriminator: Callable[[ModelConfig, str], nn.Module]  # (config, d_norm)
    check: Callable[[ModelConfig], None] = field(default=lambda config: None)  # ConfigError for a config it can't build


_SPECS: dict[str, ModelSpec] = {}


def register(name: str, spec: ModelSpec) -> None:
    _SPECS[name] = spec


def unregister(name: str) -> None:
    """For tests that register a toy model."""
    _SPECS.pop(name, None)


def available_models() -> dict[str, str]:
    """Model name -> one-line description, for --help and the New-run dialog."""
    return {name: spec.capabilities.description for name, spec in _SPECS.items()}


def capabilities(name: str) -> Capabilities:
    try:
        return _SPECS[name].capabilities
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(sorted(_SPECS))}") from None


def model_for(name: str, *, n_attributes: int) -> str:
    """The model of ``name``'s family that fits ``n_attributes``: choosing attributes turns dcgan into cdcgan and
    clearing them turns it back; a model that takes attributes optionally stays itself."""
    caps = capabilities(name)
    wants = n_attributes > 0
    fits = caps.conditioning == "optional" or (caps.conditioning == "required") == wants
    return caps.twin if not fits and caps.twin else name


def attributes_used(name: str, n_attributes: int) -> int:
    """How many attributes the model is conditioned on, given how many the data offers."""
    return n_attributes if capabilities(name).conditional(n_attributes) else 0


def config_problem(config: ModelConfig, *, loss_kind: str, n_attributes: int, path_length: bool = False) -> str | None:
    """Why this model cannot train as configured, in words for a person; None when it can."""
    if config.name not in _SPECS:
        return f"unknown model {config.name!r}; available: {', '.join(sorted(_SPECS))}"
    caps = _SPECS[config.name].capabilities
    if caps.conditioning == "required" and n_attributes < 1:
        twin = f", or use the {caps.twin} model" if caps.twin else ""
        return f"the {config.name} model is conditional: choose at least one attribute to condition on{twin}"
    known = dict.fromkeys(("input", *(c for spec in _SPECS.values() for c in spec.capabilities.conditionings)))
    if config.conditioning not in known:
        return f"unknown conditioning {config.conditioning!r}; the models know {', '.join(known)}"
    if caps.conditional(n_attributes) and config.conditioning not in caps.conditionings:
        return (f"{config.name} conditions on attributes as {', '.join(caps.conditionings)}, "
                f"not {config.conditioning!r}")
    if config.resolution not in caps.resolutions:
        return f"{config.name} trains at {', '.join(map(str, caps.resolutions))} px, not {config.resolution}"
    if loss_kind not in caps.losses:
        return f"{config.name} trains with the {', '.join(caps.losses)} losses, not {loss_kind}"
    if path_length and not caps.w_space:
        return f"path-length regularisation (loss.pl_weight) needs a model with W; {config.name} has none"
    return None


def resolve_d_norm(config: ModelConfig, loss_kind: str) -> str:
    """BatchNorm couples samples in a batch, which breaks WGAN-GP's per-sample gradient penalty; use layer norm
    there, as the WGAN-GP paper recommends."""
    if config.d_norm != "auto":
        return config.d_norm
    if not capabilities(config.name).batchnorm_d:
        return "none"
    return "layer" if loss_kind == "wgan-gp" else "batch"


def couples_batch(config: ModelConfig, *, loss_kind: str) -> bool:
    """Does D's output for one sample depend on the others in its batch (BatchNorm or minibatch stddev)?"""
    caps = capabilities(config.name)
    return caps.minibatch_stddev or resolve_d_norm(config, loss_kind) == "batch"


def _spec(config: ModelConfig) -> ModelSpec:
    capabilities(config.name)  # raises for an unknown name
    spec = _SPECS[config.name]
    spec.check(config)
    return spec


def build_models(config: ModelConfig, *, loss_kind: str = "bce") -> tuple[nn.Module, nn.Module]:
    spec = _spec(config)
    return spec.generator(config), spec.discriminator(config, resolve_d_norm(config, loss_kind))


def build_generator(config: ModelConfig) -> nn.Module:
    """Only G, for sampling and editing."""
    return _spec(config).generator(config)


# ------------------------------------------------------------------------------------------------------- DCGAN
def _dcgan_generator(config: ModelConfig) -> nn.Module:
    from faceforge.models.dcgan import Generator

    return Generator(config)


def _dcgan_discriminator(config: ModelConfig, d_norm: str) -> nn.Module:
    from faceforge.models.dcgan import Discriminator

    return Discriminator(config, norm=d_norm)


def _check_cdcgan(config: ModelConfig) -> None:
    if config.n_attributes < 1:
        raise ConfigError("cdcgan needs at least one attribute to condition on (choose attributes, or use dcgan)")
    if config.conditioning not in CONDITIONINGS:
        raise ConfigError(f"cdcgan conditions on attributes as {', '.join(CONDITIONINGS)}, "
                          f"not {config.conditioning!r}")


_DCGAN = dict(gemm_conv=True, batchnorm_d=True, eval_sampling=True)
register("dcgan", ModelSpec(
    Capabilities("DCGAN (Radford et al.): unconditional, 32/64/128 px", conditioning="never", twin="cdcgan", **_DCGAN),
    _dcgan_generator, _dcgan_discriminator))
register("cdcgan", ModelSpec(
    Capabilities("Conditional DCGAN (Mirza; Gauthier; IcGAN): attributes y into G and D",
                 conditioning="required", twin="dcgan", conditionings=CONDITIONINGS, **_DCGAN),
    _dcgan_generator, _dcgan_discriminator, check=_check_cdcgan))


# ---------------------------------------------------------------------------------------------- MSG-GAN, ProGAN
def _msggan_generator(config: ModelConfig) -> nn.Module:
    from faceforge.models.msggan import Generator

    return Generator(config)


def _msggan_discriminator(config: ModelConfig, d_norm: str) -> nn.Module:
    from faceforge.models.msggan import Discriminator

    return Discriminator(config)


def _progan_generator(config: ModelConfig) -> nn.Module:
    from faceforge.models.progan import Generator

    return Generator(config)


def _progan_discriminator(config: ModelConfig, d_norm: str) -> nn.Module:
    from faceforge.models.progan import Discriminator

    return Discriminator(config)


# No BatchNorm anywhere: pixel norm in G, minibatch stddev in D; y (when given) beside z in G and as a projection
# term in D, so both are conditional exactly when attributes are chosen
_NORM_FREE = dict(conditioning="optional", conditionings=("projection",), minibatch_stddev=True,
                  eval_sampling=False)
register("msggan", ModelSpec(
    Capabilities("MSG-GAN (Karnewar & Wang): G gives every scale 4..R px, D reads each at its depth; "
                 "unconditional or conditional", losses=("rahinge", "wgan-gp", "hinge"), multiscale=True,
                 defaults=TrainingDefaults(loss="rahinge", lr_g=0.006, lr_d=0.006, beta1=0.0, beta2=0.99),
                 **_NORM_FREE),
    _msggan_generator, _msggan_discriminator))
register("progan", ModelSpec(
    Capabilities("ProGAN (Karras et al.): grows from 4x4 to R px with fade-ins; unconditional or conditional",
                 losses=("rahinge", "wgan-gp", "hinge"), progressive=True,
                 # RaHinge as MSG-GAN's, not the paper's WGAN-GP: better faces and SWD at 32 and 64 px for 0.7x the
                 # time (no gradient penalty); models/progan.py's docstring has the figures. Choosing WGAN-GP
                 # brings the paper's settings: lr 0.003, one D step, the drift term
                 defaults=TrainingDefaults(loss="rahinge", lr_g=0.006, lr_d=0.006, beta1=0.0, beta2=0.99,
                                           other_losses=(TrainingDefaults(loss="wgan-gp", lr_g=0.003, lr_d=0.003,
                                                                          beta1=0.0, beta2=0.99, drift=0.001),)),
                 **_NORM_FREE),
    _progan_generator, _progan_discriminator))


# ------------------------------------------------------------------------------------------------------ StyleGAN
def _stylegan_generator(config: ModelConfig) -> nn.Module:
    from faceforge.models.stylegan import Generator

    return Generator(config)


def _stylegan_discriminator(config: ModelConfig, d_norm: str) -> nn.Module:
    from faceforge.models.stylegan import Discriminator

    return Discriminator(config)


def _check_stylegan(config: ModelConfig) -> None:
    if config.mapping_layers < 1:
        raise ConfigError(f"stylegan's mapping network needs at least one layer, not {config.mapping_layers}")
    if config.w_dim < 1:
        raise ConfigError(f"stylegan's w_dim must be positive, not {config.w_dim}")
    if not 0.0 <= config.style_mixing <= 1.0:
        raise ConfigError(f"style_mixing is a probability (0..1), not {config.style_mixing}")
    start, end = config.condition_fade
    if not 0 <= start <= end:
        raise ConfigError(f"condition_fade is (start, end) in images seen with 0 <= start <= end, not {start}, {end}")
    if config.noise_max_res and config.noise_max_res not in (4, 8, 16, 32, 64, 128):
        raise ConfigError(f"noise_max_res is a resolution (4, 8, ... px) or 0 for every layer, not "
                          f"{config.noise_max_res}")


# style_layers is the count at 128 px, the largest resolution (2 * log2(R) - 2); G.num_ws has the exact one
register("stylegan", ModelSpec(
    Capabilities("StyleGAN 2 (Karras et al.): mapping network to W, modulated convolutions, noise, style mixing; "
                 "unconditional or conditional", conditioning="optional", conditionings=("projection",),
                 w_space=True, style_layers=12, minibatch_stddev=True, eval_sampling=True, follows_images=True,
                 # R1 at four times StyleGAN 2's heuristic: at the heuristic a 64 px run collapsed (models/stylegan.py)
                 defaults=TrainingDefaults(loss="bce", lr_g=0.005, lr_d=0.005, beta1=0.0, beta2=0.99,
                                           r1_gamma=-4.0)),
    _stylegan_generator, _stylegan_discriminator, check=_check_stylegan))
