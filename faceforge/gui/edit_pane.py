"""The Edit tab: faces from a run's latest checkpoint, one current face edited with attribute sliders, exports with
recipes, interpolation strips and GIFs, the axis-incremental figure, and real photos through the IcGAN encoders.

The generator lives on its own thread (``EditWorker``) and renders "latest request wins": the sample grid with the
full generator and the current face with ``FastRenderer`` (one thread), so a slider can be dragged freely: requests
are coalesced to at most ~30 a second here and to one in flight there, and the picture always ends on the slider's
final position. Untouched attributes stay at the face's own values (the training data's mean for a sampled face,
what E_y read for a photo). Everything slower (exports, strips, figures, alignment, encoders, refinement) runs as a
task on a small thread pool and only calls the core (``faceforge.editing``); errors come back as readable text.
"""
from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence, QPainter, QPalette, QPen, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from faceforge.gui.edit_workers import (EditWorker, align_photo, encode_photo, export_face, refine_photo,
                                        render_axis_figure, render_interpolation, save_interpolation,
                                        train_run_encoders)
from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.throttle import Throttler

GRID_N = 16
GRID_COLS = 4
GRID_PAD = 2  # make_grid's gutter
SLIDER_SCALE = 100  # slider integer units per attribute unit (-2..+2)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
REFINE_STEPS = 200


class GridView(PixelView):
    """A PixelView showing a make_grid image whose cells can be clicked (``cellClicked(index)``)."""

    cellClicked = Signal(int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._layout: tuple[int, int, int] | None = None  # n, ncols, cell size
        self.selected: int | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click a face to make it the current face")

    def set_cells(self, images: np.ndarray, ncols: int) -> None:
        from faceforge.imaging import make_grid

        self._layout = (len(images), ncols, images.shape[1])
        self.set_array(make_grid(images, ncols=ncols, pad=GRID_PAD))

    def set_selected(self, index: int | None) -> None:
        """Outline cell ``index`` (the current face), or none."""
        if index != self.selected:
            self.selected = index
            self.update()

    def cell_rect(self, index: int) -> QRectF | None:
        """Where cell ``index`` is drawn, in widget coordinates."""
        rect, image = self.target_rect(), self.image()
        if self._layout is None or image is None or not 0 <= index < self._layout[0]:
            return None
        _, ncols, cell = self._layout
        row, col = divmod(index, ncols)
        sx, sy = rect.width() / image.width(), rect.height() / image.height()
        x, y = GRID_PAD + col * (cell + GRID_PAD), GRID_PAD + row * (cell + GRID_PAD)
        return QRectF(rect.x() + x * sx, rect.y() + y * sy, cell * sx, cell * sy)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        cell = self.cell_rect(self.selected) if self.selected is not None else None
        if cell is None:
            return
        painter = QPainter(self)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 3)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.drawRect(cell.adjusted(-1.5, -1.5, 1.5, 1.5))
        painter.end()

    def cell_at(self, x: float, y: float) -> int | None:
        rect, image = self.target_rect(), self.image()
        if self._layout is None or image is None or not rect.contains(int(x), int(y)):
            return None
        n, ncols, cell = self._layout
        px = (x - rect.x()) * image.width() / rect.width()
        py = (y - rect.y()) * image.height() / rect.height()
        col, row = int(px // (cell + GRID_PAD)), int(py // (cell + GRID_PAD))
        index = row * ncols + col
        return index if 0 <= col < ncols and 0 <= index < n else None

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        index = self.cell_at(event.position().x(), event.position().y())
        if index is not None:
            self.cellClicked.emit(index)
        super().mousePressEvent(event)


def array_from_qimage(image: QImage) -> np.ndarray:
    """A QImage (e.g. from the clipboard) as (H,W,3) uint8 RGB."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return np.ascontiguousarray(buf[:, : 3 * w].reshape(h, w, 3))


def _small_view(text: str, side: int = 96) -> PixelView:
    return PixelView(empty_text=text, min_side=side)


class EditPane(QWidget):
    modelLoaded = Signal(dict)
    rendered = Signal()  # the sample grid was redrawn
    faceRendered = Signal()  # the current face was redrawn
    exported = Signal(str)  # a file was written (its path)
    interpolationRendered = Signal()
    figureRendered = Signal()
    photoChanged = Signal(str)  # aligned | failed | encoded | no-encoders | refined | encoders-trained
    statusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = EditWorker()
        self.worker.loaded.connect(self._on_loaded)
        self.worker.loadFailed.connect(self._on_failed)
        self.worker.rendered.connect(self._on_rendered)
        self.worker.faceRendered.connect(self._on_face_rendered)
        self.worker.renderFailed.connect(self._show_error)
        self.worker.start()
        self.runner = TaskRunner(max_threads=2, parent=self)
        self._export_slot = TaskSlot(self.runner, self)
        self._interp_slot = TaskSlot(self.runner, self)
        self._figure_slot = TaskSlot(self.runner, self)
        self._photo_slot = TaskSlot(self.runner, self)
        self._long_slot = TaskSlot(self.runner, self)
        self._refine_stop = threading.Event()
        self._run: Path | None = None
        self._loaded_run: Path | None = None
        self._info: dict | None = None
        self._gen = None
        self._sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        self._touched: set[str] = set()
        self._last_request = 0
        self._last_face_request = 0
        self.images: np.ndarray | None = None
        self._grid_z = None
        self._face_index = 0
        self._face_kind = "sample"  # sample | photo
        self.face_image: np.ndarray | None = None
        self._ends: dict[str, tuple] = {}
        self.interpolation = None  # the last Rendered strip
        self.figure = None
        self._photo_image: np.ndarray | None = None
        self.photo: dict | None = None  # aligned, z, y, reconstruction
        self._render_throttle = Throttler(120, self._send_request, self)
        self._face_throttle = Throttler(33, self._send_face_request, self)
        self.setAcceptDrops(True)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self)  # text fields keep their own Ctrl+V
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(lambda: self.paste_photo() if self._gen is not None else None)

        self.title = QLabel("No model")
        self.title.setStyleSheet("font-weight: 600; font-size: 12pt")
        self.info = QLabel("Select a run with a checkpoint in the Train tab, or train one first.")
        self.info.setWordWrap(True)
        self.reload_button = QPushButton("Reload latest checkpoint")
        self.reload_button.clicked.connect(self.reload)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.reload_button)

        # ---- current face (centre)
        self.current = PixelView(empty_text="The current face appears here", min_side=200)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("The current face as PNG, with a recipe that regenerates it exactly")
        self.export_button.clicked.connect(self._export_clicked)
        self.set_a_button, self.set_b_button = QPushButton("Set as A"), QPushButton("Set as B")
        self.set_a_button.setToolTip("Start of the interpolation")
        self.set_b_button.setToolTip("End of the interpolation")
        self.set_a_button.clicked.connect(lambda: self.set_end("A"))
        self.set_b_button.clicked.connect(lambda: self.set_end("B"))
        self.face_label = QLabel("")
        self.face_label.setWordWrap(True)
        self.export_note = QLabel("")
        self.export_note.setWordWrap(True)
        face_buttons = QHBoxLayout()
        face_buttons.addWidget(self.export_button)
        face_buttons.addWidget(self.set_a_button)
        face_buttons.addWidget(self.set_b_button)
        centre = QVBoxLayout()
        centre.addWidget(self.face_label)
        centre.addWidget(self.current, 1)
        centre.addLayout(face_buttons)
        centre.addWidget(self.export_note)

        # ---- modes (left)
        self.modes = QTabWidget()
        self.grid = GridView(empty_text="Faces for this seed", min_side=200)
        self.grid.cellClicked.connect(self.select_face)
        self.modes.addTab(self.grid, "Samples")
        self.modes.addTab(self._build_photo_tab(), "Photo")
        self.modes.addTab(self._build_interp_tab(), "Interpolation")
        self.modes.addTab(self._build_figure_tab(), "Figure")

        # ---- controls (right)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.valueChanged.connect(self.regenerate)
        prev_b, next_b, rand_b = QPushButton("◀"), QPushButton("▶"), QPushButton("Random")
        prev_b.setToolTip("Previous seed")
        next_b.setToolTip("Next seed")
        prev_b.clicked.connect(lambda: self.seed.setValue(max(0, self.seed.value() - 1)))
        next_b.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        rand_b.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        self._seed_buttons = (prev_b, next_b, rand_b)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        for b in self._seed_buttons:
            seed_row.addWidget(b)
        self.truncation = QSlider(Qt.Orientation.Horizontal)
        self.truncation.setRange(10, 150)
        self.truncation.setValue(100)
        self.truncation.setToolTip("Lower = more typical faces, less variety (sampled faces only)")
        self.truncation_label = QLabel("1.00")
        self.truncation.valueChanged.connect(self._truncation_changed)
        trunc_row = QHBoxLayout()
        trunc_row.addWidget(self.truncation, 1)
        trunc_row.addWidget(self.truncation_label)

        self.attr_box = QGroupBox("Attributes (−2 … +2)")
        self.attr_layout = QGridLayout(self.attr_box)
        self.no_attrs = QLabel("This model has no attributes (it is not conditional).")
        self.no_attrs.setWordWrap(True)
        self.attr_layout.addWidget(self.no_attrs, 0, 0, 1, 3)
        self.reset_button = QPushButton("Reset attributes")
        self.reset_button.clicked.connect(self.reset_attributes)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.attr_box)

        controls = QWidget()
        form = QFormLayout()
        form.addRow("Seed", seed_row)
        form.addRow("Truncation", trunc_row)
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addLayout(form)
        cl.addWidget(scroll, 1)
        cl.addWidget(self.reset_button)
        controls.setMinimumWidth(320)

        body = QHBoxLayout()
        body.addWidget(self.modes, 4)
        body.addLayout(centre, 3)
        body.addWidget(controls, 3)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.info)
        layout.addLayout(body, 1)
        self._set_enabled(False)

    # ---------------------------------------------------------------- building the tabs
    def _build_photo_tab(self) -> QWidget:
        tab = QWidget()
        self.import_button = QPushButton("Import photo…")
        self.import_button.setToolTip("Or drop an image file on this pane, or paste one (Ctrl+V)")
        self.import_button.clicked.connect(self._import_clicked)
        self.paste_button = QPushButton("Paste")
        self.paste_button.clicked.connect(self.paste_photo)
        self.photo_message = QLabel("Import a photo of a face (or drop one here) to edit it with this model.")
        self.photo_message.setWordWrap(True)
        self.photo_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.import_button)
        top.addWidget(self.paste_button)
        top.addStretch(1)

        # alignment fallbacks, shown when the detector could not decide
        self.fallback = QWidget()
        self.face_combo = QComboBox()
        self.use_face_button = QPushButton("Use this face")
        self.use_face_button.clicked.connect(lambda: self.align_current(face=self.face_combo.currentIndex()))
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

        self.aligned_view = _small_view("Aligned crop")
        self.recon_view = _small_view("Reconstruction")
        self.edited_view = _small_view("Edited")
        views = QGridLayout()
        for col, (view, text) in enumerate(((self.aligned_view, "Photo (aligned)"),
                                            (self.recon_view, "Reconstruction"), (self.edited_view, "Edited"))):
            caption = QLabel(text)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            views.addWidget(caption, 0, col)
            views.addWidget(view, 1, col)
        views.setRowStretch(1, 1)

        self.train_encoders_button = QPushButton("Train encoders")
        self.train_encoders_button.setToolTip("Learn to map a photo to this generator's z and attributes "
                                              "(needed once per checkpoint)")
        self.train_encoders_button.clicked.connect(self.train_encoders)
        self.encoder_steps = QSpinBox()
        self.encoder_steps.setRange(1, 100000)
        self.encoder_steps.setValue(2000)
        self.encoder_steps.setSuffix(" steps")
        self.encoder_batch = 64
        self.refine_button = QPushButton(f"Refine ({REFINE_STEPS} steps)")
        self.refine_button.setToolTip("Improve the reconstruction by optimising z against the photo")
        self.refine_button.clicked.connect(self.refine)
        self.export_edit_button = QPushButton("Export edit…")
        self.export_edit_button.clicked.connect(self._export_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.train_encoders_button)
        actions.addWidget(self.encoder_steps)
        actions.addWidget(self.refine_button)
        actions.addWidget(self.export_edit_button)
        actions.addStretch(1)
        self.train_encoders_button.hide()
        self.encoder_steps.hide()

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

        tl = QVBoxLayout(tab)
        tl.addLayout(top)
        tl.addWidget(self.photo_message)
        tl.addWidget(self.fallback)
        tl.addLayout(views, 1)
        tl.addLayout(actions)
        tl.addLayout(prow)
        self._photo_actions(False)
        return tab

    def _build_interp_tab(self) -> QWidget:
        tab = QWidget()
        self.a_view, self.b_view = _small_view("A: “Set as A” under the current face", 80), \
            _small_view("B: “Set as B” under the current face", 80)
        ends = QHBoxLayout()
        ends.addWidget(self.a_view)
        ends.addWidget(QLabel("→"))
        ends.addWidget(self.b_view)
        self.interp_steps = QSpinBox()
        self.interp_steps.setRange(2, 64)
        self.interp_steps.setValue(8)
        self.interp_steps.setSuffix(" frames")
        self.interp_steps.valueChanged.connect(lambda _v: self.render_interpolation())
        self.strip = PixelView(empty_text="The interpolation from A to B appears here", min_side=60)
        self.gif_button = QPushButton("Export GIF…")
        self.gif_button.clicked.connect(lambda: self._export_strip_clicked(".gif"))
        self.strip_png_button = QPushButton("Export PNG…")
        self.strip_png_button.clicked.connect(lambda: self._export_strip_clicked(".png"))
        self.interp_message = QLabel("")
        self.interp_message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.interp_steps)
        row.addStretch(1)
        row.addWidget(self.gif_button)
        row.addWidget(self.strip_png_button)
        tl = QVBoxLayout(tab)
        tl.addLayout(ends, 2)
        tl.addWidget(self.strip, 2)
        tl.addLayout(row)
        tl.addWidget(self.interp_message)
        return tab

    def _build_figure_tab(self) -> QWidget:
        tab = QWidget()
        self.fig_attr1, self.fig_attr2 = QComboBox(), QComboBox()
        self.fig_faces = QSpinBox()
        self.fig_faces.setRange(1, 16)
        self.fig_faces.setValue(4)
        self.fig_values = QLineEdit("-1, 0, 1")
        self.fig_values.setToolTip("The values each attribute takes, comma separated")
        self.figure_button = QPushButton("Render and export PNG…")
        self.figure_button.clicked.connect(self._figure_clicked)
        form = QFormLayout()
        form.addRow("First attribute", self.fig_attr1)
        form.addRow("Second attribute", self.fig_attr2)
        form.addRow("Faces (rows)", self.fig_faces)
        form.addRow("Values", self.fig_values)
        self.figure_view = PixelView(empty_text="The axis-incremental figure: each face, then moved along one "
                                                "attribute, then along the other (seed and truncation as set)",
                                     min_side=100)
        self.figure_message = QLabel("")
        self.figure_message.setWordWrap(True)
        tl = QVBoxLayout(tab)
        tl.addLayout(form)
        tl.addWidget(self.figure_button)
        tl.addWidget(self.figure_view, 1)
        tl.addWidget(self.figure_message)
        return tab

    # ---------------------------------------------------------------- model
    def set_run(self, path: str | Path | None) -> None:
        """The run to edit with; loaded when the tab is visible (no work for a tab nobody looks at)."""
        self._run = Path(path) if path else None
        if self.isVisible() and self._run != self._loaded_run:
            self.reload()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._run is not None and self._run != self._loaded_run:
            self.reload()

    def reload(self) -> None:
        if self._run is None:
            return
        self._loaded_run = self._run
        self.title.setText(self._run.name)
        self.info.setText("Loading the generator…")
        self._set_enabled(False)
        self.worker.load(self._run)

    def _on_loaded(self, info: dict) -> None:
        self._gen = info.pop("gen", None)
        self._info = info
        self.title.setText(Path(info["run"]).name)
        self.info.setText(f"{info['model']} · {info['resolution']} px · checkpoint at step {info['step']:,}")
        self._build_sliders(info["attributes"], info.get("means"))
        for combo, extra in ((self.fig_attr1, []), (self.fig_attr2, ["(none)"])):
            combo.clear()
            combo.addItems(list(info["attributes"]) + extra)
        if len(info["attributes"]) > 1:
            self.fig_attr2.setCurrentIndex(1)
        self._face_kind, self._face_index, self._grid_z = "sample", 0, None
        self._ends.clear()
        self.interpolation = self.figure = None
        for view in (self.a_view, self.b_view, self.strip, self.figure_view):
            view.set_array(None)
        self._clear_photo_results()
        self._set_enabled(True)
        self.modelLoaded.emit(info)
        self.regenerate()
        if self._photo_image is not None:
            self.align_current()

    def _on_failed(self, message: str) -> None:
        self._info = None
        self._gen = None
        self.info.setText(message)
        self.current.set_array(None)
        self.grid.set_array(None)
        self.face_image = None
        self._set_enabled(False)
        self.statusMessage.emit(message)

    def _show_error(self, message: str) -> None:
        self.info.setText(message)
        self.statusMessage.emit(message)

    def _build_sliders(self, names: list[str], means: list[float] | None) -> None:
        while self.attr_layout.count():
            w = self.attr_layout.takeAt(0).widget()
            if w is not None and w is not self.no_attrs:
                w.deleteLater()
        self._sliders.clear()
        self._value_labels.clear()
        self._touched.clear()
        self.no_attrs.setVisible(not names)
        if not names:
            self.attr_layout.addWidget(self.no_attrs, 0, 0, 1, 3)
        for row, name in enumerate(names):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-2 * SLIDER_SCALE, 2 * SLIDER_SCALE)
            neutral = means[row] if means and row < len(means) else 0.0
            slider.setValue(int(round(neutral * SLIDER_SCALE)))
            slider.setProperty("neutral", neutral)
            value = QLabel(f"{neutral:+.2f}")
            value.setMinimumWidth(44)
            slider.valueChanged.connect(lambda v, n=name: self._slider_moved(n, v))
            self.attr_layout.addWidget(QLabel(name), row, 0)
            self.attr_layout.addWidget(slider, row, 1)
            self.attr_layout.addWidget(value, row, 2)
            self._sliders[name] = slider
            self._value_labels[name] = value
        for r in range(self.attr_layout.rowCount()):
            self.attr_layout.setRowStretch(r, 0)
        self.attr_layout.setRowStretch(len(names) + 1, 1)  # rows packed at the top, not spread out
        self.reset_button.setEnabled(bool(names))

    def _place_sliders(self, values: dict[str, float] | None) -> None:
        """Move the sliders without rendering: to ``values`` (a photo's attributes) or to the neutral face."""
        for name, slider in self._sliders.items():
            v = float(slider.property("neutral") or 0.0) if values is None else float(values.get(name, 0.0))
            slider.blockSignals(True)
            slider.setValue(int(round(max(-2.0, min(2.0, v)) * SLIDER_SCALE)))
            self._value_labels[name].setText(f"{v:+.2f}")
            slider.blockSignals(False)
        self._touched.clear()

    # ---------------------------------------------------------------- rendering
    def settings(self) -> dict[str, float]:
        """Only the attributes the user moved; the rest stay at the face's own values."""
        return {n: self._sliders[n].value() / SLIDER_SCALE for n in self._touched}

    def set_attribute(self, name: str, value: float) -> None:
        self._sliders[name].setValue(int(round(value * SLIDER_SCALE)))

    def reset_attributes(self) -> None:
        if self._face_kind == "photo" and self.photo is not None and self.photo["y"] is not None:
            self._place_sliders(dict(zip(self._sliders, self.photo["y"].reshape(-1).tolist())))
        else:
            self._place_sliders(None)
        self.regenerate()

    def _slider_moved(self, name: str, value: int) -> None:
        self._touched.add(name)
        self._value_labels[name].setText(f"{value / SLIDER_SCALE:+.2f}")
        self.regenerate()

    def _truncation_changed(self, value: int) -> None:
        self.truncation_label.setText(f"{value / 100:.2f}")
        self.regenerate()

    def regenerate(self) -> None:
        if self._info is not None:
            self._render_throttle.trigger()
            self._face_throttle.trigger()

    def _send_request(self) -> None:
        if self._info is None:
            return
        self._last_request = self.worker.request(seed=self.seed.value(), n=GRID_N, settings=self.settings(),
                                                 truncation=self.truncation.value() / 100)

    def current_latent(self):
        """(z (1, z_dim), y (1, A) or None, truncation) of the current face with the sliders applied."""
        gen = self._gen
        if gen is None:
            return None
        if self._face_kind == "photo" and self.photo is not None:
            z, base, trunc = self.photo["z"].reshape(1, -1), self.photo["y"], 1.0
        else:
            if self._grid_z is None:
                return None
            z, base, trunc = self._grid_z[self._face_index: self._face_index + 1], None, self.truncation.value() / 100
        y = gen.make_y(1, self.settings(), base=None if base is None else base.reshape(1, -1))
        return z, y, trunc

    def _send_face_request(self) -> None:
        latent = self.current_latent()
        if latent is not None:
            self._last_face_request = self.worker.request_face(*latent)

    def _on_rendered(self, request_id: int, images: np.ndarray, z) -> None:
        if request_id != self._last_request:
            return  # a newer request is on its way
        self.images = images
        self._grid_z = z
        self.grid.set_cells(images, GRID_COLS)
        if self._face_kind == "sample":
            self._update_face_label()
            if self.face_image is None:
                self._show_face(images[self._face_index])
            self._face_throttle.trigger()
        self.rendered.emit()

    def _on_face_rendered(self, request_id: int, image: np.ndarray) -> None:
        if request_id != self._last_face_request:
            return
        self._show_face(image)
        self.faceRendered.emit()

    def _show_face(self, image: np.ndarray) -> None:
        self.face_image = image
        self.current.set_array(image)
        if self._face_kind == "photo":
            self.edited_view.set_array(image)

    def select_face(self, index: int) -> None:
        """Make cell ``index`` of the sample grid the current face."""
        if self.images is None or not 0 <= index < len(self.images):
            return
        if self._face_kind == "photo":
            self._face_kind = "sample"
            self._place_sliders(None)
        self._face_index = index
        self._show_face(self.images[index])
        self._update_face_label()
        self._face_throttle.trigger()

    def _update_face_label(self) -> None:
        self.grid.set_selected(None if self._face_kind == "photo" else self._face_index)
        if self._face_kind == "photo":
            self.face_label.setText("Current face: the imported photo (edit it with the sliders)")
        else:
            self.face_label.setText(f"Current face: seed {self.seed.value()}, face {self._face_index + 1} of {GRID_N}")

    def _set_enabled(self, on: bool) -> None:
        for w in (self.seed, self.truncation, self.attr_box, self.reset_button, self.export_button,
                  self.set_a_button, self.set_b_button, self.gif_button, self.strip_png_button, self.interp_steps,
                  self.figure_button, self.import_button, self.paste_button, *self._seed_buttons):
            w.setEnabled(on)
        self.figure_button.setEnabled(on and bool(self._info and self._info["attributes"]))

    # ---------------------------------------------------------------- export
    def _ask_save(self, title: str, name: str, filt: str) -> Path | None:
        start = str((self._run or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filt)
        return Path(path) if path else None

    def _export_clicked(self) -> None:
        kind = "edit" if self._face_kind == "photo" else "sample"
        path = self._ask_save("Export the current face", f"{kind}.png", "PNG image (*.png)")
        if path is not None:
            self.export_png(path.with_suffix(".png"))

    def export_png(self, path: str | Path) -> None:
        """The current face (with the sliders) through the full generator, as PNG plus NAME.recipe.json."""
        latent = self.current_latent()
        if latent is None or self._gen is None:
            self.export_note.setText("Nothing to export yet.")
            return
        z, y, trunc = latent
        photo = self._face_kind == "photo"
        self.export_note.setText("Exporting…")
        self._export_slot.start("export face", export_face, self._gen, z, y, trunc, self.settings(), Path(path),
                                run=self._loaded_run, seed=None if photo else self.seed.value(),
                                kind="edit" if photo else "sample",
                                on_done=self._exported, on_failed=lambda e: self._note(self.export_note, e))

    def _exported(self, path, *, also: str = "") -> None:
        from faceforge.recipes import recipe_path

        name, recipe = Path(path).name, recipe_path(Path(path)).name
        text = f"Wrote {name}, {recipe} and {also}" if also else f"Wrote {name} and {recipe}"
        for label in (self.export_note, self.interp_message, self.figure_message):
            if label.text().endswith("…"):
                label.setText(text)
        self.statusMessage.emit(text)
        self.exported.emit(str(path))

    def _note(self, label: QLabel, exc: BaseException) -> None:
        text = readable(exc)
        label.setText(text)
        self.statusMessage.emit(text)

    # ---------------------------------------------------------------- interpolation
    def set_end(self, which: str) -> None:
        """Use the current face (with the sliders, truncation folded into z) as end ``A`` or ``B``."""
        latent = self.current_latent()
        if latent is None:
            return
        z, y, trunc = latent
        self._ends[which] = (z.reshape(-1) * float(trunc), None if y is None else y.reshape(-1))
        (self.a_view if which == "A" else self.b_view).set_array(self.face_image)
        self.modes.setCurrentIndex(2)
        if len(self._ends) == 2:
            self.render_interpolation()
        else:
            self.interp_message.setText("Now choose the other end (“Set as A” / “Set as B”).")

    def render_interpolation(self) -> None:
        if self._gen is None or len(self._ends) < 2:
            return
        self.interp_message.setText("Rendering…")
        self._interp_slot.start("interpolate", render_interpolation, self._gen, self._ends["A"], self._ends["B"],
                                self.interp_steps.value(), 1.0, on_done=self._interpolated,
                                on_failed=lambda e: self._note(self.interp_message, e))

    def _interpolated(self, rendered) -> None:
        from faceforge.imaging import make_grid

        self.interpolation = rendered
        self.strip.set_array(make_grid(rendered.images, ncols=len(rendered.images)))
        self.interp_message.setText(f"{len(rendered.images)} frames from A to B.")
        self.interpolationRendered.emit()

    def _export_strip_clicked(self, suffix: str) -> None:
        if self.interpolation is None:
            self.interp_message.setText("Set A and B first.")
            return
        filt = "Animated GIF (*.gif)" if suffix == ".gif" else "PNG image (*.png)"
        path = self._ask_save("Export the interpolation", f"interpolation{suffix}", filt)
        if path is not None:
            self.export_interpolation(path.with_suffix(suffix))

    def export_interpolation(self, path: str | Path) -> None:
        """The last strip as an animated GIF (``.gif``, faces scaled up to ~128 px) or a PNG strip, with a recipe."""
        if self.interpolation is None or self._gen is None:
            return
        scale = max(1, 128 // max(1, self._gen.resolution))
        self.interp_message.setText("Exporting…")
        self._export_slot.start("export interpolation", save_interpolation, self._gen, self.interpolation,
                                Path(path), run=self._loaded_run, scale=scale, on_done=self._exported,
                                on_failed=lambda e: self._note(self.interp_message, e))

    # ---------------------------------------------------------------- axis-incremental figure
    def _figure_clicked(self) -> None:
        path = self._ask_save("Export the axis-incremental figure", "axis-incremental.png", "PNG image (*.png)")
        if path is not None:
            self.render_figure(path.with_suffix(".png"))

    def render_figure(self, path: str | Path | None) -> None:
        if self._gen is None:
            return
        names = [self.fig_attr1.currentText()]
        if self.fig_attr2.currentText() not in ("(none)", "", names[0]):
            names.append(self.fig_attr2.currentText())
        try:
            values = [float(v) for v in self.fig_values.text().replace(";", ",").split(",") if v.strip()]
            if not values:
                raise ValueError
        except ValueError:
            self.figure_message.setText("Values must be numbers separated by commas, e.g. -1, 0, 1")
            return
        self.figure_message.setText("Rendering…")
        self._figure_slot.start("axis figure", render_axis_figure, self._gen, None if path is None else Path(path),
                                n_faces=self.fig_faces.value(), seed=self.seed.value(), attributes=names,
                                values=values, truncation=self.truncation.value() / 100, run=self._loaded_run,
                                on_done=lambda r, p=path: self._figure_done(r, p),
                                on_failed=lambda e: self._note(self.figure_message, e))

    def _figure_done(self, rendered, path) -> None:
        self.figure = rendered
        self.figure_view.set_array(rendered.labelled_image)
        self.figure_message.setText(f"{len(rendered.rows)} faces × {rendered.ncols} columns: "
                                    + ", ".join(rendered.columns))
        self.figureRendered.emit()
        if path is not None:
            self.figure_message.setText(self.figure_message.text() + "…")
            path = Path(path)
            self._exported(path, also=path.stem + "-labelled.png (with headings, for people)")

    # ---------------------------------------------------------------- photos
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._dropped_image(event.mimeData()) is not None and self._gen is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        path = self._dropped_image(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.import_photo(path)

    @staticmethod
    def _dropped_image(mime) -> Path | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
                return Path(url.toLocalFile())
        return None

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
            self._photo_failed_text(readable(exc))
            return
        self.set_photo(image, name=Path(path).name)

    def paste_photo(self) -> None:
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self._photo_failed_text("The clipboard holds no image.")
            return
        self.set_photo(array_from_qimage(image), name="the pasted image")

    def set_photo(self, image: np.ndarray, name: str = "the photo") -> None:
        self._photo_image = np.asarray(image, np.uint8)
        self._photo_name = name
        self.modes.setCurrentIndex(1)
        self.align_current()

    def align_current(self, face: int | None = None) -> None:
        if self._photo_image is None or self._gen is None:
            return
        self._clear_photo_results()
        self.photo_message.setText(f"Finding the face in {self._photo_name}…")
        self._photo_slot.start("align photo", align_photo, self._photo_image, self._gen.resolution,
                               self._gen.config.data, face, on_done=self._aligned_done,
                               on_failed=self._align_failed)

    def _clear_photo_results(self) -> None:
        self.photo = None
        for view in (self.aligned_view, self.recon_view, self.edited_view):
            view.set_array(None)
        self.fallback.hide()
        self.train_encoders_button.hide()
        self.encoder_steps.hide()
        self._photo_actions(False)
        if self._face_kind == "photo":
            self._face_kind = "sample"
            self._place_sliders(None)
            self.regenerate()

    def _aligned_done(self, result) -> None:
        self.photo_message.setText("Aligned: " + result.message)
        self._start_encode(result.aligned)

    def _align_failed(self, exc: BaseException) -> None:
        reason = getattr(exc, "reason", "")
        faces = list(getattr(exc, "faces", []) or [])
        self._photo_failed_text(readable(exc))
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
        elif self._photo_image is not None:
            h, w = self._photo_image.shape[:2]
            side = min(h, w)
            self.crop_edit.setText(f"{(w - side) // 2},{(h - side) // 2},{(w + side) // 2},{(h + side) // 2}")

    def _photo_failed_text(self, text: str) -> None:
        self.photo_message.setText(text)
        self.statusMessage.emit(text)
        self.photoChanged.emit("failed")

    def _manual_crop(self) -> None:
        try:
            box = [float(v) for v in self.crop_edit.text().replace(";", ",").split(",")]
        except ValueError:
            self.photo_message.setText("The box must be four numbers: LEFT,TOP,RIGHT,BOTTOM")
            return
        self.crop_photo(box)

    def use_whole_image(self) -> None:
        if self._photo_image is not None:
            h, w = self._photo_image.shape[:2]
            self.crop_photo([0, 0, w, h])

    def crop_photo(self, box) -> None:
        """Skip detection: the box's centred square, resized to the model (``crop_box``)."""
        from faceforge.editing.align import crop_box

        if self._photo_image is None or self._gen is None:
            return
        try:
            aligned = crop_box(self._photo_image, box, self._gen.resolution)
        except ValueError as exc:
            self.photo_message.setText(readable(exc))
            return
        self.photo_message.setText("Cropped by hand (no alignment): the edit works best when the face is framed "
                                   "like the training images.")
        self._start_encode(aligned)

    def _start_encode(self, aligned: np.ndarray) -> None:
        self.fallback.hide()
        self._aligned = aligned
        self.aligned_view.set_array(aligned)
        self.photoChanged.emit("aligned")
        self._photo_slot.start("encode photo", encode_photo, self._gen, self._loaded_run, aligned,
                               on_done=self._encoded, on_failed=self._encode_failed)

    def _encode_failed(self, exc: BaseException) -> None:
        from faceforge.checkpoints import CheckpointError

        if isinstance(exc, CheckpointError):
            self.photo_message.setText(
                f"This run has no encoders for the generator at step {self._gen.step:,} yet. Train them once "
                "(they learn to turn a photo into this model's inputs), then the photo is encoded.")
            self.train_encoders_button.show()
            self.encoder_steps.show()
            self.photoChanged.emit("no-encoders")
        else:
            self._photo_failed_text(readable(exc))

    def _encoded(self, result: dict, state: str = "encoded") -> None:
        self.photo = {"aligned": self._aligned, **result}
        self.recon_view.set_array(result["reconstruction"])
        self._face_kind = "photo"
        y = result["y"]
        self._place_sliders(None if y is None else dict(zip(self._sliders, y.reshape(-1).tolist())))
        self._update_face_label()
        self.train_encoders_button.hide()
        self.encoder_steps.hide()
        self._photo_actions(True)
        if state == "encoded":
            self.photo_message.setText(self.photo_message.text().split(" Encoded")[0]
                                       + " Encoded: move the sliders to edit; Refine for a closer reconstruction.")
        self._face_throttle.trigger()
        self.photoChanged.emit(state)

    def _photo_actions(self, on: bool) -> None:
        for w in (self.refine_button, self.export_edit_button):
            w.setEnabled(on)

    # ---------------------------------------------------------------- long tasks: encoders, refinement
    def _start_progress(self, text: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(text + " %p%")
        for w in self._progress_widgets:
            w.show()
        self.train_encoders_button.setEnabled(False)
        self.refine_button.setEnabled(False)

    def _end_progress(self) -> None:
        for w in self._progress_widgets:
            w.hide()
        self.train_encoders_button.setEnabled(True)
        self.refine_button.setEnabled(self.photo is not None)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def train_encoders(self) -> None:
        if self._gen is None or self._loaded_run is None:
            return
        self._start_progress("Training encoders")
        self.photo_message.setText("Training the encoders (E_z on generated faces, E_y on the run's labelled "
                                   "data)…")
        self._long_slot.start("train encoders", train_run_encoders, self._loaded_run, self._gen,
                              self.encoder_steps.value(), self.encoder_batch, with_state=True,
                              on_progress=self._on_progress, on_done=self._encoders_trained,
                              on_failed=self._long_failed, on_cancelled=self._long_cancelled)

    def _encoders_trained(self, result) -> None:
        self._end_progress()
        self.photo_message.setText(f"Encoders trained ({result.step} steps). Encoding the photo…")
        self.photoChanged.emit("encoders-trained")
        if getattr(self, "_aligned", None) is not None:
            self._start_encode(self._aligned)

    def refine(self) -> None:
        if self.photo is None or self._gen is None:
            return
        self._refine_stop = threading.Event()
        self._start_progress("Refining")
        self._long_slot.start("refine", refine_photo, self._gen, self.photo["aligned"], self.photo["z"],
                              self.photo["y"], REFINE_STEPS, self._refine_stop, with_state=True,
                              on_progress=self._on_progress, on_done=self._refined, on_failed=self._long_failed,
                              on_cancelled=self._long_cancelled)

    def _refined(self, result: dict) -> None:
        self._end_progress()
        touched = self.settings()
        self.photo.update(result)
        self.recon_view.set_array(result["reconstruction"])
        self.photo_message.setText("Refined: the reconstruction is closer to the photo; the sliders still edit it.")
        self._touched = set(touched)
        self._face_throttle.trigger()
        self.photoChanged.emit("refined")

    def cancel_long_task(self) -> None:
        self._refine_stop.set()  # refinement stops early and keeps its best z
        task = self._long_slot.task
        if task is not None and task.name != "refine":
            self._long_slot.cancel()
            self._long_cancelled()

    def _long_failed(self, exc: BaseException) -> None:
        self._end_progress()
        self._photo_failed_text(readable(exc))

    def _long_cancelled(self) -> None:
        self._end_progress()
        self.photo_message.setText("Cancelled.")

    # ---------------------------------------------------------------- lifetime
    def shutdown(self) -> None:
        self._render_throttle.cancel()
        self._face_throttle.cancel()
        self._refine_stop.set()
        self.runner.shutdown()
        self.worker.shutdown()
