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
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from faceforge.editing.state import FaceState
from faceforge.gui.edit.layer_chart import LayerChart
from faceforge.gui.errors import readable
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot

TICKS = 100  # slider positions per spread
AMOUNT_RANGE = (-3.0, 3.0)  # as faceforge.directions.sliders (imported late: the window opens before torch loads)
NO_CLASSIFIER = ("This run has no attribute classifier yet, and directions are fitted from its scores. Train one "
                 "with Train > Attribute classifier…, or in a terminal: faceforge classifier train --run {run}; "
                 "then Fit directions again.")
LAYERS_TIP = ("relevant: a direction with a layer ranking (Fit directions… with “rank layers”) moves only its kept "
              "style layers, leaving what the other layers draw alone; all: every direction moves every layer")
LAYERS_NO_W = "A model without W has no style layers: a direction moves z"
LAYERS_NO_RANKING = "No direction here has a layer ranking yet: Fit directions… with “rank layers” makes one"


def amount_text(amount: float) -> str:
    """A slider's value label: "+1.50", "-0.75", and "0.00" at zero however it got there (no "+0.00")."""
    return f"{amount:+.2f}" if round(amount, 2) != 0 else "0.00"


def fit_in_background(run_dir: str, samples: int, relevance: bool = False, *, state):
    """Runs on the pool: the core's fit_for_run with the task's progress (faces scored, then with ``relevance``
    the layer edits scored per attribute) and cancel."""
    from faceforge.directions.fit import FitOptions, fit_for_run
    from faceforge.runs import Run

    def progress(event: dict) -> None:
        if event.get("stage") in ("sampling", "relevance") and event.get("total"):
            state.set_progress(int(event["done"]), int(event["total"]))

    options = FitOptions(samples=int(samples), seed=Run(Path(run_dir)).config().seed, relevance=bool(relevance))
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
        self.samples.setValue(4000)  # faceforge.directions.fit.DEFAULT_SAMPLES (not imported: it loads torch)
        self.samples.setSuffix(" faces")
        self.samples.setToolTip("How many faces to sample and score (more: steadier directions, longer fit)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("All directions back to 0")
        self.reset_button.clicked.connect(self.reset)
        self.progress = ProgressPanel()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.relevance = QCheckBox("rank layers")
        self.relevance.setToolTip("Models with W: also rank the style layers each direction acts through and keep "
                                  "the fewest that give four fifths of its effect (longer fit)")
        self.layers = QComboBox()
        self.layers.addItems(["layers: relevant", "layers: all"])
        self.layers.setToolTip(LAYERS_TIP)
        self.layers.currentIndexChanged.connect(lambda i: self.set_layers("all" if i == 1 else "relevant"))
        self.chart = LayerChart()  # the shown direction's layer ranking (one with a ranking is chosen by its ▮)
        self.chart.hide()
        self.chart_buttons: dict[str, QToolButton] = {}
        buttons = QHBoxLayout()
        for w in (self.fit_button, self.samples, self.reset_button):
            buttons.addWidget(w)
        options = QHBoxLayout()
        options.addWidget(self.relevance)
        options.addStretch(1)
        options.addWidget(self.layers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(self.rows)
        layout.addWidget(self.chart)
        layout.addLayout(buttons)
        layout.addLayout(options)
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
        self.sliders, self.keeps, self.values, self.chart_buttons = {}, {}, {}, {}
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
        self._layer_controls(reset=not keep_amounts)
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
                self.values[key].setText(amount_text(amount))

    def restore_recipe(self, recipe) -> list[str]:
        """Sliders, keep ticks and the layer choice back from a recipe's direction edit (``edits`` "dir:KEY" and
        its ``directions`` record) where its directions file is one of this run's (same SHA-256; the rules are
        :meth:`DirectionSliders.restore`); every other direction at 0. Applies the edit and returns, for people,
        what could not be restored and why."""
        problems = self.model.restore(recipe.edits, recipe.directions) if self.gen is not None else []
        amounts, kept = dict(self.model.amounts), set(self.model.kept)
        for key, slider in self.sliders.items():
            slider.blockSignals(True)
            slider.setValue(round(amounts.get(key, 0.0) * TICKS))
            slider.blockSignals(False)
            self.keeps[key].blockSignals(True)
            self.keeps[key].setChecked(key in kept)
            self.keeps[key].blockSignals(False)
            self.values[key].setText(amount_text(amounts.get(key, 0.0)))
        self.set_layers(self.model.layers)  # the combo follows, and the edit is applied
        return problems

    def _add_row(self, row: int, key: str) -> None:
        name = QLabel(key)
        name.setToolTip(self.model.label(key))
        source = QLabel(self.model.label(key))
        source.setStyleSheet("color: gray; font-size: 8pt")
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(int(AMOUNT_RANGE[0] * TICKS), int(AMOUNT_RANGE[1] * TICKS))
        slider.setToolTip(f"{key}: -3..+3 spreads (the standard deviation of faces along it)")
        slider.valueChanged.connect(lambda v, k=key: self.set_amount(k, v / TICKS))
        value = QLabel(amount_text(0.0))
        value.setMinimumWidth(36)
        keep = QCheckBox("keep")
        keep.setToolTip(f"Hold {key} still: other directions are moved orthogonal to it")
        keep.toggled.connect(lambda on, k=key: self.set_kept(k, on))
        self.rows.addWidget(name, 2 * row, 0)
        self.rows.addWidget(slider, 2 * row, 1)
        self.rows.addWidget(value, 2 * row, 2)
        self.rows.addWidget(keep, 2 * row, 3)
        self.rows.addWidget(source, 2 * row + 1, 0, 1, 4)
        if self.model.ranking(key) is not None:
            chart = QToolButton()
            chart.setText("▮▮")
            chart.setCheckable(True)
            chart.setToolTip(f"Show {key}'s layer ranking (gain per style layer)")
            chart.clicked.connect(lambda _c=False, k=key: self.show_ranking(k))
            self.rows.addWidget(chart, 2 * row, 4)
            self.chart_buttons[key] = chart
        self.sliders[key], self.keeps[key], self.values[key] = slider, keep, value

    # ---------------------------------------------------------------- layers (W models)
    def _layer_controls(self, *, reset: bool = False) -> None:
        """The layer choice and the chart for this model: off for a z model or without any ranking; ``reset``
        (directions loaded anew): back to "relevant", the default whenever a ranking exists."""
        w_model = self.gen is not None and self.gen.w_space
        ranked = self.model.ranked if self._model is not None else []
        self.relevance.setEnabled(w_model)
        self.relevance.setToolTip(self.relevance.toolTip() if w_model else LAYERS_NO_W)
        self.layers.setEnabled(w_model and bool(ranked))
        self.layers.setToolTip(LAYERS_TIP if self.layers.isEnabled() else (LAYERS_NO_RANKING if w_model
                                                                           else LAYERS_NO_W))
        if reset:
            if ranked and self.model.layers != "relevant":
                self.set_layers("relevant")
            self.show_ranking(ranked[0] if ranked else None)

    def show_ranking(self, key: str | None) -> None:
        """Show direction ``key``'s layer ranking in the chart (None hides it)."""
        rel = self.model.ranking(key) if key is not None and self._model is not None else None
        self.chart.set_relevance(key or "", rel)
        self.chart.setVisible(rel is not None)
        for k, button in self.chart_buttons.items():
            button.setChecked(k == key)

    def set_layers(self, mode: str) -> None:
        """"relevant" (each ranked direction on its kept layers) or "all" layers; redraws with the edit."""
        self.model.set_layers(mode)
        index = 1 if mode == "all" else 0
        if self.layers.currentIndex() != index:
            self.layers.blockSignals(True)
            self.layers.setCurrentIndex(index)
            self.layers.blockSignals(False)
        self._apply()

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
            self.values[key].setText(amount_text(self.model.amounts[key]))
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
        relevance = self.relevance.isChecked() and self.gen is not None and self.gen.w_space
        self._slot.start("fit directions", fit_in_background, str(self.run), self.samples.value(), relevance,
                         with_state=True,
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
        for w in (*self.sliders.values(), *self.keeps.values(), *self.chart_buttons.values(), self.reset_button):
            w.setEnabled(on)
        self.fit_button.setEnabled(on and self.run is not None and self._slot.task is None)
        if on:
            self._layer_controls()
        else:
            self.layers.setEnabled(False)
            self.relevance.setEnabled(False)
