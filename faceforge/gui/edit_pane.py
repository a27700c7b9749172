"""The Edit tab (minimal for now): faces from a run's latest checkpoint, a seed to browse identities, and one slider
per attribute the model was conditioned on.

The generator lives on its own thread (``GeneratorWorker``) and renders "latest request wins", so a slider can be
dragged freely: requests are coalesced to at most ~30 a second here and to one in flight there, and the picture
always ends on the slider's final position. Untouched attributes stay at the training data's mean (the neutral
face), as ``LoadedGenerator`` does by default.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSlider, QSpinBox, QVBoxLayout, QWidget)

from faceforge.gui.images import PixelView
from faceforge.gui.throttle import Throttler
from faceforge.gui.workers import GeneratorWorker

GRID_N = 16
SLIDER_SCALE = 100  # slider integer units per attribute unit (-2..+2)


class EditPane(QWidget):
    modelLoaded = Signal(dict)
    rendered = Signal()
    statusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = GeneratorWorker()
        self.worker.loaded.connect(self._on_loaded)
        self.worker.loadFailed.connect(self._on_failed)
        self.worker.rendered.connect(self._on_rendered)
        self.worker.start()
        self._run: Path | None = None
        self._loaded_run: Path | None = None
        self._info: dict | None = None
        self._sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        self._touched: set[str] = set()
        self._last_request = 0
        self.images: np.ndarray | None = None
        self._render_throttle = Throttler(33, self._send_request, self)

        self.title = QLabel("No model")
        self.title.setStyleSheet("font-weight: 600; font-size: 12pt")
        self.info = QLabel("Select a run with a checkpoint in the Train tab, or train one first.")
        self.info.setWordWrap(True)
        self.reload_button = QPushButton("Reload latest checkpoint")
        self.reload_button.clicked.connect(self.reload)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.reload_button)

        self.current = PixelView(empty_text="The current face appears here", min_side=200)
        self.grid = PixelView(empty_text="Faces for this seed", min_side=200)

        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.valueChanged.connect(self.regenerate)
        prev_b, next_b, rand_b = QPushButton("◀ Previous"), QPushButton("Next ▶"), QPushButton("Random")
        prev_b.clicked.connect(lambda: self.seed.setValue(max(0, self.seed.value() - 1)))
        next_b.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        rand_b.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(prev_b)
        seed_row.addWidget(next_b)
        seed_row.addWidget(rand_b)
        self.truncation = QSlider(Qt.Orientation.Horizontal)
        self.truncation.setRange(10, 150)
        self.truncation.setValue(100)
        self.truncation.setToolTip("Lower = more typical faces, less variety")
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
        controls.setMinimumWidth(340)

        body = QHBoxLayout()
        pictures = QVBoxLayout()
        pictures.addWidget(self.current, 1)
        body.addLayout(pictures, 3)
        body.addWidget(self.grid, 3)
        body.addWidget(controls, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.info)
        layout.addLayout(body, 1)
        self._set_enabled(False)

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
        self._info = info
        self.title.setText(Path(info["run"]).name)
        self.info.setText(f"{info['model']} · {info['resolution']} px · checkpoint at step {info['step']:,}")
        self._build_sliders(info["attributes"], info.get("means"))
        self._set_enabled(True)
        self.modelLoaded.emit(info)
        self.regenerate()

    def _on_failed(self, message: str) -> None:
        self._info = None
        self.info.setText(message)
        self.current.set_array(None)
        self.grid.set_array(None)
        self._set_enabled(False)
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

    # ---------------------------------------------------------------- rendering
    def settings(self) -> dict[str, float]:
        """Only the attributes the user moved; the rest stay at the data's mean."""
        return {n: self._sliders[n].value() / SLIDER_SCALE for n in self._touched}

    def set_attribute(self, name: str, value: float) -> None:
        self._sliders[name].setValue(int(round(value * SLIDER_SCALE)))

    def reset_attributes(self) -> None:
        for name, slider in self._sliders.items():
            slider.blockSignals(True)
            neutral = float(slider.property("neutral") or 0.0)
            slider.setValue(int(round(neutral * SLIDER_SCALE)))
            self._value_labels[name].setText(f"{neutral:+.2f}")
            slider.blockSignals(False)
        self._touched.clear()
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

    def _send_request(self) -> None:
        if self._info is None:
            return
        self._last_request = self.worker.request(seed=self.seed.value(), n=GRID_N, settings=self.settings(),
                                                 truncation=self.truncation.value() / 100)

    def _on_rendered(self, request_id: int, images: np.ndarray) -> None:
        if request_id != self._last_request:
            return  # a newer request is on its way
        from faceforge.training.sampling import make_grid  # torch is loaded by now (the worker used it)

        self.images = images
        self.current.set_array(images[0])
        self.grid.set_array(make_grid(images, ncols=4))
        self.rendered.emit()

    def _set_enabled(self, on: bool) -> None:
        for w in (self.seed, self.truncation, self.attr_box, self.reset_button):
            w.setEnabled(on)

    def shutdown(self) -> None:
        self._render_throttle.cancel()
        self.worker.shutdown()
