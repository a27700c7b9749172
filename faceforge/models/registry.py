"""Build (G, D) from a :class:`ModelConfig`. New architectures (MSG-GAN, a small StyleGAN) register a builder
here and everything above — training, checkpoints, the GUI — picks them up by name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from faceforge.config import ConfigError, ModelConfig

@dataclass(frozen=True)
class ModelSpec:
    """How to build one architecture's two networks; separately, so sampling and editing build only G."""

    description: str
    generator: Callable[[ModelConfig], nn.Module]
    discriminator: Callable[[ModelConfig, str], nn.Module]  # (config, d_norm)
    check: Callable[[ModelConfig], None] = lambda config: None  # raises ConfigError for a config it cannot build


_SPECS: dict[str, ModelSpec] = {}


def register(name: str, spec: ModelSpec) -> None:
    _SPECS[name] = spec


def available_models() -> dict[str, str]:
    """Model name -> one-line description, for --help and the New-run dialog."""
    return {name: spec.description for name, spec in _SPECS.items()}


def resolve_d_norm(config: ModelConfig, loss_kind: str) -> str:
    """BatchNorm couples samples in a batch, which breaks WGAN-GP's per-sample gradient penalty; use layer norm
    there, as the WGAN-GP paper recommends."""
    if config.d_norm != "auto":
        return config.d_norm
    return "layer" if loss_kind == "wgan-gp" else "batch"


def _spec(config: ModelConfig) -> ModelSpec:
    try:
        spec = _SPECS[config.name]
    except KeyError:
        raise ConfigError(f"unknown model {config.name!r}; available: {', '.join(sorted(_SPECS))}") from None
    spec.check(config)
    return spec


def build_models(config: ModelConfig, *, loss_kind: str = "bce") -> tuple[nn.Module, nn.Module]:
    spec = _spec(config)
    return spec.generator(config), spec.discriminator(config, resolve_d_norm(config, loss_kind))


def build_generator(config: ModelConfig) -> nn.Module:
    """Only G, for sampling and editing."""
    return _spec(config).generator(config)


def _dcgan_generator(config: ModelConfig) -> nn.Module:
    from faceforge.models.dcgan import Generator

    return Generator(config)


def _dcgan_discriminator(config: ModelConfig, d_norm: str) -> nn.Module:
    from faceforge.models.dcgan import Discriminator

    return Discriminator(config, norm=d_norm)


def _needs_attributes(config: ModelConfig) -> None:
    if config.n_attributes < 1:
        raise ConfigError("cdcgan needs at least one attribute to condition on (choose attributes, or use dcgan)")


register("dcgan", ModelSpec("DCGAN (Radford et al.): unconditional, 32/64/128 px",
                            _dcgan_generator, _dcgan_discriminator))
register("cdcgan", ModelSpec("Conditional DCGAN (Mirza; Gauthier; IcGAN placement): attributes y into G and D",
                             _dcgan_generator, _dcgan_discriminator, check=_needs_attributes))
