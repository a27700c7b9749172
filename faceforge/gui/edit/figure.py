"""The Figure tab: the axis-incremental figure (each face, then moved along one attribute, then along another) for
the pane's seed and truncation, shown with its column headings and exported as PNG with a recipe."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from faceforge.editing.state import FaceState
from faceforge.gui.edit.shared import ask_save, wrote
from faceforge.gui.edit.workers import render_axis_figure
from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.tasks import TaskRunner, TaskSlot

NO_SECOND = "(none)"


class FigureTab(QWidget):
    rendered = Signal()
    exported = Signal(str)
    status = Signal(str)

    def __init__(self, face: FaceState, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.gen = None
        self.run: Path | None = None
        self.figure = None  # the last Rendered figure
        self._slot = TaskSlot(runner, self)
        self.attr1, self.attr2 = QComboBox(), QComboBox()
        self.faces = QSpinBox()
        self.faces.setRange(1, 16)
        self.faces.setValue(4)
        self.values = QLineEdit("")
        self.values.setPlaceholderText("each attribute's own: binary -1, 0, 1; others low, mean, high")
        self.values.setToolTip("The values both attributes take, in their units, comma separated (empty: each "
                               "attribute's own: -1, 0, +1 for binary ones, the data's low, mean and high for others)")
        self.button = QPushButton("Render and export PNG…")
        self.button.clicked.connect(self._clicked)
        form = QFormLayout()
        form.addRow("First attribute", self.attr1)
        form.addRow("Second attribute", self.attr2)
        form.addRow("Faces (rows)", self.faces)
        form.addRow("Values", self.values)
        self.view = PixelView(empty_text="The axis-incremental figure: each face, then moved along one attribute, "
                                         "then along the other (seed and truncation as set)", min_side=100)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.button)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)

    def set_generator(self, gen, run: Path | None, *, follow: bool = False) -> None:
        """A new generator: its attributes to choose from; the old figure is gone (a newer checkpoint of the same
        model, ``follow``: the choices stay and a figure on screen is drawn again)."""
        self.gen, self.run = gen, run
        if gen is None:
            return
        if follow:
            if self.figure is not None:
                self.render(None)
            return
        names = list(gen.attributes)
        for combo, extra in ((self.attr1, []), (self.attr2, [NO_SECOND])):
            combo.clear()
            combo.addItems(names + extra)
        if len(names) > 1:
            self.attr2.setCurrentIndex(1)
        self.figure = None
        self.view.set_array(None)

    def enable_actions(self, on: bool) -> None:
        self.button.setEnabled(on and self.gen is not None and bool(self.gen.attributes))

    def _clicked(self) -> None:
        path = ask_save(self, "Export the axis-incremental figure", self.run, "axis-incremental.png",
                        "PNG image (*.png)")
        if path is not None:
            self.render(path.with_suffix(".png"))

    def render(self, path: str | Path | None) -> None:
        """Render the figure; with a ``path``, also write NAME.png (+ recipe) and NAME-labelled.png."""
        if self.gen is None:
            return
        names = [self.attr1.currentText()]
        if self.attr2.currentText() not in (NO_SECOND, "", names[0]):
            names.append(self.attr2.currentText())
        try:
            text = self.values.text().strip()
            values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()] if text else None
            if values == []:
                raise ValueError
        except ValueError:
            self.message.setText("Values must be numbers separated by commas, e.g. -1, 0, 1")
            return
        self.message.setText("Rendering…")
        self._slot.start("axis figure", render_axis_figure, self.gen, None if path is None else Path(path),
                         n_faces=self.faces.value(), seed=self.face.seed, attributes=names, values=values,
                         truncation=self.face.truncation, run=self.run, labels=self.face.labels,
                         on_done=lambda r, p=path: self._done(r, p), on_failed=self._failed)

    def _done(self, rendered, path) -> None:
        self.figure = rendered
        self.view.set_array(rendered.labelled_image)
        self.message.setText(f"{len(rendered.rows)} faces × {rendered.ncols} columns: " + ", ".join(rendered.columns))
        self.rendered.emit()
        if path is not None:
            path = Path(path)
            text = wrote(path, also=path.stem + "-labelled.png (with headings, for people)")
            self.message.setText(text)
            self.status.emit(text)
            self.exported.emit(str(path))

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(readable(exc))
        self.status.emit(readable(exc))
