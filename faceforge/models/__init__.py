"""Plain nn.Modules and a registry of what each can do; nothing here knows about training or the GUI."""
from faceforge.models.registry import (Capabilities, ModelSpec, attributes_used, available_models, build_generator,
                                       build_models, capabilities, config_problem, couples_batch, model_for, register,
                                       TrainingDefaults)

__all__ = ["Capabilities", "ModelSpec", "attributes_used", "available_models", "build_generator", "build_models",
           "capabilities", "config_problem", "couples_batch", "model_for", "register", "TrainingDefaults"]
