"""The right-hand column of the Edit pane: seed, default attributes, truncation (for a model with W: psi towards the
average face, with the W controls of :mod:`faceforge.gui.edit.styles_box` under it) and one slider (with a spin
box for a typed value) per attribute of the current face.

Every attribute speaks its own units: a continuous column (an age in years) spans its training data's range, a
binary one -2..+2. The widgets write to the :class:`~faceforge.editing.state.FaceState` and follow it: when the
current face changes (another cell, the photo encoded) or its attributes are reset, the sliders move to its values
without rendering. For an encoded photo the values E_y read are estimates: each is marked "est." (with E_y's
held-out reliability in its tooltip) until the user sets it, which marks it "set".
"""
from __future__ import annotations

import random

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSlider, QSpinBox, QVBoxLayout, QWidget)

from faceforge.data.label_scales import IDENTITY
from faceforge.editing.state import Z_TRUNCATION, FaceState
from faceforge.gui.edit.styles_box import StyleControls

SLIDER_STEPS = 400  # slider positions across an attribute's range
Z_TIP = "Lower = more typical faces, less variety (sampled faces only): z is scaled towards 0"
W_TIP = ("psi: each face's styles pulled towards the average face w_avg at the layers chosen below (0 = the "
         "average face, 1 = the face's own); sampled faces only")
LABEL_CHOICES = (("data", "varied (from the training labels)"), ("mean", "neutral (mean)"))


def format_value(v: float, decimals: int = 2) -> str:
    """A value for people: no "-0.00"."""
    text = f"{v:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text


class AttributeRow:
    """One attribute: name, slider over its range in units, a spin box that takes a typed value, and the mark."""

    def __init__(self, controls: "FaceControls", name: str, low: float, high: float):
        self.name, self.low, self.high = name, low, high
        self.decimals = 2 if high - low <= 20 else 1
        self.label = QLabel(name)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(low, high)
        self.spin.setDecimals(self.decimals)
        self.spin.setSingleStep((high - low) / 40)
        self.spin.setKeyboardTracking(False)  # a typed value applies on Enter or leaving the box
        self.spin.setMinimumWidth(72)
        self.mark = QLabel("")
        self.mark.setMinimumWidth(26)
        self.slider.valueChanged.connect(lambda i: controls.face.set_attribute(name, self.value_at(i)))
        self.spin.valueChanged.connect(lambda v: controls.face.set_attribute(name, float(v)))

    def value_at(self, i: int) -> float:
        return self.low + (self.high - self.low) * i / SLIDER_STEPS

    def position_of(self, v: float) -> int:
        t = (min(self.high, max(self.low, v)) - self.low) / max(1e-12, self.high - self.low)
        return int(round(t * SLIDER_STEPS))

    def show(self, v: float) -> None:
        """Both widgets at ``v`` without telling the face (a value outside the range sits at its end)."""
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.slider.setValue(self.position_of(v))
        self.spin.setValue(v)
        self.spin.setSpecialValueText("")
        for w in (self.slider, self.spin):
            w.blockSignals(False)
        self.spin.setToolTip(f"{self.name} = {format_value(v, self.decimals)} (type a value, Enter)")

    def widgets(self):
        return self.label, self.slider, self.spin, self.mark


class FaceControls(QWidget):
    def __init__(self, face: FaceState, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.rows: dict[str, AttributeRow] = {}

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
        self.labels = QComboBox()
        for key, text in LABEL_CHOICES:
            self.labels.addItem(text, key)
        self.labels.setToolTip("Attributes of the sampled faces you did not set: each face a row of the training "
                               "labels (drawn by the seed), or every face the data's mean")
        self.labels.currentIndexChanged.connect(lambda _i: face.set_labels(self.labels.currentData()))
        self.truncation = QSlider(Qt.Orientation.Horizontal)
        self.truncation.setRange(int(Z_TRUNCATION[0] * 100), int(Z_TRUNCATION[1] * 100))
        self.truncation.setValue(int(round(face.truncation * 100)))
        self.truncation.setToolTip(Z_TIP)
        self.truncation_label = QLabel(f"{face.truncation:.2f}")
        self.truncation.valueChanged.connect(lambda v: face.set_truncation(v / 100))
        trunc_row = self.trunc_row = QHBoxLayout()
        trunc_row.addWidget(self.truncation, 1)
        trunc_row.addWidget(self.truncation_label)

        self.attr_box = QGroupBox("Attributes")
        self.attr_layout = QGridLayout(self.attr_box)
        self.no_attrs = QLabel("This model has no attributes (it is not conditional).")
        self.no_attrs.setWordWrap(True)
        self.attr_layout.addWidget(self.no_attrs, 0, 0, 1, 4)
        self.estimate_note = QLabel("")
        self.estimate_note.setWordWrap(True)
        self.reset_button = QPushButton("Reset attributes")
        self.reset_button.clicked.connect(face.reset_attributes)
        scroll = self.attr_scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.attr_box)

        form = self.form = QFormLayout()
        form.addRow("Seed", seed_row)
        form.addRow("Faces", self.labels)
        form.addRow("Truncation", trunc_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.styles = StyleControls(face)
        layout.addLayout(form)
        layout.addWidget(self.styles)
        layout.addWidget(self.estimate_note)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.reset_button)
        self.setMinimumWidth(340)
        face.observe(self._face_changed)

    # kept for callers that read the sliders directly
    @property
    def sliders(self) -> dict[str, QSlider]:
        return {name: row.slider for name, row in self.rows.items()}

    @property
    def spins(self) -> dict[str, QDoubleSpinBox]:
        return {name: row.spin for name, row in self.rows.items()}

    def enable_actions(self, on: bool) -> None:
        for w in (self.seed, self.truncation, self.attr_box, self.reset_button, *self.seed_buttons):
            w.setEnabled(on)
        self.labels.setEnabled(on and bool(self.face.attributes))  # default attributes of a model that has some
        self.styles.enable_actions(on)

    def set_label_sample(self, available: bool) -> None:
        """Older checkpoints keep no label rows: only the mean is offered."""
        self.labels.model().item(0).setEnabled(available)
        if not available:
            self.labels.setCurrentIndex(1)

    def set_attribute(self, name: str, value: float) -> None:
        """As if the user typed the value into the attribute's spin box."""
        self.rows[name].spin.setValue(value)

    def _face_changed(self, change: str) -> None:
        if change == "model":
            self._show_truncation_range()
            self._build_rows()
        elif change == "truncation":
            self._show_truncation_range()  # the slider follows a value set elsewhere (a recipe opened)
        elif change == "seed" and self.seed.value() != self.face.seed:
            self.seed.blockSignals(True)
            self.seed.setValue(self.face.seed)
            self.seed.blockSignals(False)
        elif change == "labels" and self.labels.currentData() != self.face.labels:
            self.labels.blockSignals(True)
            self.labels.setCurrentIndex(max(0, self.labels.findData(self.face.labels)))
            self.labels.blockSignals(False)
        elif change in ("attribute", "reset", "face", "grid", "refreshed"):
            self._show_values()

    def _show_truncation_range(self) -> None:
        """psi 0..1 towards w_avg for a W model, z scaled 0.1..1.5 otherwise; the slider at the face's value."""
        low, high = (0.0, 1.0) if self.face.w_space else Z_TRUNCATION
        self.truncation.blockSignals(True)
        self.truncation.setRange(int(round(low * 100)), int(round(high * 100)))
        self.truncation.setValue(int(round(self.face.truncation * 100)))
        self.truncation.blockSignals(False)
        self.truncation.setToolTip(W_TIP if self.face.w_space else Z_TIP)
        self.truncation_label.setText(f"{self.face.truncation:.2f}")
        label = self.form.labelForField(self.trunc_row)
        if label is not None:
            label.setText("Truncation ψ" if self.face.w_space else "Truncation")

    def _build_rows(self) -> None:
        names = self.face.attributes
        while self.attr_layout.count():
            w = self.attr_layout.takeAt(0).widget()
            if w is not None and w is not self.no_attrs:
                w.deleteLater()
        self.rows.clear()
        self.no_attrs.setVisible(not names)
        if not names:
            self.attr_layout.addWidget(self.no_attrs, 0, 0, 1, 4)
        # an unconditional model: one line, and the room goes to the boxes under it (directions); no default
        # attributes to choose
        self.attr_scroll.setMaximumHeight(16777215 if names else self.no_attrs.sizeHint().height() + 48)
        self.labels.setEnabled(bool(names) and self.seed.isEnabled())
        units = False
        for r, name in enumerate(names):
            scale = self.face.scales.get(name, IDENTITY)
            units = units or scale.in_units
            row = AttributeRow(self, name, *scale.slider_range())
            for col, w in enumerate(row.widgets()):
                self.attr_layout.addWidget(w, r, col)
            self.rows[name] = row
        self.attr_box.setTitle("Attributes (binary −2 … +2; others in their own units)" if units
                               else "Attributes (−2 … +2)")
        self.attr_layout.setColumnStretch(1, 1)
        for r in range(self.attr_layout.rowCount()):
            self.attr_layout.setRowStretch(r, 0)
        self.attr_layout.setRowStretch(len(names) + 1, 1)  # rows packed at the top, not spread out
        self.reset_button.setEnabled(bool(names))
        self._show_values()

    def _show_values(self) -> None:
        """The rows at the current face's values, moved without rendering, and each value's mark: for the photo,
        "est." (E_y's guess) or "set" (the user's)."""
        edits, photo = self.face.edits, self.face.showing_photo
        from faceforge.editing.encoder_quality import describe_reliability  # torch: load when a photo is read

        reliability = getattr(self.face.photo, "reliability", None) or {}
        for name, row in self.rows.items():
            row.show(edits.values.get(name, 0.0))
            if edits.is_estimate(name):
                row.mark.setText("est." if photo else "")
                row.mark.setToolTip(f"E_y's estimate from the photo: {describe_reliability(reliability.get(name))}."
                                    " Move the slider or type a value to correct it." if photo else "")
            else:
                row.mark.setText("set")
                row.mark.setToolTip("Set by you")
        if photo and self.rows:
            known = [f"{n} {describe_reliability(reliability.get(n))}" for n in self.rows if n in reliability]
            self.estimate_note.setText(
                "Values marked “est.” are E_y's estimates from the photo, not facts: "
                + ("; ".join(known) if known else "their reliability is unknown (these encoders recorded no "
                   "held-out score)") + ". Correct one by moving its slider or typing a value.")
            self.estimate_note.show()
        else:
            self.estimate_note.hide()
