"""The Edit pane's W controls (models with a W space): which style layers the truncation slider pulls towards the
average face, and style mixing - a second face (the current face via "Use as style source", or a seed's first
face) whose styles the chosen layers take, in the grid and the current face, live.

A thin layer over :class:`~faceforge.editing.state.FaceState` (``set_truncation_layers``, ``set_mix_source``,
``set_mix_layers``, ``clear_mix``), which checks the ranges; a range this model does not have is reported here and
changes nothing. For a model without W the box stays disabled and its tooltip says why.
"""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from faceforge.editing.state import FaceState
from faceforge.gui.edit.shared import small_view

CUSTOM = "custom"
TRUNCATION_CHOICES = ("all", "coarse", "middle", "fine", CUSTOM)
MIX_CHOICES = ("coarse", "middle", "fine", CUSTOM)
NO_W_TIP = ("Truncation by layer and style mixing need a model with a W space (a style-based generator); this "
            "model maps z straight to pixels, so truncation scales z")


class LayerChoice(QWidget):
    """A named range or a custom "a-b" typed beside it; ``apply(text)`` is called with what was chosen."""

    def __init__(self, choices: tuple[str, ...], apply, parent: QWidget | None = None):
        super().__init__(parent)
        self.apply = apply
        self.combo = QComboBox()
        for name in choices:
            self.combo.addItem(name, name)
        self.custom = QLineEdit("")
        self.custom.setPlaceholderText("a-b, e.g. 0-3")
        self.custom.setMaximumWidth(80)
        self.custom.setVisible(False)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.custom.editingFinished.connect(lambda: self.apply(self.custom.text()) if self.custom.text() else None)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.custom)

    def _chosen(self, _index: int) -> None:
        name = self.combo.currentData()
        self.custom.setVisible(name == CUSTOM)
        if name != CUSTOM:
            self.apply(name)
        elif self.custom.text():
            self.apply(self.custom.text())

    def choose(self, text: str) -> None:
        """As if the user picked ``text`` (a name, or a range typed into the custom box)."""
        index = self.combo.findData(text)
        if index >= 0:
            self.combo.setCurrentIndex(index)
            return
        self.custom.setText(text)
        if self.combo.currentData() == CUSTOM:
            self.apply(text)
        else:
            self.combo.setCurrentIndex(self.combo.findData(CUSTOM))

    def show_quietly(self, text: str) -> None:
        """The widgets at ``text`` without applying it (a new model reset it)."""
        self.combo.blockSignals(True)
        index = self.combo.findData(text)
        self.combo.setCurrentIndex(index if index >= 0 else self.combo.findData(CUSTOM))
        self.custom.setText("" if index >= 0 else text)
        self.custom.setVisible(index < 0)
        self.combo.blockSignals(False)


class StyleControls(QGroupBox):
    def __init__(self, face: FaceState, parent: QWidget | None = None):
        super().__init__("Styles (W)", parent)
        self.face = face
        self.gen = None
        self.truncation_layers = LayerChoice(TRUNCATION_CHOICES, self._set_truncation_layers)
        self.truncation_layers.setToolTip("The style layers the truncation slider pulls towards the average face: "
                                          "coarse (pose, shape), middle (features), fine (colour, texture) or a "
                                          "range a-b")
        self.source_view = small_view("none", 56)
        self.source_view.setFixedSize(56, 56)
        self.source_label = QLabel("No style source: “Use as style source” under the current face, or a seed")
        self.source_label.setWordWrap(True)
        self.mix_seed = QSpinBox()
        self.mix_seed.setRange(0, 2**31 - 1)
        self.mix_seed.setToolTip("The first face of this seed's grid gives its styles")
        self.use_seed_button = QPushButton("Use seed")
        self.use_seed_button.setToolTip("Mix with the first face of this seed's grid")
        self.use_seed_button.clicked.connect(self.use_seed)
        self.mix_layers = LayerChoice(MIX_CHOICES, self._set_mix_layers)
        self.mix_layers.setToolTip("The layers the style source gives: coarse (pose, face shape), middle (features, "
                                   "hair style), fine (colours, micro-texture), or a range a-b")
        self.clear_button = QPushButton("Clear mix")
        self.clear_button.clicked.connect(face.clear_mix)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        source = QHBoxLayout()
        source.addWidget(self.source_view)
        source.addWidget(self.source_label, 1)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.mix_seed, 1)
        seed_row.addWidget(self.use_seed_button)
        seed_row.addWidget(self.clear_button)
        self.body = QWidget()  # folded away for a model without W: one line says why, the attributes keep the room
        self.no_w = QLabel("Truncation by layer, style mixing and interpolation in W need a model with a W space.")
        self.no_w.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.addWidget(self.body)
        outer.addWidget(self.no_w)
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Truncate", self.truncation_layers)
        form.addRow("Style source", source)
        form.addRow("Source seed", seed_row)
        form.addRow("Mix layers", self.mix_layers)
        form.addRow(self.message)
        face.observe(self._face_changed)
        self._show_state()

    def set_generator(self, gen) -> None:
        self.gen = gen
        self._show_state()

    @property
    def available(self) -> bool:
        return self.gen is not None and self.face.w_space

    def enable_actions(self, on: bool) -> None:
        self.setEnabled(on and self.available)

    # ---------------------------------------------------------------- actions
    def use_seed(self) -> None:
        """The first face of seed ``mix_seed``'s grid (``seeded_z(seed, 1)`` is that grid's first row)."""
        from faceforge.editing.generator import seeded_z

        if not self.available:
            return
        seed = self.mix_seed.value()
        z = seeded_z(seed, 1, self.gen.z_dim)
        image = self.gen.images(z, self.gen.default_y(1))[0]  # its picture (default labels): one face, quick
        self.face.set_mix_source(z, seed, 0, image)

    def _set_truncation_layers(self, text: str) -> None:
        self._apply(self.face.set_truncation_layers, text)

    def _set_mix_layers(self, text: str) -> None:
        self._apply(self.face.set_mix_layers, text)

    def _apply(self, setter, text: str) -> None:
        if not self.face.w_space:
            return
        try:
            setter(text)
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("")

    # ---------------------------------------------------------------- following the state
    def _face_changed(self, change: str) -> None:
        if change in ("model", "mix", "truncation"):
            self._show_state()
        if change in ("model", "mix"):
            self.message.setText("")  # an earlier complaint no longer applies

    def _show_state(self) -> None:
        face = self.face
        self.setEnabled(self.available)
        self.setToolTip("" if self.available else NO_W_TIP)
        self.body.setVisible(face.w_space)
        self.no_w.setVisible(not face.w_space)
        if not face.w_space:
            self.message.setText("")
        self.truncation_layers.show_quietly(face.truncation_layers)
        self.mix_layers.show_quietly(face.mix_layers)
        mix = face.mix
        self.clear_button.setEnabled(mix is not None)
        self.source_view.set_array(None if mix is None else mix.image)
        self.source_view.set_empty_text("none" if mix is None else "")
        if mix is None:
            self.source_label.setText("No style source: “Use as style source” under the current face, or a seed")
        else:
            start, stop = self.gen.layer_range(mix.layers) if self.available else (0, 0)
            self.source_label.setText(f"Seed {mix.seed}, face {mix.index + 1}: gives layers {start}-{stop - 1} "
                                      f"({mix.layers}) to every face")
