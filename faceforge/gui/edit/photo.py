"""The Photo tab: a real photo (imported, dropped or pasted) aligned like the training images, encoded by the run's
IcGAN encoders into z and y (a style-based model: its W+ encoder, into per-layer styles), then edited with the same sliders as a sampled face.

Alignment may need the user: with no face found (or no OpenCV) a crop box or the whole image, with several faces
a choice. A run without encoders for its checkpoint offers to train them (with a measured duration before, and an ETA
during); Refine optimises z against the photo. When the pane follows a training run, an encoded photo is redrawn
by each new generator and marked stale (E_z fitted an older one) until it is refined.
The steps run as tasks on the pane's pool and move the :class:`~faceforge.editing.state.PhotoEdit` along; the
views follow it.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from faceforge.editing.state import PhotoEdit
from faceforge.gui.edit.shared import array_from_qimage, small_view
from faceforge.gui.edit.workers import (align_photo, encode_photo, measure_encoder_step, redraw_photo, refine_photo,
                                        train_run_encoders)
from faceforge.gui.errors import readable
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.tasks import Eta, format_duration

REFINE_STEPS = 200


class PhotoTab(QWidget):
    changed = Signal(str)  # aligned | failed | encoded | no-encoders | refined | encoders-trained
    status = Signal(str)

    def __init__(self, photo: PhotoEdit, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.photo = photo
        self.gen = None
        self.run: Path | None = None
        self.encoder_batch = 64
        self._slot = TaskSlot(runner, self)
        self._long_slot = TaskSlot(runner, self)
        self._measure_slot = TaskSlot(runner, self)
        self._redraw_slot = TaskSlot(runner, self)
        self._refine_stop = threading.Event()
        self._eta: Eta | None = None
        self._t0 = 0.0
        self._step_seconds: float | None = None

        self.import_button = QPushButton("Import photo…")
        self.import_button.setToolTip("Or drop an image file on this pane, or paste one (Ctrl+V)")
        self.import_button.clicked.connect(self._import_clicked)
        self.paste_button = QPushButton("Paste")
        self.paste_button.clicked.connect(self.paste_photo)
        self.message = QLabel("Import a photo of a face (or drop one here) to edit it with this model.")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.import_button)
        top.addWidget(self.paste_button)
        top.addStretch(1)

        # alignment fallbacks, shown when the detector could not decide
        self.fallback = QWidget()
        self.face_combo = QComboBox()
        self.use_face_button = QPushButton("Use this face")
        self.use_face_button.clicked.connect(lambda: self.align(face=self.face_combo.currentIndex()))
        self.crop_edit = QLineEdit()
        self.crop_edit.setPlaceholderText("LEFT,TOP,RIGHT,BOTTOM in pixels")
        self.crop_button = QPushButton("Crop")
        self.crop_button.clicked.connect(self._manual_crop)
        self.whole_button = QPushButton("Use the whole image (centre crop)")
        self.whole_button.clicked.connect(self.use_whole_image)
        fl = QGridLayout(self.fallback)
        fl.setContentsMargins(0, 0, 0, 0)
        self._face_row = (QLabel("Face"), self.face_combo, self.use_face_button)
        for col, w in enumerate(self._face_row):
            fl.addWidget(w, 0, col)
        fl.addWidget(QLabel("Box"), 1, 0)
        fl.addWidget(self.crop_edit, 1, 1)
        fl.addWidget(self.crop_button, 1, 2)
        fl.addWidget(self.whole_button, 2, 0, 1, 3)
        fl.setColumnStretch(1, 1)
        self.fallback.hide()

        # two by two, each view as large as its quarter allows (the tab is taller than wide: a row of three
        # left tall empty columns)
        self.source_view = small_view("The imported photo", 120)
        self.aligned_view = small_view("Aligned crop", 120)
        self.recon_view = small_view("Reconstruction", 120)
        self.edited_view = small_view("Edited", 120)
        views = QGridLayout()
        for i, (view, text) in enumerate(((self.source_view, "Imported photo"), (self.aligned_view, "Aligned"),
                                          (self.recon_view, "Reconstruction"), (self.edited_view, "Edited"))):
            row, col = divmod(i, 2)
            caption = QLabel(text)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            views.addWidget(caption, 2 * row, col)
            views.addWidget(view, 2 * row + 1, col)
        views.setRowStretch(1, 1)
        views.setRowStretch(3, 1)
        self.stale_note = QLabel("")
        self.stale_note.setWordWrap(True)
        self.stale_note.setStyleSheet("color: #b35c00")
        self.stale_note.hide()
        self.encoder_estimate = QLabel("")
        self.encoder_estimate.setWordWrap(True)

        self.train_encoders_button = QPushButton("Train encoders")
        self.train_encoders_button.setToolTip("Learn to map a photo to this generator's z and attributes "
                                              "(needed once per checkpoint)")
        self.train_encoders_button.clicked.connect(self.train_encoders)
        self.encoder_steps = QSpinBox()
        self.encoder_steps.setRange(1, 100000)
        self.encoder_steps.setValue(2000)
        self.encoder_steps.setSuffix(" steps")
        self.encoder_steps.valueChanged.connect(lambda _v: self._show_estimate())
        self.refine_button = QPushButton(f"Refine ({REFINE_STEPS} steps)")
        self.refine_button.setToolTip("Improve the reconstruction by optimising the latent against the photo (z, or the per-layer "
                                      "styles W+ for a style-based model)")
        self.refine_button.clicked.connect(self.refine)
        self.export_edit_button = QPushButton("Export edit…")
        actions = QHBoxLayout()
        for w in (self.train_encoders_button, self.encoder_steps, self.refine_button, self.export_edit_button):
            actions.addWidget(w)
        actions.addStretch(1)
        self._show_encoder_training(False)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_long_task)
        prow = QHBoxLayout()
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        self._progress_widgets = (self.progress, self.cancel_button)
        for w in self._progress_widgets:
            w.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.fallback)
        layout.addLayout(views, 1)
        layout.addWidget(self.stale_note)
        layout.addLayout(actions)
        layout.addWidget(self.encoder_estimate)
        layout.addLayout(prow)
        photo.observe(self._photo_changed)
        self._photo_changed("")

    def set_generator(self, gen, run: Path | None, *, follow: bool = False) -> None:
        """A new generator. Another model: the photo is kept and aligned and encoded anew for it. A newer
        checkpoint of the same run (``follow``): the latent and the edits stay, the new generator redraws the
        reconstruction, and the photo is marked stale until refined."""
        self.gen, self.run = gen, run
        self._step_seconds = None
        if gen is None:
            return
        if follow and self.photo.encoded:
            self._redraw_slot.start("redraw photo", redraw_photo, gen, self.photo.z, self.photo.y,
                                    on_done=lambda image, step=gen.step: self._redrawn(image, step),
                                    on_failed=lambda exc: self._failed_text(readable(exc)))
            return
        self.realign()

    def realign(self) -> None:
        """The kept photo for a new model, framed the way the user last chose (the detector's face, or a box)."""
        how, arg = getattr(self, "_framing", ("auto", None))
        self._clear_results()
        if self.photo.image is None:
            return
        if how == "box":
            self.crop_photo(arg)
        else:
            self.align(face=arg)

    def _redrawn(self, image: np.ndarray, step: int) -> None:
        if self.photo.encoded:
            self.photo.regenerate(image, step)
            self.changed.emit("regenerated")

    def enable_actions(self, on: bool) -> None:
        self.import_button.setEnabled(on)
        self.paste_button.setEnabled(on)

    def _photo_changed(self, change: str) -> None:
        photo = self.photo
        self.source_view.set_array(photo.image)
        self.aligned_view.set_array(photo.aligned)
        self.recon_view.set_array(photo.reconstruction)
        if not photo.encoded or change == "regenerated":  # the old generator's edit (redrawn if it is current)
            self.edited_view.set_array(None)
        for w in (self.refine_button, self.export_edit_button):
            w.setEnabled(photo.encoded)
        self.stale_note.setVisible(photo.encoded and photo.stale)
        if photo.encoded and photo.stale:
            self.stale_note.setText(
                f"Stale: this photo was encoded for the generator at step {photo.generator_step:,}; the generator "
                f"is now at step {self.gen.step:,} and E_z was trained for the older one, so the reconstruction "
                "has drifted. Refine fits the latent to the new generator.")

    def show_edited(self, image: np.ndarray) -> None:
        self.edited_view.set_array(image)

    # ---------------------------------------------------------------- getting the photo
    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a photo", str(Path.home()),
                                              "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)")
        if path:
            self.import_photo(Path(path))

    def import_photo(self, path: str | Path) -> None:
        from faceforge.editing.align import load_photo

        try:
            image = load_photo(Path(path))
        except (OSError, ValueError) as exc:
            self._failed_text(readable(exc))
            return
        self.set_photo(image, name=Path(path).name)

    def paste_photo(self) -> None:
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self._failed_text("The clipboard holds no image.")
            return
        self.set_photo(array_from_qimage(image), name="the pasted image")

    def set_photo(self, image: np.ndarray, name: str = "the photo") -> None:
        self.photo.set_image(image, name)
        self.align()

    # ---------------------------------------------------------------- aligning
    def align(self, face: int | None = None) -> None:
        """Find the face (``face``: which of several) and frame it like the training images, then encode it."""
        if self.photo.image is None or self.gen is None:
            return
        self._framing = ("auto", face)
        self._clear_results()
        self.message.setText(f"Finding the face in {self.photo.name}…")
        self._slot.start("align photo", align_photo, self.photo.image, self.gen.resolution, self.gen.config.data,
                         face, on_done=lambda result: self._aligned(result.aligned, "Aligned: " + result.message),
                         on_failed=self._align_failed)

    def _clear_results(self) -> None:
        self.photo.clear_results()
        self.fallback.hide()
        self._show_encoder_training(False)

    def _align_failed(self, exc: BaseException) -> None:
        reason = getattr(exc, "reason", "")
        faces = list(getattr(exc, "faces", []) or [])
        self._failed_text(readable(exc))
        if reason == "bad-image":
            return
        self.fallback.show()
        several = reason == "several-faces" and bool(faces)
        for w in self._face_row:
            w.setVisible(several)
        if several:
            self.face_combo.clear()
            self.face_combo.addItems([f"{i}: {', '.join(str(int(v)) for v in box)}" for i, box in enumerate(faces)])
            self.crop_edit.setText(",".join(str(int(v)) for v in faces[0]))
        elif self.photo.image is not None:
            h, w = self.photo.image.shape[:2]
            side = min(h, w)
            self.crop_edit.setText(f"{(w - side) // 2},{(h - side) // 2},{(w + side) // 2},{(h + side) // 2}")

    def _failed_text(self, text: str) -> None:
        self.message.setText(text)
        self.status.emit(text)
        self.changed.emit("failed")

    def _manual_crop(self) -> None:
        try:
            box = [float(v) for v in self.crop_edit.text().replace(";", ",").split(",")]
        except ValueError:
            self.message.setText("The box must be four numbers: LEFT,TOP,RIGHT,BOTTOM")
            return
        self.crop_photo(box)

    def use_whole_image(self) -> None:
        if self.photo.image is not None:
            h, w = self.photo.image.shape[:2]
            self.crop_photo([0, 0, w, h])

    def crop_photo(self, box) -> None:
        """Skip detection: the box's centred square, resized to the model (``crop_box``)."""
        from faceforge.editing.align import crop_box

        if self.photo.image is None or self.gen is None:
            return
        self._framing = ("box", list(box))
        try:
            aligned = crop_box(self.photo.image, box, self.gen.resolution)
        except ValueError as exc:
            self.message.setText(readable(exc))
            return
        self._aligned(aligned, "Cropped by hand (no alignment): the edit works best when the face is framed like "
                               "the training images.")

    # ---------------------------------------------------------------- encoding
    def _aligned(self, aligned: np.ndarray, message: str) -> None:
        self.message.setText(message)
        self.fallback.hide()
        self.photo.set_aligned(aligned)
        self.changed.emit("aligned")
        self._encode()

    def _encode(self) -> None:
        self._slot.start("encode photo", encode_photo, self.gen, self.run, self.photo.aligned,
                         on_done=self._encoded, on_failed=lambda exc: self._failed_text(readable(exc)))

    def _encoded(self, result: dict) -> None:
        if result.get("missing"):  # the ordinary first visit: say what to do, with the button to do it
            self.message.setText(
                f"This run has no encoders yet. Train them once for the generator at step {self.gen.step:,} "
                "(they learn to turn a photo into this model's inputs); then the photo is encoded.")
            self._show_encoder_training(True)
            self.changed.emit("no-encoders")
            return
        self._show_encoder_training(False)
        self.message.setText(self.message.text().split(" Encoded")[0]
                             + " Encoded: move the sliders to edit; Refine for a closer reconstruction.")
        self.photo.set_encoded(result["z"], result["y"], result["reconstruction"], generator_step=self.gen.step,
                               reliability=result.get("reliability"))
        self.changed.emit("encoded")

    def _show_encoder_training(self, on: bool) -> None:
        self.train_encoders_button.setVisible(on)
        self.encoder_steps.setVisible(on)
        self.encoder_estimate.setVisible(on)
        if on and self._step_seconds is None and self.gen is not None:
            self.encoder_estimate.setText("Measuring how long training takes on this machine…")
            self._measure_slot.start("measure encoder step", measure_encoder_step, self.gen, self.encoder_batch,
                                     on_done=self._measured, on_failed=lambda exc: self.encoder_estimate.clear())

    def _measured(self, seconds: float) -> None:
        self._step_seconds = float(seconds)
        self._show_estimate()

    def _show_estimate(self) -> None:
        if self._step_seconds is not None:
            steps = self.encoder_steps.value()
            self.encoder_estimate.setText(
                f"About {format_duration(steps * self._step_seconds)} for {steps:,} steps on this machine "
                f"(measured: {self._step_seconds:.2f} s a step; more if other programs take the CPU).")

    # ---------------------------------------------------------------- long tasks: encoders, refinement
    def _start_progress(self, text: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(text + " %p%")
        self._progress_text, self._eta, self._t0 = text, Eta(), time.monotonic()
        for w in self._progress_widgets:
            w.show()
        self.train_encoders_button.setEnabled(False)
        self.refine_button.setEnabled(False)

    def _end_progress(self) -> None:
        for w in self._progress_widgets:
            w.hide()
        self.train_encoders_button.setEnabled(True)
        self.refine_button.setEnabled(self.photo.encoded)

    def _on_progress(self, done: int, total: int) -> None:
        """The bar, and the time left from the measured rate once two points are known."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        left = self._eta.update(done, total, time.monotonic() - self._t0) if self._eta is not None else None
        suffix = f" · about {format_duration(left)} left" if left is not None and done < total else ""
        self.progress.setFormat(f"{self._progress_text} %p%{suffix}")

    def train_encoders(self) -> None:
        if self.gen is None or self.run is None:
            return
        self._start_progress("Training encoders")
        from faceforge.editing.photo_latents import describe

        self.message.setText(f"Training {describe(self.gen)}"
                             + (f", about {format_duration(self.encoder_steps.value() * self._step_seconds)}…"
                                if self._step_seconds else "…"))
        self._long_slot.start("train encoders", train_run_encoders, self.run, self.gen, self.encoder_steps.value(),
                              self.encoder_batch, with_state=True, on_progress=self._on_progress,
                              on_done=self._encoders_trained, on_failed=self._long_failed,
                              on_cancelled=self._long_cancelled)

    def _encoders_trained(self, result) -> None:
        self._end_progress()
        self.changed.emit("encoders-trained")
        if self.photo.aligned is None:
            self.message.setText(f"Encoders trained ({result.step} steps).")
            return
        self.message.setText(f"Encoders trained ({result.step} steps). Encoding the photo…")
        self._encode()

    def refine(self) -> None:
        if not self.photo.encoded or self.gen is None:
            return
        self._refine_stop = threading.Event()
        self._start_progress("Refining")
        self._long_slot.start("refine", refine_photo, self.gen, self.photo.aligned, self.photo.z, self.photo.y,
                              REFINE_STEPS, self._refine_stop, with_state=True, on_progress=self._on_progress,
                              on_done=self._refined, on_failed=self._long_failed,
                              on_cancelled=self._long_cancelled)

    def _refined(self, result: dict) -> None:
        self._end_progress()
        self.message.setText("Refined: the reconstruction is closer to the photo; the sliders still edit it.")
        self.photo.set_refined(result["z"], result["y"], result["reconstruction"],
                               generator_step=result.get("generator_step"))
        self.changed.emit("refined")

    def cancel_long_task(self) -> None:
        self._refine_stop.set()  # refinement stops early and keeps its best z
        task = self._long_slot.task
        if task is not None and task.name != "refine":
            self._long_slot.cancel()
            self._long_cancelled()

    def _long_failed(self, exc: BaseException) -> None:
        self._end_progress()
        self._failed_text(readable(exc))

    def _long_cancelled(self) -> None:
        self._end_progress()
        self.message.setText("Cancelled.")

    def shutdown(self) -> None:
        self._refine_stop.set()
