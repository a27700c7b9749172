"""The Train tab: start, pause, resume and stop training; watch any run, live or finished.

What is on screen is always one run folder (``RunMonitor``): its whole history is read on the pool, then it is
followed - by the training worker's throttled updates when this window trains it, by polling the folder when
another process does. The controls act on the window's ``TrainingSession``; the pane only asks for things through
signals, so menus, toolbar and tests go through the same path.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from faceforge.config import is_builtin
from faceforge.curves import steps_per_second
from faceforge.gui.plots import TrainingPlots
from faceforge.gui.progress_panel import format_eta
from faceforge.gui.run_list import RESUMABLE, RunList
from faceforge.gui.run_monitor import RunHistory, RunMonitor
from faceforge.gui.snapshots import SampleScrubber
from faceforge.gui.tasks import TaskRunner
from faceforge.gui.workers import COL, TrainUpdate
from faceforge.runs import LIVE_STATES

log = logging.getLogger(__name__)


def _speed_path(cfg) -> str:
    """The fast paths the run took, as its config recorded them (nothing while they are still to be chosen)."""
    perf = cfg.perf
    if perf.precision == "auto" or perf.device == "auto":
        return ""
    parts = [f"{perf.device} {perf.precision}"]
    if perf.channels_last:
        parts.append("channels-last")
    if perf.gemm_layers:
        parts.append(f"{len(perf.gemm_layers)} GEMM layers")
    if perf.threads:
        parts.append(f"{perf.threads} thread{'s' if perf.threads != 1 else ''}")
    return " · " + ", ".join(parts)


class TrainPane(QWidget):
    startRequested = Signal()
    pauseToggled = Signal()
    stopRequested = Signal()
    newRunRequested = Signal()
    resumeRequested = Signal(str)
    openRunRequested = Signal()
    runShown = Signal(str)  # the run now on screen (history loaded)
    statusMessage = Signal(str)
    exported = Signal(str)  # path of a finished export

    def __init__(self, runner: TaskRunner, *, runs_root_fn, extra_runs_fn, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.monitor = RunMonitor(runner, self)
        self.monitor.historyLoaded.connect(self._on_history)
        self.monitor.historyFailed.connect(self._on_history_failed)
        self.monitor.rowsAdded.connect(self._add_rows)
        self.monitor.samplesAdded.connect(lambda s: self.samples.add_samples(s))
        self.monitor.eventsAdded.connect(self._add_events)
        self.monitor.statusChanged.connect(self._on_status)
        self._session_state = "idle"
        self._session_run: Path | None = None
        self._buffer: list[TrainUpdate] = []
        self._total_steps = 0
        self._rate: tuple[float, float] | None = None  # (steps per second, when)
        self.history: RunHistory | None = None

        # ---- controls
        self.start_button = QPushButton("▶  Start")
        self.start_button.setToolTip("Start a new run with the current settings")
        self.pause_button = QPushButton("❚❚  Pause")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setToolTip("Stop at the next step; a snapshot and a checkpoint are written (resumable)")
        self.new_button = QPushButton("New run…")
        self.resume_button = QPushButton("⟳  Resume run")
        self.resume_button.setToolTip("Continue the selected run exactly where it stopped")
        self.start_button.clicked.connect(self.startRequested)
        self.pause_button.clicked.connect(self.pauseToggled)
        self.stop_button.clicked.connect(self.stopRequested)
        self.new_button.clicked.connect(self.newRunRequested)
        self.resume_button.clicked.connect(self._resume_selected)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress_label = QLabel("")
        self.plan_label = QLabel("")
        self.plan_label.setStyleSheet("color: palette(placeholder-text)")
        controls = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button, self.new_button, self.resume_button):
            controls.addWidget(b)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.progress_label)

        # ---- run list
        self.runs = RunList(runner, runs_root_fn, extra_runs_fn)
        self.runs.runActivated.connect(lambda p: self.show_run(p))
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        self.runs.refreshed.connect(self._update_buttons)
        open_button = QPushButton("Open run…")
        open_button.clicked.connect(self.openRunRequested)
        refresh_button = QPushButton("Refresh")
        refresh_button.clicked.connect(self.runs.refresh)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("Runs"))
        ll.addWidget(self.runs, 1)
        row = QHBoxLayout()
        row.addWidget(open_button)
        row.addWidget(refresh_button)
        ll.addLayout(row)

        # ---- plots, samples, events
        self.plots = TrainingPlots()
        self.samples = SampleScrubber(runner)
        self.samples.exported.connect(self.exported)
        self.samples.statusMessage.connect(self.statusMessage)
        self.run_title = QLabel("No run selected")
        self.run_title.setStyleSheet("font-weight: 600; font-size: 12pt")
        self.run_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_info = QLabel("")
        self.run_info.setWordWrap(True)
        # a fixed two-line height: a label that grows or shrinks with its text would resize the plots below it,
        # and a resized pyqtgraph view re-lays out every axis (tens of ms of GUI thread, at every run start)
        self.run_info.setFixedHeight(2 * self.run_info.fontMetrics().lineSpacing() + 4)
        self.run_info.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.events = QPlainTextEdit()
        self.events.setReadOnly(True)
        self.events.setMaximumBlockCount(5000)
        self.events.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.events.setPlaceholderText("Events and health messages of the run appear here")

        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.run_title)
        cl.addWidget(self.run_info)
        cl.addWidget(self.plots, 1)

        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.addWidget(left)
        self.top_split.addWidget(centre)
        self.top_split.addWidget(self.samples)
        self.top_split.setStretchFactor(1, 1)
        self.top_split.setSizes([260, 560, 420])
        self.v_split = QSplitter(Qt.Orientation.Vertical)
        self.v_split.addWidget(self.top_split)
        self.v_split.addWidget(self.events)
        self.v_split.setStretchFactor(0, 1)
        self.v_split.setSizes([640, 90])

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.plan_label)
        layout.addWidget(self.v_split, 1)
        self._update_buttons()

    # ---------------------------------------------------------------- showing runs
    @property
    def shown_run(self) -> Path | None:
        return self.monitor.path

    def show_run(self, path: str | Path | None, *, own: bool | None = None) -> None:
        path = Path(path) if path is not None else None
        if own is None:
            own = path is not None and self._session_run is not None and path == self._session_run \
                and self._session_state != "idle"
        self.plots.clear()
        self.samples.clear()
        self.events.clear()
        self._buffer.clear()
        self._rate = None
        self.history = None
        self.run_title.setText(path.name if path else "No run selected")
        self.samples.export_name = path.name if path else "samples"
        self.run_info.setText("Loading…" if path else "")
        self.monitor.show(path, own=own)
        if path is not None:
            self.runs.select_path(path)
        self._update_buttons()

    def _on_history(self, history: RunHistory) -> None:
        self.history = history
        self.plots.set_rows(history.rows)
        self.samples.set_samples(history.samples)
        self.events.setPlainText("\n".join(history.events))
        self.events.moveCursor(QTextCursor.MoveOperation.End)
        cfg = history.config
        self._total_steps = int(history.status.get("total_steps") or (cfg.schedule.steps if cfg else 0))
        self.plots.set_total_steps(self._total_steps)
        self.run_info.setText(self._describe(history))
        buffered, self._buffer = self._buffer, []
        for update in buffered:
            self._apply_update(update, buffered=True)
        self._update_progress()
        self._update_buttons()
        self.runShown.emit(str(history.path))

    def _on_history_failed(self, message: str) -> None:
        self.run_info.setText(f"Cannot read this run: {message}")

    def _describe(self, history: RunHistory) -> str:
        cfg = history.config
        state = history.status.get("state", "?")
        if cfg is None:
            return f"{state} · {history.config_error}"
        attrs = ("all attributes" if "*" in cfg.data.attributes else ", ".join(cfg.data.attributes)) \
            if cfg.data.attributes else "no attributes"
        data = "built-in faces" if is_builtin(cfg.data.source) else cfg.data.source
        follow = " · following live" if state in LIVE_STATES and not self.monitor.own else ""
        return (f"{state}{follow} · {cfg.model.name} {cfg.model.resolution} px · {cfg.loss.kind} · batch "
                f"{cfg.schedule.batch_size} · {data} · {attrs}{_speed_path(cfg)}")

    def _add_rows(self, rows: np.ndarray) -> None:
        self.plots.append_rows(rows)
        self._update_progress()

    def _add_events(self, lines: list[str]) -> None:
        for line in lines:
            self.events.appendPlainText(line)

    def _on_status(self, status: dict) -> None:
        if self.history is not None:
            self.history.status = status
            self._total_steps = int(status.get("total_steps") or self._total_steps)
            self.plots.set_total_steps(self._total_steps)
            self.run_info.setText(self._describe(self.history))
        self._update_progress()
        self._update_buttons()
        self.runs.refresh()

    # ---------------------------------------------------------------- the window's own training
    def set_session_state(self, state: str, run_dir: Path | None) -> None:
        self._session_state = state
        if run_dir is not None:
            self._session_run = Path(run_dir)
        self.pause_button.setText("▶  Resume" if state == "paused" else "❚❚  Pause")
        if state != "idle" and self._session_run is not None:
            self.runs.set_state_override(self._session_run, "paused" if state == "paused" else None)
        self._update_buttons()
        if state == "preparing" and run_dir is None:
            self.progress.setRange(0, 0)
            self.progress_label.setText("preparing the dataset…")

    def training_started(self, info: dict) -> None:
        """The core's 'started' event: the run folder exists now; show it, following the worker."""
        self._session_run = Path(info["run_dir"])
        self._total_steps = int(info.get("total_steps", 0))
        self.runs.refresh()
        self.show_run(self._session_run, own=True)
        if info.get("perf"):
            self.events.appendPlainText(f"▸ {info['perf']}")

    def training_update(self, update: TrainUpdate) -> None:
        if update.data_progress is not None and self._session_state != "idle":
            done, total = update.data_progress
            if self.monitor.path is None or self.monitor.path != self._session_run or self.history is None:
                self.progress.setRange(0, max(total, 1))
                self.progress.setValue(done)
                self.progress.setFormat(f"preparing data {done:,} / {total:,}")
                self.progress_label.setText("")
        if self.monitor.own and self.monitor.path == self._session_run:
            if self.monitor.loading:
                self._buffer.append(update)
            else:
                self._apply_update(update)
        elif update.messages:
            for level, text in update.messages:
                self.statusMessage.emit(text)

    def _apply_update(self, update: TrainUpdate, *, buffered: bool = False) -> None:
        if len(update.rows):
            rows = update.rows
            last = self.plots.last_step
            if buffered and last is not None:
                rows = rows[rows[:, COL["step"]] > last]  # the history read from disk already had these
            # live rows at or before the last step are a real rewind (NaN rollback): append_rows cuts back
            if len(rows):
                self.plots.append_rows(rows)
        if update.samples:
            self.samples.add_samples(update.samples)
        if update.grid is not None:
            self.samples.show_grid(*update.grid)
        for level, text in update.messages:
            self.events.appendPlainText(f"▸ {level.upper()}: {text}" if level != "info" else f"▸ {text}")
        self._update_progress()

    def training_finished(self, result: dict) -> None:
        self.plots.flush()
        self.runs.set_state_override(self._session_run, None)
        self.monitor.set_own(False)
        self.monitor.poll()  # pick up the final status (finished / stopped)
        state = result.get("state")
        message = result.get("message") or ""
        if state in ("failed", "disk-full") and message:
            self.events.appendPlainText(f"▸ ERROR: {message}")
        self.runs.refresh()
        self._update_progress()
        self._update_buttons()

    # ---------------------------------------------------------------- progress and buttons
    def _update_progress(self) -> None:
        step = self.plots.last_step
        total = self._total_steps
        if step is None or not total:
            if self._session_state == "idle" or self.monitor.path != self._session_run:
                self.progress.setRange(0, 1)
                self.progress.setValue(0)
                self.progress.setFormat("")
                self.progress_label.setText("")
            return
        self.progress.setRange(0, total)
        self.progress.setValue(int(min(step, total)))
        self.progress.setFormat(f"step {int(step):,} / {total:,}")
        data = self.plots.data.view()
        parts = []
        if len(data):
            img_s = data[-1, COL["img_s"]]
            if np.isfinite(img_s):
                parts.append(f"{img_s:,.0f} img/s")
            rate = steps_per_second(data)
            state = self.monitor.status.get("state") if not self.monitor.own else "running"
            if rate and step < total and state == "running":
                parts.append(format_eta((total - step) / rate))
        self.progress_label.setText(" · ".join(parts))

    def _update_buttons(self) -> None:
        idle = self._session_state == "idle"
        self.start_button.setEnabled(idle)
        self.new_button.setEnabled(idle)
        self.pause_button.setEnabled(self._session_state in ("preparing", "running", "paused"))
        self.stop_button.setEnabled(self._session_state in ("preparing", "running", "paused"))
        selected = self.runs.selected_path() or (str(self.monitor.path) if self.monitor.path else None)
        state = self.runs.state_of(selected) if selected else None
        if selected and self.history is not None and str(self.history.path) == selected:
            state = self.monitor.status.get("state", state)
        self.resume_button.setEnabled(idle and selected is not None and state in RESUMABLE)

    def set_plan(self, text: str) -> None:
        """What Start will do (shown under the controls)."""
        self.plan_label.setText(text)
        self.start_button.setToolTip(f"Start a new run: {text}")

    def _resume_selected(self) -> None:
        path = self.runs.selected_path() or (str(self.monitor.path) if self.monitor.path else None)
        if path:
            self.resumeRequested.emit(path)

    # ---------------------------------------------------------------- export (menus and tests ask the pane)
    def ask_export_png(self) -> None:
        self.samples.ask_export_png()

    def export_png(self, path: str) -> None:
        self.samples.export_png(path)

    def ask_export_gif(self) -> None:
        self.samples.ask_export_gif()

    def export_gif(self, path: str) -> None:
        self.samples.export_gif(path)

    def shutdown(self) -> None:
        self.monitor.stop()

