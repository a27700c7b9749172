"""The Components tab: unsupervised directions (SeFa, GANSpace) shown as strips of faces, so the user can see what
each component does and name the ones that mean something (issue #17).

A strip is the current face (as drawn, with the direction sliders' edit) moved -3..+3 spreads along one component
(:mod:`faceforge.directions.strips`), computed on the pane's task pool and redrawn when the face changes. SeFa reads
the generator's weights (instant); GANSpace samples latents (progress, time left, Cancel). Neither writes a file:
"Name…" on a strip saves that one component under the user's name in ``RUN/directions/named.json``
(:mod:`faceforge.directions.named`), and the Directions box then shows it as a slider like any other direction.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from faceforge.editing.state import FaceState
from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot

METHODS = {"sefa": "SeFa", "ganspace": "GANSpace"}
REDRAW_ON = {"face", "grid", "direction", "attribute", "reset", "truncation", "mix", "labels"}
REDRAW_MS = 150  # strips follow the face after the user pauses (a slider drag sends many changes)
STRIP_HEIGHT = 84
SEFA_TIP = "Components from the generator's first latent-reading weights (SeFa): no sampling, instant"
SEFA_OFF_TIP = "This model does not expose its latent weights, so SeFa cannot read it; GANSpace can"


def sefa_in_background(gen, components: int, seed: int):
    from faceforge.directions.sefa import sefa_directions

    return sefa_directions(gen, components=components, seed=seed)


def ganspace_in_background(gen, components: int, samples: int, seed: int, *, state):
    from faceforge.directions.ganspace import ganspace_directions

    def progress(event: dict) -> None:
        state.set_progress(int(event["done"]), int(event["total"]))

    return ganspace_directions(gen, components=components, samples=samples, seed=seed, progress=progress,
                               should_stop=state.should_stop)


def strips_in_background(gen, dirs, latent, style, edit):
    from faceforge.directions.strips import component_strips

    z, y, truncation = latent
    return component_strips(gen, dirs, z, y, truncation=truncation, style=style, edit=edit)


class NameDialog(QDialog):
    """A name for a component, and which end of its strip the name describes."""

    def __init__(self, component: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Name {component}")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Smiling, Age, Hair length")
        self.reverse = QCheckBox("the name describes the left end (−3)")
        self.reverse.setToolTip("Then the slider's + moves towards the strip's left end")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(f"Save {component} as a direction; it becomes a slider in the Directions box."))
        form.addRow("Name", self.name)
        form.addRow(self.reverse)
        form.addRow(buttons)


class ComponentsTab(QWidget):
    rendered = Signal()  # the strips were redrawn
    named = Signal(str)  # a component was saved as a direction (the file's path)
    status = Signal(str)

    def __init__(self, face: FaceState, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.gen = None
        self.run: Path | None = None
        self.sets: dict[str, object] = {}  # method -> DirectionSet
        self.method: str | None = None
        self.strips: np.ndarray | None = None  # (components, faces, H, W, 3) on screen
        self._compute_slot = TaskSlot(runner, self)
        self._strip_slot = TaskSlot(runner, self)
        self._stale = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.render)
        face.observe(lambda change: self._schedule() if change in REDRAW_ON else None)

        self.sefa_button = QPushButton("SeFa")
        self.sefa_button.setToolTip(SEFA_TIP)
        self.sefa_button.clicked.connect(self.compute_sefa)
        self.ganspace_button = QPushButton("GANSpace")
        self.ganspace_button.setToolTip("Principal components of sampled w (or, for a model without W, of an early "
                                        "layer's output mapped back to z): takes the samples below")
        self.ganspace_button.clicked.connect(self.compute_ganspace)
        self.components = QSpinBox()
        self.components.setRange(1, 32)
        self.components.setValue(8)
        self.components.setSuffix(" components")
        self.samples = QSpinBox()
        self.samples.setRange(100, 200_000)
        self.samples.setSingleStep(1000)
        self.samples.setValue(4000)
        self.samples.setSuffix(" samples")
        self.samples.setToolTip("Latents GANSpace samples (only the mapping network or G's first layer runs)")
        self.showing = QComboBox()
        self.showing.setToolTip("Which computed components the strips show")
        self.showing.setMinimumContentsLength(9)  # "GANSpace" whole
        self.showing.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.showing.currentIndexChanged.connect(self._show_method)
        top = QHBoxLayout()
        for w in (QLabel("Compute"), self.sefa_button, self.ganspace_button, self.components, self.samples):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(QLabel("Showing"))
        top.addWidget(self.showing)
        self.progress = ProgressPanel()
        self.message = QLabel("SeFa or GANSpace: each component as the current face moved from −3 to +3 spreads; "
                              "Name… keeps one as a slider.")
        self.message.setWordWrap(True)
        self.rows = QGridLayout()
        self.rows.setColumnStretch(1, 1)
        holder = QWidget()
        outer = QVBoxLayout(holder)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.rows)
        outer.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(holder)
        self.views: list[PixelView] = []
        self.name_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll, 1)

    # ---------------------------------------------------------------- the model
    def set_generator(self, gen, run: Path | None, *, follow: bool = False) -> None:
        """Another generator: components belong to its weights, so they are computed again (SeFa at once when it
        was shown; GANSpace on request)."""
        shown = self.method
        self._compute_slot.cancel()
        self._strip_slot.cancel()
        self.progress.finish()
        self.gen, self.run = gen, run
        self.sets, self.method, self.strips = {}, None, None
        self.showing.blockSignals(True)
        self.showing.clear()
        self.showing.blockSignals(False)
        self._clear_rows()
        if gen is not None and run is not None:
            self._load_saved()
        if gen is not None and follow and shown == "sefa":
            self.compute_sefa()

    def _load_saved(self) -> None:
        """Components the CLI saved for this very checkpoint (``directions sefa|ganspace`` as sefa.json or
        ganspace.json): offered at once, so a long GANSpace need not be sampled again."""
        from faceforge.directions.sampling import latent_space
        from faceforge.directions.store import directions_dir, load_directions

        for method in METHODS:
            path = directions_dir(self.run) / f"{method}.json"
            try:
                dirs = load_directions(path) if path.is_file() else None
            except (OSError, ValueError):
                continue
            if dirs is None or dirs.meta.get("method") != method or dirs.meta.get("checkpoint_step") != self.gen.step \
                    or dirs.space != latent_space(self.gen) or (dirs.space == "z" and dirs.dim != self.gen.z_dim):
                continue
            self.sets[method] = dirs
            self.showing.addItem(METHODS[method], method)

    def enable_actions(self, on: bool) -> None:
        ready = on and self.gen is not None
        readable_weights = self.gen is None or hasattr(self.gen.G, "latent_weights")
        self.sefa_button.setEnabled(ready and readable_weights)
        self.sefa_button.setToolTip(SEFA_TIP if readable_weights else SEFA_OFF_TIP)
        self.ganspace_button.setEnabled(ready and not self._compute_slot.busy)
        for button in self.name_buttons:
            button.setEnabled(ready and self.run is not None)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self.gen is not None and not self.sets and self.sefa_button.isEnabled():
            self.compute_sefa()  # instant: something to look at as soon as the tab opens
        elif self.method is None and self.sets:
            self._show_method()  # components saved for this checkpoint
        elif self._stale:
            self._schedule()

    # ---------------------------------------------------------------- computing components
    def _seed(self) -> int:
        from faceforge.runs import Run

        try:
            return Run(self.run).config().seed if self.run is not None else 0
        except (OSError, ValueError):
            return 0

    def compute_sefa(self) -> None:
        if self.gen is None:
            return
        self.message.setText("SeFa: reading the generator's weights…")
        self._compute_slot.start("sefa", sefa_in_background, self.gen, self.components.value(), self._seed(),
                                 on_done=lambda d: self._computed("sefa", d), on_failed=self._failed)

    def compute_ganspace(self) -> None:
        if self.gen is None:
            return
        self.ganspace_button.setEnabled(False)
        self.message.setText("")
        self._compute_slot.start("ganspace", ganspace_in_background, self.gen, self.components.value(),
                                 self.samples.value(), self._seed(), with_state=True,
                                 on_started=lambda task: self.progress.track(task, "GANSpace: sampling"),
                                 on_done=lambda d: self._computed("ganspace", d), on_failed=self._failed,
                                 on_cancelled=self._cancelled)

    def _computed(self, method: str, dirs) -> None:
        self.progress.finish()
        self.ganspace_button.setEnabled(self.gen is not None)
        self.sets[method] = dirs
        if self.showing.findData(method) < 0:
            self.showing.addItem(METHODS[method], method)
        self.showing.setCurrentIndex(self.showing.findData(method))
        self._show_method()

    def _failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self.ganspace_button.setEnabled(self.gen is not None)
        self.message.setText(readable(exc))
        self.status.emit(readable(exc))

    def _cancelled(self) -> None:
        self.progress.finish()
        self.ganspace_button.setEnabled(self.gen is not None)
        self.message.setText("GANSpace cancelled.")

    def _show_method(self) -> None:
        method = self.showing.currentData()
        if method is None or method not in self.sets:
            return
        self.method = method
        self._build_rows(self.sets[method])
        self.render()

    # ---------------------------------------------------------------- strips
    def _schedule(self) -> None:
        if self.method is None:
            return
        if not self.isVisible():
            self._stale = True
            return
        self._timer.start()

    def render(self) -> None:
        """Draw every component's strip for the current face, on the task pool."""
        if self.gen is None or self.method is None:
            return
        latent = self.face.latent(self.gen)
        if latent is None:
            self.message.setText("The strips start from the current face: waiting for the sample grid.")
            return
        self._stale = False
        self._strip_slot.start("component strips", strips_in_background, self.gen, self.sets[self.method], latent,
                               self.face.style(), self.face.latent_edit, on_done=self._strips_done,
                               on_failed=self._failed)

    def _strips_done(self, strips: np.ndarray) -> None:
        from faceforge.imaging import make_grid

        self.strips = strips
        for view, row in zip(self.views, strips):
            view.set_array(make_grid(row, ncols=len(row), pad=1))
        dirs = self.sets[self.method]
        source = dirs.meta.get("pca_of") or "the generator's first latent-reading weights"
        self.message.setText(f"{METHODS[self.method]}: {len(dirs.names)} components in {dirs.space}, from {source}.")
        self.rendered.emit()

    def _clear_rows(self) -> None:
        while self.rows.count():
            item = self.rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.views, self.name_buttons = [], []

    def _build_rows(self, dirs) -> None:
        self._clear_rows()
        head = QLabel("−3 spreads   ←   the current face   →   +3 spreads")
        head.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head.setStyleSheet("color: gray")
        self.rows.addWidget(head, 0, 1)
        for i, name in enumerate(dirs.names, start=1):
            fit = dirs.fits[name]
            detail = f"{fit['explained_variance']:.1%} of variance" if "explained_variance" in fit else \
                f"eigenvalue {fit.get('eigenvalue', float('nan')):.3g}"
            label = QLabel(f"<b>{name}</b><br><span style='color: gray'>{detail}</span>")
            label.setTextFormat(Qt.TextFormat.RichText)
            view = PixelView(empty_text="…", min_side=24)
            view.setFixedHeight(STRIP_HEIGHT)
            view.setToolTip(f"{name}: −3, −2, −1, 0 (the current face), +1, +2, +3 spreads")
            button = QPushButton("Name…")
            button.setToolTip(f"Save {name} as a named direction: a slider in the Directions box")
            button.setEnabled(self.run is not None)
            button.clicked.connect(lambda _c=False, k=name: self.ask_name(k))
            self.rows.addWidget(label, i, 0)
            self.rows.addWidget(view, i, 1)
            self.rows.addWidget(button, i, 2)
            self.views.append(view)
            self.name_buttons.append(button)

    # ---------------------------------------------------------------- naming
    def ask_name(self, component: str) -> None:
        dialog = NameDialog(component, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.name.text().strip():
            self.name_component(component, dialog.name.text(), reverse=dialog.reverse.isChecked())

    def name_component(self, component: str, name: str, *, reverse: bool = False) -> Path | None:
        """Save ``component`` of the shown set as direction ``name`` (RUN/directions/named.json); the Directions
        box picks it up through ``named``. None, with the reason shown, when it cannot be saved."""
        from faceforge.directions.named import name_component

        if self.run is None or self.method is None:
            return None
        try:
            path = name_component(self.run, self.sets[self.method], component, name, sign=-1.0 if reverse else 1.0)
        except (OSError, ValueError) as exc:
            self.message.setText(readable(exc))
            return None
        text = f"Saved {component} as “{name.strip()}” in {path.parent.name}/{path.name}: it is a slider now"
        self.message.setText(text)
        self.status.emit(text)
        self.named.emit(str(path))
        return path

    def shutdown(self) -> None:
        self._timer.stop()
        self._compute_slot.cancel()
        self._strip_slot.cancel()
