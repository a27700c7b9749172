"""Build (G, D) from a :class:`ModelConfig`. New architectures (MSG-GAN, a small StyleGAN) register a builder
here and everything above — training, checkpoints, the GUI — picks them up by name."""
from __future__ import annotations

from typing import Callable

from torch import nn

from faceforge.config import ConfigError, ModelConfig

Builder = Callable[[ModelConfig, str], tuple[nn.Module, nn.Module]]
_BUILDERS: dict[str, Builder] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register(name: str, description: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        _BUILDERS[name] = fn
        _DESCRIPTIONS[name] = description
        return fn

    return deco


def available_models() -> dict[str, str]:
    """Model name -> one-line description, for --help and the New-run dialog."""
    return dict(_DESCRIPTIONS)


def resolve_d_norm(config: ModelConfig, loss_kind: str) -> str:
    """BatchNorm couples samples in a batch, which breaks WGAN-GP's per-sample gradient penalty; use layer norm
    there, as the WGAN-GP paper recommends."""
    if config.d_norm != "auto":
        return config.d_norm
    return "layer" if loss_kind == "wgan-gp" else "batch"


def build_models(config: ModelConfig, *, loss_kind: str = "bce") -> tuple[nn.Module, nn.Module]:
    try:
        builder = _BUILDERS[config.name]
    except KeyError:
        raise ConfigError(
            f"unknown model {config.name!r}; available: {', '.join(sorted(_BUILDERS))}"
        ) from None
    return builder(config, resolve_d_norm(config, loss_kind))


def build_generator(config: ModelConfig) -> nn.Module:
    """Only G, for sampling and editing (a D costs memory and time we do not need there)."""
    G, _ = build_models(config)
    return G


@register("dcgan", "DCGAN (Radford et al.): unconditional, 32/64/128 px")
def _dcgan(config: ModelConfig, d_norm: str):
    from faceforge.models.dcgan import Discriminator, Generator

    return Generator(config), Discriminator(config, norm=d_norm)


@register("cdcgan", "Conditional DCGAN (Mirza; Gauthier; IcGAN placement): attributes y into G and D")
def _cdcgan(config: ModelConfig, d_norm: str):
    from faceforge.models.dcgan import Discriminator, Generator

    if config.n_attributes < 1:
        raise ConfigError("cdcgan needs at least one attribute to condition on (choose attributes, or use dcgan)")
    return Generator(config), Discriminator(config, norm=d_norm)
