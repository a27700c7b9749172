"""The Samples tab: the grid of faces for the chosen seed, truncation (for a W model: psi, its layers and the style
mix) and attribute edits; a click on a face makes it the current face.

Grids are drawn by the pane's ``EditWorker`` ("latest request wins"): a change asks for a new grid at most every
120 ms here, and a reply to an older request than the last one sent is dropped.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from faceforge.editing.state import FaceState
from faceforge.gui.edit.grid import GRID_COLS, GRID_N, GridView
from faceforge.gui.edit.workers import EditWorker
from faceforge.gui.throttle import Throttler

REDRAW_ON = ("model", "refreshed", "seed", "truncation", "mix", "labels", "attribute", "reset", "direction")


class SamplesTab(QWidget):
    rendered = Signal()  # the grid was redrawn

    def __init__(self, face: FaceState, worker: EditWorker, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.worker = worker
        self.live = False  # a generator is loaded: changes ask for grids
        self._last_request = 0
        self._throttle = Throttler(120, self._send_request, self)
        self.grid = GridView(empty_text="Faces for this seed", min_side=200)
        self.grid.cellClicked.connect(face.select)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.grid)
        worker.rendered.connect(self._on_rendered)
        face.observe(self._face_changed)

    def set_generator(self, gen, _run=None) -> None:
        """Grids are asked for only while the worker has a generator."""
        self.live = gen is not None

    def _face_changed(self, change: str) -> None:
        if change in REDRAW_ON:
            self.redraw()
        elif change in ("face", "grid"):
            self.grid.set_selected(None if self.face.showing_photo else self.face.index)

    def redraw(self) -> None:
        if self.live:
            self._throttle.trigger()

    def _send_request(self) -> None:
        if self.live:
            face = self.face
            self._last_request = self.worker.request(seed=face.seed, n=GRID_N, settings=face.settings(),
                                                     truncation=face.truncation, labels=face.labels,
                                                     style=face.style(),  # a W model: psi, layers, the mix
                                                     edit=face.latent_edit)

    def _on_rendered(self, request_id: int, images: np.ndarray, z, y) -> None:
        if request_id != self._last_request:
            return  # a newer request is on its way
        self.grid.set_cells(images, GRID_COLS)
        self.face.set_grid(images, z, y)
        self.rendered.emit()

    def clear(self) -> None:
        self.grid.set_array(None)

    def shutdown(self) -> None:
        self._throttle.cancel()
