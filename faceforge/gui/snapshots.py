"""The fixed-noise sample grid of a run, with a slider to scrub back through every snapshot, and its exports.

The same noise (and attributes) at every snapshot means the grids are comparable: scrubbing shows the faces
forming. Snapshots are PNG files in the run's ``samples/`` folder (``Run.samples()``); only the one being looked
at is decoded, on the task pool, and a small LRU keeps recent ones so scrubbing back and forth is instant. While
the slider sits on the newest snapshot it follows new ones as they arrive. The grid on screen exports as a PNG, the
snapshots up to it as an animated GIF, both written on the pool.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from faceforge.gui.errors import readable
from faceforge.gui.images import PixelView
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.throttle import Throttler
from faceforge.imaging import write_gif, write_mp4, write_png
from faceforge.tasks import Cancelled

MAX_GIF_FRAMES = 200
MAX_MP4_FRAMES = 2000


def load_png(path: str | Path) -> np.ndarray:
    """Runs on the pool: decode one snapshot grid to an RGB uint8 array."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def save_png(array: np.ndarray, path: str) -> str:
    """Runs on the pool."""
    write_png(path, array)
    return path


def _read_frames(paths: list[str], state, *, limit: int, quantize: bool) -> list[Image.Image]:
    """At most ``limit`` snapshots, evenly spaced, the last kept; progress counts one more step for the writing."""
    if len(paths) > limit:
        pick = np.unique(np.linspace(0, len(paths) - 1, limit).round().astype(int))
        paths = [paths[i] for i in pick]
    frames = []
    for i, p in enumerate(paths):
        if state.should_stop():
            raise Cancelled("stopped by request")
        with Image.open(p) as img:
            rgb = img.convert("RGB")
            frames.append(rgb.quantize(colors=255, method=Image.Quantize.MEDIANCUT) if quantize else rgb)
        state.set_progress(i + 1, len(paths) + 1)
    return frames


def save_gif(paths: list[str], out: str, *, state, frame_ms: int = 200) -> str:
    """Runs on the pool: the snapshots as an animated GIF."""
    frames = _read_frames(paths, state, limit=MAX_GIF_FRAMES, quantize=True)
    write_gif(frames, out, frame_ms=frame_ms)
    state.set_progress(len(frames) + 1, len(frames) + 1)
    return out


def save_mp4(paths: list[str], out: str, *, state, fps: float = 5.0) -> str:
    """Runs on the pool: the snapshots as an H.264 video (small, smooth, plays everywhere; GIFs are 256 colours)."""
    frames = _read_frames(paths, state, limit=MAX_MP4_FRAMES, quantize=False)
    write_mp4(frames, out, fps=fps)
    state.set_progress(len(frames) + 1, len(frames) + 1)
    return out


class SampleScrubber(QWidget):
    """Grid view + snapshot slider + step label + export buttons."""

    shown = Signal(int)  # the step of the grid now on screen
    exported = Signal(str)  # path of a finished export
    statusMessage = Signal(str)

    CACHE = 48

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self._samples: list[tuple[int, str]] = []
        self._steps: set[int] = set()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._shown_step: int | None = None
        self._slot = TaskSlot(runner, self)
        self._export_slot = TaskSlot(runner, self)
        self.export_name = "samples"  # what the export dialogs propose to call the file (the run's folder name)

        self.view = PixelView(empty_text="No snapshot yet.\nThe fixed-noise grid appears at the first snapshot.",
                              min_side=200)
        self.title = QLabel("Samples")
        self.title.setStyleSheet("font-weight: 600")
        self.step_label = QLabel("")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scrub through every snapshot of the run")
        self.slider.valueChanged.connect(self._on_slider)
        self.png_button = QPushButton("Export grid…")
        self.png_button.setToolTip("Save the grid on screen as a PNG")
        self.gif_button = QPushButton("Export GIF…")
        self.gif_button.setToolTip("Save the snapshots up to the one on screen as an animated GIF")
        self.png_button.clicked.connect(self.ask_export_png)
        self.gif_button.clicked.connect(self.ask_export_gif)
        self.mp4_button = QPushButton("Export MP4…")
        self.mp4_button.setToolTip("Save the snapshots up to the one on screen as an MP4 video (H.264)")
        self.mp4_button.clicked.connect(self.ask_export_mp4)
        self._load_throttle = Throttler(30, self._load_current, self)

        buttons = QHBoxLayout()
        buttons.addWidget(self.png_button)
        buttons.addWidget(self.gif_button)
        buttons.addWidget(self.mp4_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.slider)
        layout.addWidget(self.step_label)  # a line of its own: beside the title it was clipped in a narrow column
        layout.addLayout(buttons)
        self._update_buttons()

    def add_below_grid(self, widget: QWidget) -> None:
        """A view that belongs with the grid (a multi-scale run's strip), under it and above the slider."""
        self.layout().insertWidget(self.layout().indexOf(self.view) + 1, widget)

    # ---------------------------------------------------------------- content
    def clear(self) -> None:
        self._slot.cancel()
        self._samples, self._steps = [], set()
        self._cache.clear()
        self._shown_step = None
        self.view.set_array(None)
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.step_label.setText("")
        self._update_buttons()

    def set_samples(self, samples: list[tuple[int, str]]) -> None:
        """The run's whole snapshot list (from disk); shows the newest."""
        self.clear()
        self.add_samples(samples)

    def add_samples(self, samples: list[tuple[int, str | Path]]) -> None:
        """New snapshots (any order, duplicates ignored); follows them if the newest one was on screen."""
        new = [(int(s), str(p)) for s, p in samples if int(s) not in self._steps]
        if not new:
            return
        following = self.following
        self._samples.extend(new)
        self._samples.sort()
        self._steps.update(s for s, _ in new)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self._samples) - 1)
        if following:
            self.slider.setValue(len(self._samples) - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(self._samples) > 1)
        self._on_slider(self.slider.value())

    def show_grid(self, step: int, grid: np.ndarray) -> None:
        """A snapshot that came straight from the training worker (no need to read the PNG back)."""
        self._remember(int(step), grid)
        if self.current_step == int(step):
            self._display(int(step), grid)

    @property
    def following(self) -> bool:
        return not self._samples or self.slider.value() >= len(self._samples) - 1

    @property
    def samples(self) -> list[tuple[int, str]]:
        return list(self._samples)

    @property
    def current_step(self) -> int | None:
        if not self._samples:
            return None
        return self._samples[min(self.slider.value(), len(self._samples) - 1)][0]

    @property
    def shown_step(self) -> int | None:
        """The step of the grid actually on screen (it lags ``current_step`` while a PNG decodes)."""
        return self._shown_step

    def current_array(self) -> np.ndarray | None:
        return self.view.array()

    def samples_up_to_current(self) -> list[tuple[int, str]]:
        if not self._samples:
            return []
        return self._samples[: self.slider.value() + 1]

    def scrub_to(self, position: int) -> None:
        self.slider.setValue(max(0, min(position, len(self._samples) - 1)))

    # ---------------------------------------------------------------- internals
    def _on_slider(self, value: int) -> None:
        if not self._samples:
            return
        step = self._samples[value][0]
        self.step_label.setText(f"step {step:,}  ·  snapshot {value + 1} of {len(self._samples)}")
        cached = self._cache.get(step)
        if cached is not None:
            self._cache.move_to_end(step)
            self._display(step, cached)
        else:
            self._load_throttle.trigger()
        self._update_buttons()

    def _load_current(self) -> None:
        if not self._samples:
            return
        step, path = self._samples[self.slider.value()]
        if step in self._cache:
            self._display(step, self._cache[step])
            return
        self._slot.start("load snapshot", load_png, path,
                         on_done=lambda arr, s=step: self._loaded(s, arr),
                         on_failed=lambda exc, s=step: self.step_label.setText(f"step {s:,}: snapshot unreadable"))

    def _loaded(self, step: int, array: np.ndarray) -> None:
        self._remember(step, array)
        if self.current_step == step:
            self._display(step, array)

    def _remember(self, step: int, array: np.ndarray) -> None:
        self._cache[step] = array
        self._cache.move_to_end(step)
        while len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)

    def _display(self, step: int, array: np.ndarray) -> None:
        self._shown_step = step
        self.view.set_array(array)
        self._update_buttons()
        self.shown.emit(step)

    def _update_buttons(self) -> None:
        self.png_button.setEnabled(self.view.array() is not None)
        self.gif_button.setEnabled(len(self.samples_up_to_current()) >= 2)
        self.mp4_button.setEnabled(len(self.samples_up_to_current()) >= 2)

    # ---------------------------------------------------------------- export
    def ask_export_png(self) -> None:
        if self.current_array() is None:
            self.statusMessage.emit("No grid to export yet")
            return
        name = f"{self.export_name}-step{self.shown_step or 0:08d}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export grid as PNG", str(Path.home() / name), "PNG (*.png)")
        if path:
            self.export_png(path)

    def export_png(self, path: str) -> None:
        array = self.current_array()
        if array is None:
            return
        self._export_slot.start("export png", save_png, array.copy(), path,
                                on_done=self._export_done, on_failed=self._export_failed)

    def ask_export_gif(self) -> None:
        if len(self.samples_up_to_current()) < 2:
            self.statusMessage.emit("A GIF needs at least two snapshots")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export snapshots as GIF",
                                              str(Path.home() / f"{self.export_name}.gif"), "GIF (*.gif)")
        if path:
            self.export_gif(path)

    def export_gif(self, path: str) -> None:
        frames = [p for _, p in self.samples_up_to_current()]
        self.statusMessage.emit(f"Writing {len(frames)} frames to {path}…")
        self._export_slot.start("export gif", save_gif, frames, path, with_state=True,
                                on_done=self._export_done, on_failed=self._export_failed)

    def ask_export_mp4(self) -> None:
        if len(self.samples_up_to_current()) < 2:
            self.statusMessage.emit("A video needs at least two snapshots")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export snapshots as MP4 video",
                                              str(Path.home() / f"{self.export_name}.mp4"), "MP4 video (*.mp4)")
        if path:
            self.export_mp4(path)

    def export_mp4(self, path: str) -> None:
        frames = [p for _, p in self.samples_up_to_current()]
        self.statusMessage.emit(f"Writing {len(frames)} frames to {path}…")
        self._export_slot.start("export mp4", save_mp4, frames, path, with_state=True,
                                on_done=self._export_done, on_failed=self._export_failed)

    def _export_done(self, path: str) -> None:
        self.statusMessage.emit(f"Saved {path}")
        self.exported.emit(path)

    def _export_failed(self, exc: BaseException) -> None:
        self.statusMessage.emit(f"Export failed: {readable(exc)}")
