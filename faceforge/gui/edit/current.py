"""The centre of the Edit pane: the current face, big, as the sliders change it; export it with a recipe, or make
it an end of the interpolation.

While a slider is dragged the face is drawn by the worker's ``FastRenderer`` on one thread: requests are coalesced
to at most ~30 a second here (and to one in flight there), so the picture always ends on the slider's final value.
An export goes through the full generator, as ``faceforge generate --recipe`` does.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from faceforge.editing.state import FaceState
from faceforge.gui.edit.grid import GRID_N
from faceforge.gui.edit.shared import ask_save, wrote
from faceforge.gui.edit.workers import EditWorker, export_face
from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.throttle import Throttler


class CurrentFacePanel(QWidget):
    faceRendered = Signal()  # the worker drew the current face
    exported = Signal(str)
    status = Signal(str)

    def __init__(self, face: FaceState, worker: EditWorker, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.worker = worker
        self.gen = None
        self.run: Path | None = None
        self.face_image: np.ndarray | None = None
        self._last_request = 0
        self._throttle = Throttler(33, self._send_request, self)
        self._export_slot = TaskSlot(runner, self)

        self.view = PixelView(empty_text="The current face appears here", min_side=200)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("The current face as PNG, with a recipe that regenerates it exactly")
        self.export_button.clicked.connect(self.export_clicked)
        self.export_scale = QComboBox()
        for factor in (1, 2, 4):
            self.export_scale.addItem(f"{factor}×", factor)
        self.export_scale.setToolTip("Export size: the model's own pixels, or each enlarged 2 or 4 times (crisp)")
        self.set_a_button, self.set_b_button = QPushButton("Set as A"), QPushButton("Set as B")
        self.set_a_button.setToolTip("Start of the interpolation")
        self.set_b_button.setToolTip("End of the interpolation")
        self.style_source_button = QPushButton("Use as style source")
        self.style_source_button.setToolTip("Style mixing: this face gives its styles at the chosen layers to "
                                            "every face (the grid and the current face)")
        self.style_source_button.clicked.connect(self.face.use_current_as_mix_source)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.export_note = QLabel("")
        self.export_note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.export_scale)
        buttons.addWidget(self.set_a_button)
        buttons.addWidget(self.set_b_button)
        buttons.addWidget(self.style_source_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.export_note)
        worker.faceRendered.connect(self._on_rendered)
        face.observe(self._face_changed)

    def set_generator(self, gen, run: Path | None) -> None:
        """Another generator: a note about an export made with the old one no longer applies."""
        if run != self.run:
            self.export_note.setText("")
        self.gen, self.run = gen, run
        self._show_style_source()

    def enable_actions(self, on: bool) -> None:
        for w in (self.export_button, self.export_scale, self.set_a_button, self.set_b_button):
            w.setEnabled(on)
        self._show_style_source()

    def _show_style_source(self) -> None:
        """Style mixing is for a W model's sampled faces: the button says why when it is off."""
        face = self.face
        on = self.gen is not None and face.w_space and not face.showing_photo
        self.style_source_button.setEnabled(on)
        self.style_source_button.setToolTip(
            "Style mixing: this face gives its styles at the chosen layers to every face (the grid and the "
            "current face)" if on else
            "Style mixing needs a model with a W space (a style-based generator); this one maps z straight to "
            "pixels" if not face.w_space else "Pick a face from the grid to use it as the style source")

    # ---------------------------------------------------------------- rendering
    def _face_changed(self, change: str) -> None:
        face = self.face
        if change in ("model", "face"):
            self._show_style_source()
        if change in ("face", "grid", "refreshed"):
            if change == "grid" and face.showing_photo:
                return  # a new grid leaves the photo as it is
            self._update_label()
            if not face.showing_photo and face.grid_images is not None \
                    and (change == "face" or self.face_image is None):
                self._show(face.grid_images[face.index])  # at once; the exact render follows
        self.redraw()

    def redraw(self) -> None:
        if self.gen is not None:
            self._throttle.trigger()

    def _send_request(self) -> None:
        latent = self.face.latent(self.gen) if self.gen is not None else None
        if latent is not None:
            self._last_request = self.worker.request_face(*latent, style=self.face.style(),
                                                          edit=self.face.latent_edit)

    def _on_rendered(self, request_id: int, image: np.ndarray) -> None:
        if request_id != self._last_request:
            return
        self._show(image)
        self.faceRendered.emit()

    def _show(self, image: np.ndarray | None) -> None:
        self.face_image = image
        self.view.set_array(image)

    def clear(self) -> None:
        self._show(None)

    def _update_label(self) -> None:
        if self.face.showing_photo:
            self.label.setText("Current face: the imported photo (edit it with the sliders)"
                               + (" - drawn by a newer generator than its encoding: Refine it in the Photo tab"
                                  if self.face.photo.stale else ""))
        else:
            self.label.setText(f"Current face: seed {self.face.seed}, face {self.face.index + 1} of {GRID_N}")

    # ---------------------------------------------------------------- export
    def export_clicked(self) -> None:
        kind = "edit" if self.face.showing_photo else "sample"
        path = ask_save(self, "Export the current face", self.run, f"{kind}.png", "PNG image (*.png)")
        if path is not None:
            self.export_png(path.with_suffix(".png"))

    def export_png(self, path: str | Path, *, scale: int | None = None) -> None:
        """The current face (with the edits) through the full generator, as PNG plus NAME.recipe.json, at the
        chosen size; a photo edit also gets NAME-sheet.png (original | reconstruction | edited, captioned)."""
        latent = self.face.latent(self.gen) if self.gen is not None else None
        if latent is None:
            self.export_note.setText("Nothing to export yet.")
            return
        z, y, trunc = latent
        photo = self.face.showing_photo
        scale = int(scale or self.export_scale.currentData())
        sheet = (self.face.photo.aligned, self.face.photo.reconstruction) if photo else None
        self.export_note.setText("Exporting…")
        self._export_slot.start("export face", export_face, self.gen, z, y, trunc, self.face.settings(), Path(path),
                                run=self.run, seed=None if photo else self.face.seed, style=self.face.style(),
                                edit=self.face.latent_edit,
                                kind="edit" if photo else "sample", scale=scale, sheet=sheet,
                                labels=None if photo or not self.gen.conditional else self.face.labels,
                                on_done=lambda p: self._exported(p, photo), on_failed=self._export_failed)

    def _exported(self, path, photo: bool = False) -> None:
        from faceforge.editing.sheets import sheet_path

        text = wrote(path, also=sheet_path(path).name + " (before | after, for people)" if photo else "")
        self.export_note.setText(text)
        self.status.emit(text)
        self.exported.emit(str(path))

    def _export_failed(self, exc: BaseException) -> None:
        self.export_note.setText(readable(exc))
        self.status.emit(readable(exc))

    def shutdown(self) -> None:
        self._throttle.cancel()
