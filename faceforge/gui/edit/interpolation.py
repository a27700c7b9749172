"""The Interpolation tab: the faces between end A and end B (set from the current face), as a strip to look at and
to export as an animated GIF, an MP4 video (H.264) or a PNG strip, 1, 2 or 4 times the model's size, each with a
recipe. For a model with a W space the strip goes in W (the ends' styles lerped) or in z (slerp)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QPushButton, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget, QHBoxLayout)

from faceforge.editing.state import InterpolationEnds
from faceforge.gui.edit.shared import ask_save, small_view, wrote
from faceforge.gui.edit.workers import render_interpolation, save_interpolation
from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.tasks import TaskRunner, TaskSlot

W_ON_TIP = ("In W: the two faces' per-layer styles (as shown: truncated and mixed) are blended linearly. In z: the "
            "latents follow the great circle (slerp), each frame drawn with A's truncation and mix")
W_OFF_TIP = "Interpolating in W needs a model with a W space (a style-based generator); this one interpolates in z"


class InterpolationTab(QWidget):
    rendered = Signal()
    exported = Signal(str)
    status = Signal(str)

    def __init__(self, ends: InterpolationEnds, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.ends = ends
        self.gen = None
        self.run: Path | None = None
        self.interpolation = None  # the last Rendered strip
        self._render_slot = TaskSlot(runner, self)
        self._export_slot = TaskSlot(runner, self)

        self.a_view = small_view("A: “Set as A” under the current face", 80)
        self.b_view = small_view("B: “Set as B” under the current face", 80)
        self.swap_button = QToolButton()
        self.swap_button.setText("⇄")
        self.swap_button.setToolTip("Swap A and B")
        self.swap_button.clicked.connect(ends.swap)
        arrow = QVBoxLayout()
        arrow.addStretch(1)
        arrow.addWidget(QLabel("→"), 0, Qt.AlignmentFlag.AlignCenter)
        arrow.addWidget(self.swap_button, 0, Qt.AlignmentFlag.AlignCenter)
        arrow.addStretch(1)
        row_ends = QGridLayout()  # both ends in equal columns: the same size whatever their hint texts say
        row_ends.addWidget(self.a_view, 0, 0)
        row_ends.addLayout(arrow, 0, 1)
        row_ends.addWidget(self.b_view, 0, 2)
        row_ends.setColumnStretch(0, 1)
        row_ends.setColumnStretch(2, 1)
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(8)
        self.steps.setSuffix(" frames")
        self.steps.valueChanged.connect(lambda _v: self.render())
        self.space = QComboBox()
        self.space.addItem("in W (linear)", "w")
        self.space.addItem("in z (slerp)", "z")
        self.space.currentIndexChanged.connect(lambda _i: self.render())
        self.space.setEnabled(False)
        self.space.setToolTip(W_OFF_TIP)
        self.strip = PixelView(empty_text="The interpolation from A to B appears here", min_side=60)
        self.gif_button = QPushButton("Export GIF…")
        self.gif_button.clicked.connect(lambda: self._export_clicked(".gif"))
        self.mp4_button = QPushButton("Export MP4…")
        self.mp4_button.setToolTip("An H.264 video (plays on phones, in browsers and slides)")
        self.mp4_button.clicked.connect(lambda: self._export_clicked(".mp4"))
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(lambda: self._export_clicked(".png"))
        self.scale = QComboBox()
        for factor in (1, 2, 4):
            self.scale.addItem(f"{factor}×", factor)
        self.scale.setCurrentIndex(2)
        self.scale.setToolTip("Export size: each face 1, 2 or 4 times the model's pixels (crisp)")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.steps)
        row.addWidget(self.space)
        row.addStretch(1)
        row.addWidget(self.scale)
        row.addWidget(self.gif_button)
        row.addWidget(self.mp4_button)
        row.addWidget(self.png_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row_ends, 2)
        layout.addWidget(self.strip, 2)
        layout.addLayout(row)
        layout.addWidget(self.message)
        ends.observe(self._ends_changed)

    def set_generator(self, gen, run: Path | None, *, follow: bool = False) -> None:
        """A new generator: the old ends and strip belong to the old model; a newer checkpoint of the same one
        (``follow``) keeps the ends and redraws the strip."""
        self.gen, self.run = gen, run
        w = gen is not None and gen.w_space
        self.space.setEnabled(w)
        self.space.setToolTip(W_ON_TIP if w else W_OFF_TIP)
        if not w:
            self.space.setCurrentIndex(self.space.findData("z"))
        if gen is not None:  # by default faces come out about 128 px
            self.scale.setCurrentIndex(self.scale.findData(max(1, min(4, 128 // max(1, gen.resolution)))))
        if gen is not None and follow:
            self.render()
        elif gen is not None:
            self.ends.clear()

    def enable_actions(self, on: bool) -> None:
        for w in (self.gif_button, self.mp4_button, self.png_button, self.scale, self.steps, self.swap_button):
            w.setEnabled(on)
        self.space.setEnabled(on and self.gen is not None and self.gen.w_space)

    def _ends_changed(self, change: str) -> None:
        a, b = self.ends.get("A"), self.ends.get("B")
        self.a_view.set_array(None if a is None else a.image)
        self.b_view.set_array(None if b is None else b.image)
        if change == "cleared":
            self.interpolation = None
            self.strip.set_array(None)
        elif self.ends.complete:
            self.render()
        elif change == "set":
            self.message.setText("Now choose the other end (“Set as A” / “Set as B”).")

    def render(self) -> None:
        if self.gen is None or not self.ends.complete:
            return
        self.message.setText("Rendering…")
        self._render_slot.start("interpolate", render_interpolation, self.gen, self.ends.get("A"),
                                self.ends.get("B"), self.steps.value(), 1.0, self.space.currentData(),
                                on_done=self._rendered, on_failed=self._failed)

    def _rendered(self, rendered) -> None:
        from faceforge.imaging import make_grid

        self.interpolation = rendered
        self.strip.set_array(make_grid(rendered.images, ncols=len(rendered.images)))
        self.message.setText(f"{len(rendered.images)} frames from A to B.")
        self.rendered.emit()

    def _export_clicked(self, suffix: str) -> None:
        if self.interpolation is None:
            self.message.setText("Set A and B first.")
            return
        filt = {".gif": "Animated GIF (*.gif)", ".mp4": "MP4 video (*.mp4)"}.get(suffix, "PNG image (*.png)")
        path = ask_save(self, "Export the interpolation", self.run, f"interpolation{suffix}", filt)
        if path is not None:
            self.export(path.with_suffix(suffix))

    def export(self, path: str | Path, *, scale: int | None = None) -> None:
        """The last strip as an animated GIF (``.gif``), an MP4 (``.mp4``) or a PNG strip, each face enlarged
        ``scale`` times (default: the size chosen), with a recipe."""
        if self.interpolation is None or self.gen is None:
            return
        scale = int(scale or self.scale.currentData())
        self.message.setText("Exporting…")
        self._export_slot.start("export interpolation", save_interpolation, self.gen, self.interpolation,
                                Path(path), run=self.run, scale=scale, on_done=self._exported,
                                on_failed=self._failed)

    def _exported(self, path) -> None:
        text = wrote(path)
        self.message.setText(text)
        self.status.emit(text)
        self.exported.emit(str(path))

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(readable(exc))
        self.status.emit(readable(exc))
