"""The Edit pane's Directions box: one slider (-3..+3 spreads) per fitted direction of the run
(``RUN/directions/*.json``), labelled with where it came from, a "keep" tick per direction for conditional editing,
and "Fit directions…" (the core's ``fit_for_run`` on the pane's task pool, with progress, time left and Cancel).

The rules (which directions apply, the projection, the frozen edit) are Qt-free in
:mod:`faceforge.directions.sliders`; this box only writes amounts and ticks there and hands the resulting edit to
the :class:`~faceforge.editing.state.FaceState`, which redraws the grid and the current face.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from faceforge.editing.state import FaceState
from faceforge.gui.errors import readable
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot

TICKS = 100  # slider positions per spread
AMOUNT_RANGE = (-3.0, 3.0)  # as faceforge.directions.sliders (imported late: the window opens before torch loads)
NO_CLASSIFIER = ("This run has no attribute classifier yet, and directions are fitted from its scores. Train one "
                 "with Train > Attribute classifier…, or in a terminal: faceforge classifier train --run {run}; "
                 "then Fit directions again.")


def fit_in_background(run_dir: str, samples: int, *, state):
    """Runs on the pool: the core's fit_for_run with the task's progress (faces scored) and cancel."""
    from faceforge.directions.fit import FitOptions, fit_for_run
    from faceforge.runs import Run

    def progress(event: dict) -> None:
        if event.get("stage") == "sampling" and event.get("total"):
            state.set_progress(int(event["done"]), int(event["total"]))

    options = FitOptions(samples=int(samples), seed=Run(Path(run_dir)).config().seed)
    dirs, path = fit_for_run(Path(run_dir), options=options, progress=progress, should_stop=state.should_stop)
    return list(dirs.names), str(path)


class DirectionsBox(QGroupBox):
    status = Signal(str)
    fitted = Signal(str)  # a directions file was written (its path)

    def __init__(self, face: FaceState, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__("Directions", parent)
        self.face = face
        self._model = None
        self.gen = None
        self.run: Path | None = None
        self.sliders: dict[str, QSlider] = {}
        self.keeps: dict[str, QCheckBox] = {}
        self.values: dict[str, QLabel] = {}
        self._slot = TaskSlot(runner, self)
        self.info = QLabel("Load a run to see its fitted directions.")
        self.info.setWordWrap(True)
        self.rows = QGridLayout()
        self.rows.setColumnStretch(1, 1)
        self.fit_button = QPushButton("Fit directions…")
        self.fit_button.setToolTip("Sample faces, score them with the run's attribute classifier and fit one "
                                   "direction per attribute (faceforge directions fit)")
        self.fit_button.clicked.connect(self.fit)
        self.samples = QSpinBox()
        self.samples.setRange(32, 100_000)
        self.samples.setSingleStep(500)
        self.samples.setValue(2000)
        self.samples.setSuffix(" faces")
        self.samples.setToolTip("How many faces to sample and score (more: steadier directions, longer fit)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("All directions back to 0")
        self.reset_button.clicked.connect(self.reset)
        self.progress = ProgressPanel()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for w in (self.fit_button, self.samples, self.reset_button):
            buttons.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(self.rows)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)

    @property
    def model(self):
        """The Qt-free sliders (:class:`faceforge.directions.sliders.DirectionSliders`), made on first use."""
        if self._model is None:
            from faceforge.directions.sliders import DirectionSliders

            self._model = DirectionSliders()
        return self._model

    # ---------------------------------------------------------------- the run's directions
    def set_generator(self, gen, run: Path | None, *, follow: bool = False) -> None:
        """A model loaded anew - another run, or the same run again (a recipe's checkpoint, a load after a
        failure) - gets its run's directions all at 0, like the attribute sliders (FaceState.set_model). A newer
        checkpoint of the same run (``follow``: Reload latest checkpoint, Follow training) keeps the amounts and
        keeps and reads the folder again, so directions fitted meanwhile (in a terminal) appear."""
        same = follow and gen is not None and self.gen is not None and run == self.run
        self.gen, self.run = gen, run
        self.refresh(keep_amounts=same)

    def refresh(self, *, keep_amounts: bool = False) -> None:
        """Read the run's directions again and rebuild the rows: amounts and keeps start at 0, or with
        ``keep_amounts`` stay for the directions still there."""
        before = (dict(self.model.amounts), set(self.model.kept)) if keep_amounts and self._model else ({}, set())
        while self.rows.count():
            item = self.rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.sliders, self.keeps, self.values = {}, {}, {}
        gen = self.gen
        if gen is None:
            if self._model is not None:
                self.model.load_run(None, space="z", dim=0)
        else:
            from faceforge.directions.sampling import latent_space

            space = latent_space(gen)
            self.model.load_run(self.run, space=space, dim=gen.z_dim if space == "z" else -1)
        names = self.model.names if self._model is not None else []
        for row, key in enumerate(names):
            self._add_row(row, key)
        self._restore(*before)
        n = len(names)
        self.info.setText(f"{n} fitted direction{'s' * (n != 1)}; tick keep to hold one still while moving others"
                          if n else "No fitted directions for this model yet: Fit directions… makes one slider per "
                          "attribute of the run's classifier.")
        if self._model is not None and self.model.skipped:
            self.info.setToolTip("Not shown: " + "; ".join(self.model.skipped))
        self.fit_button.setEnabled(gen is not None and self.run is not None)
        if keep_amounts:
            self._apply()
        else:
            self.face.set_latent_edit(None)

    def _restore(self, amounts: dict[str, float], kept: set[str]) -> None:
        """Put back amounts and keep ticks of the directions still listed, widgets quiet (refresh applies one
        edit after)."""
        for key in kept & set(self.keeps):
            self.model.set_kept(key, True)
            self.keeps[key].blockSignals(True)
            self.keeps[key].setChecked(True)
            self.keeps[key].blockSignals(False)
        for key, amount in amounts.items():
            if key in self.sliders:
                self.model.set_amount(key, amount)
                self.sliders[key].blockSignals(True)
                self.sliders[key].setValue(round(amount * TICKS))
                self.sliders[key].blockSignals(False)
                self.values[key].setText(f"{amount:+.2f}")

    def _add_row(self, row: int, key: str) -> None:
        name = QLabel(key)
        name.setToolTip(self.model.label(key))
        source = QLabel(self.model.label(key))
        source.setStyleSheet("color: gray; font-size: 8pt")
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(int(AMOUNT_RANGE[0] * TICKS), int(AMOUNT_RANGE[1] * TICKS))
        slider.setToolTip(f"{key}: -3..+3 spreads (the standard deviation of faces along it)")
        slider.valueChanged.connect(lambda v, k=key: self.set_amount(k, v / TICKS))
        value = QLabel("0.00")
        value.setMinimumWidth(36)
        keep = QCheckBox("keep")
        keep.setToolTip(f"Hold {key} still: other directions are moved orthogonal to it")
        keep.toggled.connect(lambda on, k=key: self.set_kept(k, on))
        self.rows.addWidget(name, 2 * row, 0)
        self.rows.addWidget(slider, 2 * row, 1)
        self.rows.addWidget(value, 2 * row, 2)
        self.rows.addWidget(keep, 2 * row, 3)
        self.rows.addWidget(source, 2 * row + 1, 0, 1, 4)
        self.sliders[key], self.keeps[key], self.values[key] = slider, keep, value

    # ---------------------------------------------------------------- moving
    def set_amount(self, key: str, amount: float) -> None:
        """Move ``key`` to ``amount`` spreads (the slider follows) and redraw with the edit."""
        self.model.set_amount(key, amount)
        slider = self.sliders.get(key)
        if slider is not None and slider.value() != round(amount * TICKS):
            slider.blockSignals(True)
            slider.setValue(round(amount * TICKS))
            slider.blockSignals(False)
        if key in self.values:
            self.values[key].setText(f"{self.model.amounts[key]:+.2f}")
        self._apply()

    def set_kept(self, key: str, on: bool) -> None:
        self.model.set_kept(key, on)
        if key in self.keeps and self.keeps[key].isChecked() != on:
            self.keeps[key].setChecked(on)
        self._apply()

    def reset(self) -> None:
        for key in list(self.model.amounts if self._model is not None else ()):
            self.set_amount(key, 0.0)

    def _apply(self) -> None:
        try:
            edit = self.model.edit()
        except ValueError as exc:  # the moved direction lies in the kept ones' span
            self.message.setText(str(exc))
            return
        self.message.setText("")
        self.face.set_latent_edit(edit)

    # ---------------------------------------------------------------- fitting
    def fit(self) -> None:
        from faceforge.models.classifier import WEIGHTS_NAME, classifier_dir

        if self.run is None:
            return
        if not (classifier_dir(self.run) / WEIGHTS_NAME).is_file():
            self.message.setText(NO_CLASSIFIER.format(run=self.run))
            self.status.emit("No attribute classifier for this run: train one first")
            return
        self.fit_button.setEnabled(False)
        self.message.setText("")
        self._slot.start("fit directions", fit_in_background, str(self.run), self.samples.value(), with_state=True,
                         on_started=lambda task: self.progress.track(task, "Scoring faces"),
                         on_done=self._fitted, on_failed=self._fit_failed, on_cancelled=self._fit_cancelled)

    def _fitted(self, result) -> None:
        names, path = result
        self.progress.finish()
        self.refresh()
        text = f"Fitted {', '.join(names)} -> {Path(path).parent.name}/{Path(path).name}"
        self.message.setText(text)
        self.status.emit(text)
        self.fitted.emit(path)

    def _fit_failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self.fit_button.setEnabled(True)
        self.message.setText(readable(exc))

    def _fit_cancelled(self) -> None:
        self.progress.finish()
        self.fit_button.setEnabled(True)
        self.message.setText("Fit cancelled; nothing was written.")

    def enable_actions(self, on: bool) -> None:
        for w in (*self.sliders.values(), *self.keeps.values(), self.reset_button):
            w.setEnabled(on)
        self.fit_button.setEnabled(on and self.run is not None and self._slot.task is None)
