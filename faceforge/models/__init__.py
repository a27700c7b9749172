"""Plain nn.Modules and a registry; nothing here knows about training or the GUI."""
from faceforge.models.registry import ModelSpec, available_models, build_generator, build_models, register

__all__ = ["ModelSpec", "available_models", "build_generator", "build_models", "register"]
