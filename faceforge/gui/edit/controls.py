"""The right-hand column of the Edit pane: seed, truncation and one slider per attribute of the current face.

The widgets write to the :class:`~faceforge.editing.state.FaceState` and follow it: when the current face changes
(another cell, the photo encoded) or its attributes are reset, the sliders move to its values without rendering.
"""
from __future__ import annotations

import random

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSlider, QSpinBox, QVBoxLayout, QWidget)

from faceforge.editing.state import FaceState

SLIDER_SCALE = 100  # slider integer units per attribute unit (-2..+2)


class FaceControls(QWidget):
    def __init__(self, face: FaceState, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}

        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(face.seed)
        self.seed.valueChanged.connect(face.set_seed)
        prev_b, next_b, rand_b = QPushButton("◀"), QPushButton("▶"), QPushButton("Random")
        prev_b.setToolTip("Previous seed")
        next_b.setToolTip("Next seed")
        prev_b.clicked.connect(lambda: self.seed.setValue(max(0, self.seed.value() - 1)))
        next_b.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        rand_b.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        self.seed_buttons = (prev_b, next_b, rand_b)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        for b in self.seed_buttons:
            seed_row.addWidget(b)
        self.truncation = QSlider(Qt.Orientation.Horizontal)
        self.truncation.setRange(10, 150)
        self.truncation.setValue(int(round(face.truncation * 100)))
        self.truncation.setToolTip("Lower = more typical faces, less variety (sampled faces only)")
        self.truncation_label = QLabel(f"{face.truncation:.2f}")
        self.truncation.valueChanged.connect(lambda v: face.set_truncation(v / 100))
        trunc_row = QHBoxLayout()
        trunc_row.addWidget(self.truncation, 1)
        trunc_row.addWidget(self.truncation_label)

        self.attr_box = QGroupBox("Attributes (−2 … +2)")
        self.attr_layout = QGridLayout(self.attr_box)
        self.no_attrs = QLabel("This model has no attributes (it is not conditional).")
        self.no_attrs.setWordWrap(True)
        self.attr_layout.addWidget(self.no_attrs, 0, 0, 1, 3)
        self.reset_button = QPushButton("Reset attributes")
        self.reset_button.clicked.connect(face.reset_attributes)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.attr_box)

        form = QFormLayout()
        form.addRow("Seed", seed_row)
        form.addRow("Truncation", trunc_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.reset_button)
        self.setMinimumWidth(320)
        face.observe(self._face_changed)

    def enable_actions(self, on: bool) -> None:
        for w in (self.seed, self.truncation, self.attr_box, self.reset_button, *self.seed_buttons):
            w.setEnabled(on)

    def set_attribute(self, name: str, value: float) -> None:
        """As if the user moved the slider (so the value is the slider's, rounded to its steps)."""
        self.sliders[name].setValue(int(round(value * SLIDER_SCALE)))

    def _face_changed(self, change: str) -> None:
        if change == "model":
            self._build_sliders()
        elif change == "truncation":
            self.truncation_label.setText(f"{self.face.truncation:.2f}")
        elif change in ("attribute", "reset", "face"):
            self._show_values()

    def _build_sliders(self) -> None:
        names = self.face.attributes
        while self.attr_layout.count():
            w = self.attr_layout.takeAt(0).widget()
            if w is not None and w is not self.no_attrs:
                w.deleteLater()
        self.sliders.clear()
        self._value_labels.clear()
        self.no_attrs.setVisible(not names)
        if not names:
            self.attr_layout.addWidget(self.no_attrs, 0, 0, 1, 3)
        for row, name in enumerate(names):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-2 * SLIDER_SCALE, 2 * SLIDER_SCALE)
            value = QLabel("")
            value.setMinimumWidth(44)
            slider.valueChanged.connect(lambda v, n=name: self.face.set_attribute(n, v / SLIDER_SCALE))
            self.attr_layout.addWidget(QLabel(name), row, 0)
            self.attr_layout.addWidget(slider, row, 1)
            self.attr_layout.addWidget(value, row, 2)
            self.sliders[name] = slider
            self._value_labels[name] = value
        for r in range(self.attr_layout.rowCount()):
            self.attr_layout.setRowStretch(r, 0)
        self.attr_layout.setRowStretch(len(names) + 1, 1)  # rows packed at the top, not spread out
        self.reset_button.setEnabled(bool(names))
        self._show_values()

    def _show_values(self) -> None:
        """The sliders at the current face's values, moved without rendering (a value beyond ±2 shows at the end
        of its slider and as itself in the label)."""
        values = self.face.edits.values
        for name, slider in self.sliders.items():
            v = values.get(name, 0.0)
            slider.blockSignals(True)
            slider.setValue(int(round(max(-2.0, min(2.0, v)) * SLIDER_SCALE)))
            slider.blockSignals(False)
            self._value_labels[name].setText(f"{v:+.2f}")
