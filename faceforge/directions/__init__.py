"""Directions for any trained generator (issue #17): sample latents, score the faces with FaceForge's attribute
classifier, fit a linear SVM per attribute, and move faces along the normals, in z or in W.

Modules: ``sampling`` (latents, render, score), ``svm`` (one attribute's fit), ``fit`` (the whole fit for a run),
``store`` (the ``RUN/directions/NAME.json`` + ``.npy`` files), ``conditional`` (projecting out other directions),
``apply`` (``--set dir:NAME=amount``), ``relevance`` (which style layers a direction acts through), ``sefa`` and
``ganspace`` (unsupervised components), ``named`` (a component saved under a person's name), ``strips`` (a face
along each component), ``sliders`` (the Edit pane's rules). No Qt; imports editing, models and the base.
"""
from faceforge.directions.apply import apply_edits, apply_step, directions_for_run, edit_vector, split_settings
from faceforge.directions.conditional import project_out
from faceforge.directions.fit import FitOptions, fit_directions, fit_for_run
from faceforge.directions.store import DirectionSet, list_directions, load_directions

__all__ = ["DirectionSet", "FitOptions", "apply_edits", "apply_step", "directions_for_run", "edit_vector", "fit_directions",
           "fit_for_run", "list_directions", "load_directions", "project_out", "split_settings"]
