"""Data faces (issue #18): Chernoff faces drawn by the run's own generator, one face per row of a table.

Modules: ``table`` (reading CSV/TSV: label column, numeric columns, missing values), ``features`` (what a run can
draw a column with, the automatic mapping and its perception order), ``render`` (one fixed identity moved onto the
mapped directions' boundaries, then by each row's values), ``figure`` (layout; PNG, SVG, PDF files), ``pdf`` (the
minimal PDF writer), ``make`` (table + run -> figure + recipe). No Qt; imports directions, editing, models, data and
the base.

The names below are loaded on first use, so the GUI can read a table (``table``, numpy only) while its window
opens, before torch is imported.
"""
from __future__ import annotations

import importlib

_WHERE = {
    "DataTable": "table", "read_table": "table",
    "Feature": "features", "auto_mapping": "features", "parse_mapping": "features", "perception_group": "features",
    "rank_columns": "features",
    "FaceOptions": "render", "FacePainter": "render", "scale_values": "render",
    "Built": "make", "ChernoffRecipe": "make", "NoFeaturesError": "make", "build": "make", "export": "make",
    "load_for_run": "make",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
