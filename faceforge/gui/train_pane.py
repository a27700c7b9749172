"""The Train tab: start, pause, resume and stop training; watch any run, live or finished.

What is on screen is always one run folder (``RunMonitor``): its whole history is read on the pool, then it is
followed - by the training worker's throttled updates when this window trains it, by polling the folder when
another process does. The run this window trains is a separate thing: the live strip (``gui/live_strip.py``) shows
its progress, speed, time left and CPU notices with its Pause and Stop, whatever run the plots show. The controls
act on the window's ``TrainingSession``; the pane only asks for things through signals, so menus, toolbar and tests
go through the same path.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QSplitter, QVBoxLayout,
                               QWidget)

from faceforge.config import is_builtin
from faceforge.curves import steps_per_second
from faceforge.gui.growth_view import GrowthView
from faceforge.gui.live_strip import EventColours, HealthBanner, LiveStrip
from faceforge.gui.plots import TrainingPlots
from faceforge.gui.progress_panel import format_eta
from faceforge.gui.run_list import RESUMABLE, RunList
from faceforge.gui.run_monitor import RunHistory, RunMonitor
from faceforge.gui.snapshots import SampleScrubber
from faceforge.gui.tasks import TaskRunner
from faceforge.gui.workers import COL, TrainUpdate
from faceforge.runs import LIVE_STATES, Run

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
        self._said: set[str] = set()  # messages shown from the worker: their events.log lines are not repeated
        self._total_steps = 0
        self.history: RunHistory | None = None

        # ---- controls, and the run this window trains (apart from the run on screen)
        self.start_button = QPushButton("▶  Start")
        self.start_button.setToolTip("Start a new run with the current settings")
        self.live = LiveStrip()
        self.live.showRequested.connect(lambda p: self.show_run(p))
        self.pause_button, self.stop_button = self.live.pause_button, self.live.stop_button
        self.progress = self.live.bar
        self.new_button = QPushButton("New run…")
        self.resume_button = QPushButton("⟳  Resume run")
        self.resume_button.setToolTip("Continue the selected run exactly where it stopped")
        self.start_button.clicked.connect(self.startRequested)
        self.pause_button.clicked.connect(self.pauseToggled)
        self.stop_button.clicked.connect(self.stopRequested)
        self.new_button.clicked.connect(self.newRunRequested)
        self.resume_button.clicked.connect(self._resume_selected)
        self.plan_label = QLabel("")  # what Start will do; hidden while training (the live strip says what runs)
        self.plan_label.setStyleSheet("color: palette(placeholder-text)")
        self.plan_label.setWordWrap(True)
        controls = QHBoxLayout()
        for b in (self.start_button, self.new_button, self.resume_button):
            b.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)  # not stretched when alone
            controls.addWidget(b)
        controls.addWidget(self.plan_label, 1)
        controls.addStretch(0)  # takes the room while the plan is hidden, so the buttons stay together

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
        self.growth = GrowthView(runner)  # a progressive run's stage; a multi-scale strip, a mixing figure (or hidden)
        self.growth.attach(self.samples)
        self.run_title = QLabel("No run selected")
        self.run_title.setStyleSheet("font-weight: 600; font-size: 12pt")
        self.run_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view_progress = QLabel("")  # the progress of the run on screen (not necessarily the training one)
        self.view_progress.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.banner = HealthBanner()
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
        self._event_colours = EventColours(self.events.document())

        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        title_row = QHBoxLayout()
        title_row.addWidget(self.run_title)
        title_row.addWidget(self.growth.stage)
        title_row.addWidget(self.view_progress, 1)
        cl.addLayout(title_row)
        cl.addWidget(self.run_info)
        cl.addWidget(self.banner)
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
        layout.addWidget(self.live)
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
        self.growth.clear()
        self.events.clear()
        self._buffer.clear()
        self._said.clear()
        self.banner.dismiss()
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
        self.plots.set_rows(history.rows, history.step_losses)
        self.samples.set_samples(history.samples)
        self.events.setPlainText("\n".join(history.events))
        self._scroll_events_to_end()
        cfg = history.config
        self._total_steps = int(history.status.get("total_steps") or (cfg.schedule.steps if cfg else 0))
        self.plots.set_total_steps(self._total_steps)
        self.run_info.setText(self._describe(history))
        self.growth.open(history.path, cfg, history.rows)
        buffered, self._buffer = self._buffer, []
        for update in buffered:
            self._apply_update(update, buffered=True)
        self.growth.show_step(self.samples.current_step)  # after the live figures: no file read for those
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

    def _add_rows(self, rows: np.ndarray, losses: np.ndarray) -> None:
        self.plots.append_rows(rows, losses)
        self.growth.stage.add_rows(rows)
        self._update_progress()

    def _add_events(self, lines: list[str]) -> None:
        for line in lines:
            if line[28:].strip() in self._said:  # the worker's message of it came first (a roll-back, say)
                continue
            self._append_event(line)
            # a run another process trains: its warnings reach us only through events.log, at about this step
            if not self.monitor.own and line[20:27].strip() == "WARNING":
                step = self.plots.last_step
                self._warn(line[28:].strip(), step=int(step) if step is not None else None, code="log")

    def _append_event(self, line: str) -> None:
        """The newest line stays in view (unless the user scrolled up to read an older one)."""
        bar = self.events.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.events.appendPlainText(line)
        if at_end:
            self._scroll_events_to_end()

    def _scroll_events_to_end(self) -> None:
        self.events.moveCursor(QTextCursor.MoveOperation.End)
        bar = self.events.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _warn(self, text: str, *, step: int | None, code: str) -> None:
        """A health warning: the banner over the plots and a marker at its step on the loss plot, once each."""
        if step is not None and (code, step) in self.plots.markers:
            return
        self.banner.warn(text, step=step)
        if step is not None:
            self.plots.add_marker(step=step, code=code, text=text)

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
        if state == "preparing" and run_dir is None:
            self._session_run = None  # a new run: no folder yet, and never the one trained before
        self._session_state = state
        if run_dir is not None:
            self._session_run = Path(run_dir)
        self.live.set_state(state)
        if state != "idle" and self._session_run is not None:
            self.runs.set_state_override(self._session_run, "paused" if state == "paused" else None)
        self.plan_label.setVisible(state == "idle")
        self._update_buttons()
        if state == "preparing":
            self.live.set_notice("")
            self.live.preparing()

    def training_started(self, info: dict) -> None:
        """The core's 'started' event: the run folder exists now; show it, following the worker."""
        self._session_run = Path(info["run_dir"])
        self._total_steps = int(info.get("total_steps", 0))
        try:
            metrics_every = Run(self._session_run).config().schedule.metrics_every
        except (OSError, ValueError):
            metrics_every = 0
        self.live.started(self._session_run, step=int(info.get("step", 0)), total=self._total_steps,
                          metrics_every=metrics_every)
        self.live.set_state(self._session_state)
        self.runs.refresh()
        self.show_run(self._session_run, own=True)
        if info.get("perf"):
            self._append_event(f"▸ {info['perf']}")

    def training_update(self, update: TrainUpdate) -> None:
        """Every update of the window's training feeds the live strip; the plots get it only when they show it."""
        if update.data_progress is not None and self._session_state == "preparing":
            self.live.preparing(*update.data_progress)
        rows = update.rows[np.isfinite(update.rows[:, COL["wall"]])] if len(update.rows) else update.rows
        if len(rows) and self._session_run is not None:
            last = rows[-1]
            self.live.progressed(step=last[COL["step"]], img_s=last[COL["img_s"]], wall=last[COL["wall"]],
                                 eval_s=update.eval_s)
            self.runs.set_live_progress(self._session_run, step=int(last[COL["step"]]), total=self.live.total)
        elif update.eval_s is not None:
            self.live.eval_s = update.eval_s
        if update.cpu is not None:
            self.live.set_cpu(update.cpu)
        for level, text in update.messages:
            if level in ("warning", "error"):  # e.g. another FaceForge training shares the machine
                self.live.set_notice(text, warning=True)
        shown = self.monitor.own and self.monitor.path == self._session_run
        for warning in update.health if not shown else ():  # the plots show another run: the strip says it
            self.live.set_notice(f"Health warning at step {warning['step']:,}: {warning['text']}", warning=True)
        if shown:
            if self.monitor.loading:
                self._buffer.append(update)
            else:
                self._apply_update(update)
        elif update.messages:
            for level, text in update.messages:
                self.statusMessage.emit(text)

    def _apply_update(self, update: TrainUpdate, *, buffered: bool = False) -> None:
        rows, losses = update.rows, update.step_losses
        last = self.plots.last_step
        if buffered and last is not None:  # the history read from disk already had these
            rows = rows[rows[:, COL["step"]] > last]
            losses = losses[losses[:, 0] > (self.plots.losses.column(0)[-1] if len(self.plots.losses) else -1)]
        # live rows at or before the last step are a real rewind (NaN rollback): append_rows cuts back
        if len(rows) or len(losses):
            self.plots.append_rows(rows, losses)
            self.growth.stage.add_rows(rows)
        self.growth.show_live(update, follow=self.samples.following)  # before the grid: it asks for its step's
        if update.samples:
            self.samples.add_samples(update.samples)
        if update.grid is not None:
            self.samples.show_grid(*update.grid)
        for level, text in update.messages:  # health warnings come as events.log lines, and to the banner
            self._append_event(f"▸ {level.upper()}: {text}" if level != "info" else f"▸ {text}")
            self._said.add(text)
        for warning in update.health:
            self._warn(warning["text"], step=warning["step"], code=warning["code"])
        self._update_progress()

    def training_finished(self, result: dict) -> None:
        """The error of a run that failed goes to that run's events (if it is on screen) and the live strip; a
        start that failed before its folder existed touches no other run."""
        self.plots.flush()
        run_dir = Path(result["run_dir"]) if result.get("run_dir") else None
        if run_dir is not None:
            self.runs.set_state_override(run_dir, None)
        if run_dir is not None and self.monitor.path == run_dir:
            self.monitor.set_own(False)
            self.monitor.poll()  # pick up the final status (finished / stopped)
            if result.get("state") in ("failed", "disk-full") and result.get("message"):
                self._append_event(f"▸ ERROR: {result['message']}")
        self.live.finished(result)
        self.runs.refresh()
        self._update_progress()
        self._update_buttons()

    # ---------------------------------------------------------------- progress and buttons
    def _update_progress(self) -> None:
        """The run on screen: its step, state, speed and (when another process trains it) the time left."""
        step, total = self.plots.last_step, self._total_steps
        if step is None or self.history is None:
            self.view_progress.setText("")
            return
        step = max(step, float(self.monitor.status.get("step", 0) or 0))  # a stop between two ticks (Run.progress)
        state = "running" if self.monitor.own else self.monitor.status.get("state", "?")
        parts = [f"step {int(step):,}" + (f" / {total:,}" if total else ""), state]
        data = self.plots.data.view()
        img_s = data[-1, COL["img_s"]] if len(data) else np.nan
        if np.isfinite(img_s) and state in LIVE_STATES:
            parts.append(f"{img_s:,.0f} img/s")
        rate = steps_per_second(data)
        if not self.monitor.own and rate and total and step < total and state == "running":
            parts.append(format_eta((total - step) / rate))
        self.view_progress.setText(" · ".join(parts))

    def _update_buttons(self) -> None:
        idle = self._session_state == "idle"
        self.start_button.setEnabled(idle)
        self.new_button.setEnabled(idle)
        selected = self.runs.selected_path() or (str(self.monitor.path) if self.monitor.path else None)
        state = self.runs.state_of(selected) if selected else None
        if selected and self.history is not None and str(self.history.path) == selected:
            state = self.monitor.status.get("state", state)
        self.resume_button.setEnabled(idle and selected is not None and state in RESUMABLE)
        live_shown = self._session_run is not None and self.monitor.path == self._session_run
        self.live.show_button.setEnabled(self._session_run is not None and not live_shown)

    def set_plan(self, text: str) -> None:
        """What Start will do (beside the controls, while nothing trains)."""
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

    def ask_export_mp4(self) -> None:
        self.samples.ask_export_mp4()

    def export_mp4(self, path: str) -> None:
        self.samples.export_mp4(path)

    def shutdown(self) -> None:
        self.monitor.stop()

