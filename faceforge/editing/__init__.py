"""Sampling and editing over trained generators (no Qt)."""
from faceforge.editing.generator import LoadedGenerator, parse_settings, seeded_z

__all__ = ["LoadedGenerator", "parse_settings", "seeded_z"]
