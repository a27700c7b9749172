"""What the Train pane adds for models that train across scales: the stage a progressive model is at ("Training
16 px, fading in 62%", from the ``res`` and ``alpha`` of its stats rows) and, for a multi-scale model, one face at
every scale G emits, side by side (the strip the loop writes to ``samples/scales/`` at each snapshot), and for a
W-space model the style-mixing figure the loop writes to ``samples/mixing/``, all under the sample grid.

Which of them a run gets is read from its model's registry capabilities (``progressive``, ``multiscale``,
``w_space``), never from its name; for every other model they stay hidden. Figure files are listed and decoded on
the task pool.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from faceforge.config import ConfigError, TrainConfig
from faceforge.gui.images import PixelView
from faceforge.gui.snapshots import load_png
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.workers import COL
from faceforge.models import capabilities
from faceforge.runs import Run


def stage_text(res: float, alpha: float, *, final: int | None = None) -> str:
    """"Training 16 px, fading in 62%", "Training 16 px, stable", or the final size once it is fully in."""
    res = int(res)
    if math.isfinite(alpha) and alpha < 1.0:
        return f"Training {res} px, fading in {alpha:.0%}"
    return f"Training {res} px, full size" if final is not None and res >= final else f"Training {res} px, stable"


def load_figure(run_dir: str | Path, step: int, *, listing: str = "scales") -> tuple[int, np.ndarray] | None:
    """Runs on the pool: the run's figure of ``step`` (``listing`` names the :class:`Run` method that lists them:
    "scales", "mixings"), or of the newest snapshot before it (a figure is written just after its grid, so a run
    followed live may not have it yet), decoded; None when there is none."""
    older = [(s, p) for s, p in getattr(Run(Path(run_dir)), listing)() if s <= step]
    if not older:
        return None
    s, p = older[-1]
    return s, load_png(p)


def load_strip(run_dir: str | Path, step: int) -> tuple[int, np.ndarray] | None:
    """A multi-scale run's strip of ``step`` (or the newest before), on the pool."""
    return load_figure(run_dir, step, listing="scales")


def _capabilities(config: TrainConfig | None):
    try:
        return capabilities(config.model.name) if config is not None else None
    except ConfigError:  # a run of a model this installation does not have: show what every run shows
        return None


class StageLabel(QLabel):
    """The resolution a progressive run trains and its fade-in, updated from its stats rows."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip("ProGAN-style growing: the resolution being trained, and how far its new layers have faded in")
        # a tag of its own between the run's name and its progress, so the three do not read as one line of text
        self.setStyleSheet("QLabel { background: palette(alternate-base); border: 1px solid palette(mid); "
                           "border-radius: 3px; padding: 1px 6px; }")
        self.progressive, self.final = False, None
        self.hide()

    def reset(self, *, progressive: bool, final: int | None) -> None:
        self.progressive, self.final = progressive, final
        self.setText("")
        self.hide()

    def add_rows(self, rows: np.ndarray) -> None:
        """The newest row that carries a stage (quality-score rows do not) sets the text."""
        if not self.progressive or not len(rows):
            return
        staged = rows[np.isfinite(rows[:, COL["res"]])]
        if len(staged):
            self.setText(stage_text(staged[-1, COL["res"]], staged[-1, COL["alpha"]], final=self.final))
            self.show()


class SnapshotFigureView(QWidget):
    """A figure the loop writes beside each snapshot grid, for the snapshot on screen: live from the training
    worker, from the run's files when a run is opened or the sample scrubber moves. Each subclass names its figure
    (``title_text``, ``tooltip``, ``empty_text``), reads its files (``_load``, on the pool) and captions it
    (``_caption``)."""

    title_text, tooltip, empty_text = "", "", ""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None, *, max_height: int = 180):
        super().__init__(parent)
        self._slot = TaskSlot(runner, self)
        self.run_dir: Path | None = None
        self.enabled = False
        self._arrays: dict[int, np.ndarray] = {}  # figures that came live (no file read needed)
        self.shown_step: int | None = None
        self.title = QLabel(self.title_text)
        self.title.setStyleSheet("font-weight: 600")
        self.title.setToolTip(self.tooltip)
        self.view = PixelView(empty_text=self.empty_text, min_side=48)
        self.view.setMinimumSize(160, 48)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.view.setMaximumHeight(max_height)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view)
        self.hide()

    def reset(self, run_dir: Path | None, *, enabled: bool) -> None:
        self._slot.cancel()
        self.run_dir, self.enabled = run_dir, enabled
        self._arrays, self.shown_step = {}, None
        self.view.set_array(None)
        self.title.setText(self.title_text)
        self.setVisible(enabled and run_dir is not None)

    def show_live(self, step: int, figure: np.ndarray, *, follow: bool) -> None:
        """A figure straight from the training worker's sample event; shown when the scrubber follows the newest
        snapshot (else kept for when it gets there)."""
        if not self.enabled:
            return
        self._arrays = {int(step): figure}  # only the newest: older ones are read back from their files
        if follow:
            self._slot.cancel()  # a file read of an older snapshot still on its way must not cover this one
            self._display(int(step), figure)

    def show_step(self, step: int) -> None:
        """The sample scrubber shows the grid of ``step``: show the figure of that snapshot (or the newest before)."""
        if not self.enabled or self.run_dir is None or step == self.shown_step:
            return
        if step in self._arrays:
            self._slot.cancel()
            self._display(step, self._arrays[step])
            return
        self._slot.start(f"load {self.title_text.lower()}", self._load, self.run_dir, int(step),
                         on_done=lambda found, run=self.run_dir: self._loaded(run, found),
                         on_failed=lambda exc: self.title.setText(f"{self.title_text}: unreadable"))

    def _loaded(self, run_dir: Path, found) -> None:
        if run_dir != self.run_dir or found is None:
            return
        self._display(*found)

    def _display(self, step: int, figure: np.ndarray) -> None:
        self.shown_step = step
        self.view.set_array(figure)
        self.title.setText(self._caption(step, figure))


class ScalesView(SnapshotFigureView):
    """A multi-scale run's strip (``samples/scales/``): one face of the grid at every scale G emits."""

    title_text = "Scales"
    tooltip = ("One face of the grid at every scale G emits, 4 px up to the final size, each enlarged to the final "
               "size: the coarse scales settle first")
    empty_text = "The scales appear at the first snapshot."

    def _load(self, run_dir: Path, step: int):
        return load_strip(run_dir, step)  # the module's, looked up at each call

    def _caption(self, step: int, figure: np.ndarray) -> str:
        return f"Scales at step {step:,}: 4 px … {figure.shape[0]} px"


class MixingView(SnapshotFigureView):
    """A W-space run's style-mixing figure (``samples/mixing/``, ``models/styles.py``): the top row and the left
    column are fixed faces; each cell has its row's coarse styles and its column's middle and fine ones."""

    title_text = "Style mixing"
    tooltip = ("Top row and left column: fixed faces. Each cell takes its row's coarse styles (pose, face shape) and "
               "its column's middle and fine styles (features, colours): as training goes on the layers take "
               "these meanings")
    empty_text = "The style-mixing figure appears at the first snapshot."

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(runner, parent, max_height=240)

    def _load(self, run_dir: Path, step: int):
        return load_figure(run_dir, step, listing="mixings")

    def _caption(self, step: int, figure: np.ndarray) -> str:
        return f"Style mixing, step {step:,}: coarse from rows, the rest from columns"


class GrowthView:
    """The stage label and the figures under the grid, as the Train pane uses them: reset for the run on screen,
    fed its rows and snapshots. ``figures`` are the views under the grid, each shown only for the runs whose
    model's capabilities call for it (``enabled_for``)."""

    def __init__(self, runner: TaskRunner):
        self.stage = StageLabel()
        self.scales = ScalesView(runner)
        self.mixing = MixingView(runner)
        self.figures: list[tuple[SnapshotFigureView, str]] = [(self.scales, "multiscale"), (self.mixing, "w_space")]

    def attach(self, samples) -> None:
        """Under the sample scrubber's grid, following the snapshot it shows."""
        for view, _ in self.figures:
            samples.shown.connect(view.show_step)
            samples.add_below_grid(view)

    def show_live(self, update, *, follow: bool) -> None:
        """The figures a training update carries (a strip, a mixing figure), before its grid: showing the grid asks
        for the figures of its step."""
        for view, figure in ((self.scales, update.scales), (self.mixing, update.mixing)):
            if figure is not None:
                view.show_live(*figure, follow=follow)

    def clear(self) -> None:
        self.stage.reset(progressive=False, final=None)
        for view, _ in self.figures:
            view.reset(None, enabled=False)

    def open(self, run_dir: Path, config: TrainConfig | None, rows: np.ndarray) -> None:
        """A run's history is loaded: what its model's capabilities call for; then ``show_step`` the snapshot on
        screen (after any live figures have come in, so those are not read back from their files)."""
        caps = _capabilities(config)
        final = config.model.resolution if config is not None else None
        self.stage.reset(progressive=bool(caps and caps.progressive), final=final)
        self.stage.add_rows(rows)
        for view, capability in self.figures:
            view.reset(Path(run_dir), enabled=bool(caps and getattr(caps, capability)))

    def show_step(self, step: int | None) -> None:
        if step is not None:
            for view, _ in self.figures:
                view.show_step(step)
