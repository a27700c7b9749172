"""FaceForge: train face GANs and edit faces with them, locally."""

__version__ = "0.1.0"
