"""The Data faces tab (issue #18): ``pane`` (the choices), ``jobs`` (what runs on its task pool), ``views`` (the grid and the legend)."""
from faceforge.gui.chernoff.pane import DataFacesPane

__all__ = ["DataFacesPane"]
