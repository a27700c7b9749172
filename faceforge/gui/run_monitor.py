"""Keeps the run on screen current, whoever is training it.

A run folder is the source of truth (docs/ARCHITECTURE.md). Opening a run reads all its history on the task pool (stats,
snapshot list, events, status), then, while ``Run.is_live()`` says another process - ``faceforge train`` in a
terminal, say - is writing into it, a 500 ms QTimer picks up what was appended: new stats rows through
``StatsTail.read_new()``, new snapshot files, new events.log lines, the status. For the run this window trains
itself, stats and snapshots come faster from the training worker, so polling only follows events and status.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from faceforge.config import TrainConfig
from faceforge.curves import per_step_losses
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.workers import STATS_COLUMNS, rows_to_array
from faceforge.runs import LIVE_STATES, LineTail, Run, StatsTail

log = logging.getLogger(__name__)
POLL_MS = 500
MAX_EVENT_LINES = 5000


@dataclass
class RunHistory:
    path: Path
    rows: np.ndarray
    step_losses: np.ndarray  # [step, loss_g, loss_d] for every step (curves.per_step_losses)
    samples: list[tuple[int, str]]
    events: list[str]
    status: dict[str, Any]
    config: TrainConfig | None
    stats_tail: StatsTail
    events_tail: LineTail
    config_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_history(path: str | Path) -> RunHistory:
    """Runs on the pool: everything about a run that is on disk right now."""
    run = Run(Path(path))
    stats_tail = StatsTail(run.stats_path)
    dicts = stats_tail.read_new()
    rows = rows_to_array(dicts)
    events_tail = LineTail(run.events_path)
    events = events_tail.read_new()[-MAX_EVENT_LINES:]
    config, error = None, ""
    try:
        config = run.config()
    except ValueError as exc:
        error = str(exc)
    return RunHistory(run.path, rows, per_step_losses(dicts), [(s, str(p)) for s, p in run.samples()], events, run.status(), config,
                      stats_tail, events_tail, error)


class RunMonitor(QObject):
    historyLoaded = Signal(object)  # RunHistory
    historyFailed = Signal(str)
    rowsAdded = Signal(object, object)  # (k, len(STATS_COLUMNS)) array, per-step losses (m, 3)
    samplesAdded = Signal(object)  # [(step, path)]
    eventsAdded = Signal(object)  # [str]
    statusChanged = Signal(object)  # dict

    def __init__(self, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self._slot = TaskSlot(runner, self)
        self.path: Path | None = None
        self.own = False  # trained by this window: stats/snapshots come from the worker instead
        self.loading = False
        self.status: dict[str, Any] = {}
        self._history: RunHistory | None = None
        self._known_samples: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    def show(self, path: str | Path | None, *, own: bool = False) -> None:
        """Start displaying ``path`` (None: nothing). History arrives via ``historyLoaded``."""
        self._timer.stop()
        self._slot.cancel()
        self._history = None
        self.path = Path(path) if path is not None else None
        self.own = own
        self.status = {}
        self._known_samples = set()
        if self.path is None:
            self.loading = False
            return
        self.loading = True
        target = self.path
        self._slot.start("load run history", load_history, target,
                         on_done=self._on_history, on_failed=lambda exc: self._on_failed(target, exc))

    def set_own(self, own: bool) -> None:
        """The in-process run started/stopped training; keep following events and status until it settles."""
        self.own = own
        if self._history is not None:
            self._update_timer()

    def _on_history(self, history: RunHistory) -> None:
        if history.path != self.path:
            return
        self.loading = False
        self._history = history
        self.status = history.status
        self._known_samples = {s for s, _ in history.samples}
        self.historyLoaded.emit(history)
        self._update_timer()

    def _on_failed(self, path: Path, exc: BaseException) -> None:
        if path != self.path:
            return
        self.loading = False
        from faceforge.gui.errors import readable

        self.historyFailed.emit(readable(exc))

    def _update_timer(self) -> None:
        # a run paused in another window will go on: keep following it
        live = self.own or self.status.get("state") in LIVE_STATES
        if live and not self._timer.isActive():
            self._timer.start()
        elif not live and self._timer.isActive():
            self._timer.stop()

    @property
    def following(self) -> bool:
        return self._timer.isActive()

    def poll(self) -> None:
        """One look at the folder (GUI thread; each read is a small increment)."""
        history = self._history
        if history is None or self.path is None:
            return
        run = Run(self.path)
        try:
            if not self.own:
                rows = history.stats_tail.read_new()
                if rows:
                    self.rowsAdded.emit(rows_to_array(rows), per_step_losses(rows))
                new = [(s, str(p)) for s, p in run.samples() if s not in self._known_samples]
                if new:
                    self._known_samples.update(s for s, _ in new)
                    self.samplesAdded.emit(new)
            lines = history.events_tail.read_new()
            if lines:
                self.eventsAdded.emit(lines)
            status = run.status()
        except OSError as exc:  # a folder on a network drive that went away: say so once, stop polling
            log.warning("cannot follow %s: %s", self.path, exc)
            self._timer.stop()
            return
        if status != self.status:
            was_live = self.status.get("state") == "running"
            self.status = status
            self.statusChanged.emit(status)
            if was_live and status.get("state") != "running" and not self.own:
                self.poll_once_more()
        self._update_timer()

    def poll_once_more(self) -> None:
        """Rows written between our last read and the writer's exit."""
        QTimer.singleShot(0, self.poll)

    def stop(self) -> None:
        self._timer.stop()
        self._slot.cancel()


__all__ = ["RunMonitor", "RunHistory", "load_history", "LineTail", "STATS_COLUMNS"]
