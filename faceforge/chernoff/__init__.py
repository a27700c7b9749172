"""Data faces (issue #18): Chernoff faces drawn by the run's own generator, one face per row of a table.

Modules: ``table`` (reading CSV/TSV: label column, numeric columns, missing values), ``features`` (what a run can
draw a column with, the automatic mapping and its perception order), ``render`` (one fixed identity moved onto the
mapped directions' boundaries, then by each row's values), ``figure`` (layout; PNG, SVG, PDF files), ``pdf`` (the
minimal PDF writer), ``make`` (table + run -> figure + recipe). No Qt; imports directions, editing, models, data and
the base.
"""
from faceforge.chernoff.features import Feature, auto_mapping, parse_mapping, perception_group, rank_columns
from faceforge.chernoff.make import Built, ChernoffRecipe, NoFeaturesError, build, export, load_for_run
from faceforge.chernoff.render import FaceOptions, FacePainter, scale_values
from faceforge.chernoff.table import DataTable, read_table

__all__ = ["Built", "ChernoffRecipe", "DataTable", "FaceOptions", "FacePainter", "Feature", "NoFeaturesError",
           "auto_mapping", "build", "export", "load_for_run", "parse_mapping", "perception_group", "rank_columns",
           "read_table", "scale_values"]
