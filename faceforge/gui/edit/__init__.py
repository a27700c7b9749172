"""The Edit pane, in parts: the container (``pane``), the sample grid, the current face, the sliders, and one
module per tab (samples, photo, interpolation, figure); ``workers`` holds the generator thread and task functions."""
from faceforge.gui.edit.pane import EditPane

__all__ = ["EditPane"]
