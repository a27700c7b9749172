"""Plain nn.Modules and a registry; nothing here knows about training or the GUI."""
from faceforge.models.registry import available_models, build_generator, build_models, register

__all__ = ["available_models", "build_generator", "build_models", "register"]
