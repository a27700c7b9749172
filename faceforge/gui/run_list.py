"""The list of runs: every run folder in the default runs folder plus the ones opened from elsewhere, with state.

Reading a hundred ``status.json`` files is quick but not free, so the list is gathered on the task pool and
refreshed every few seconds (and right after anything changes); the selection survives a refresh.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.runs import Run, is_run_dir, list_runs

REFRESH_MS = 4000
STATE_COLOURS = {"running": "#2e8b57", "paused": "#b8860b", "interrupted": "#c0392b", "failed": "#c0392b",
                 "disk-full": "#c0392b", "stopped": "#b8860b"}
RESUMABLE = {"stopped", "interrupted", "failed", "disk-full", "new"}  # not running/paused: a process holds those


def gather_runs(root: Path, extra: list[str]) -> list[dict[str, Any]]:
    """Runs on the pool: name, state and progress of every run we know about, newest first."""
    runs = list_runs(root)
    seen = {r.path.resolve() for r in runs}
    for p in extra:
        path = Path(p)
        if is_run_dir(path) and path.resolve() not in seen:
            seen.add(path.resolve())
            runs.append(Run(path))
    rows = []
    for run in runs:
        progress = run.progress()  # the step from the stats tail: status.json's is only rewritten at checkpoints
        rows.append({"path": str(run.path), "name": run.name, "state": progress.state, "step": progress.step,
                     "total": progress.total_steps or 0, "mtime": _mtime(run)})
    rows.sort(key=lambda r: r["mtime"], reverse=True)
    return rows


def _mtime(run: Run) -> float:
    for p in (run.path / "status.json", run.config_path):
        try:
            return p.stat().st_mtime
        except OSError:
            continue
    return 0.0


class RunList(QTreeWidget):
    runActivated = Signal(str)  # user selected a run: show it
    refreshed = Signal()

    def __init__(self, runner: TaskRunner, root_fn, extra_fn, parent: QWidget | None = None):
        super().__init__(parent)
        self._root_fn, self._extra_fn = root_fn, extra_fn
        self._slot = TaskSlot(runner, self)
        self._rows: dict[str, dict[str, Any]] = {}
        self._overrides: dict[str, str] = {}
        self._live: dict[str, int] = {}  # the newest step the worker reported, per run this window trains
        self.setColumnCount(3)
        self.setHeaderLabels(["Run", "State", "Step"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.itemSelectionChanged.connect(self._on_selection)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._quiet = False

    def refresh(self) -> None:
        if self._slot.busy:
            return
        self._slot.start("list runs", gather_runs, Path(self._root_fn()), list(self._extra_fn()),
                         on_done=self._fill, on_failed=lambda exc: None)

    def set_state_override(self, path: str | Path | None, state: str | None) -> None:
        """This window knows better than status.json while it trains (e.g. 'paused', 'preparing')."""
        if path is None:
            return
        key = str(Path(path))
        if state:
            self._overrides[key] = state
        else:
            self._overrides.pop(key, None)
        item = self._item(key)
        if item is not None:
            self._paint(item, self._rows.get(key, {"state": state or "?", "step": 0, "total": 0}))

    def set_live_progress(self, path: str | Path, *, step: int, total: int) -> None:
        """The step of the run this window trains, from the worker as it is logged (a refresh reads the same
        from the folder; a refresh that read it a moment earlier never moves it back)."""
        key = str(Path(path))
        row = self._rows.get(key)
        if row is None:
            return
        row["step"], row["total"] = max(step, row.get("step", 0)), total or row.get("total", 0)
        self._live[key] = row["step"]
        item = self._item(key)
        if item is not None:
            self._paint(item, row)

    def _fill(self, rows: list[dict[str, Any]]) -> None:
        selected = self.selected_path()
        self._quiet = True
        self.clear()
        for r in rows:  # the pool read the folder a moment ago: the worker may already be further
            if r["state"] in ("running", "paused") and r["path"] in self._live:
                r["step"] = max(r["step"], self._live[r["path"]])
        self._rows = {r["path"]: r for r in rows}
        for r in rows:
            item = QTreeWidgetItem([r["name"], "", ""])
            item.setData(0, 256, r["path"])
            item.setToolTip(0, r["path"])
            self._paint(item, r)
            self.addTopLevelItem(item)
            if r["path"] == selected:
                item.setSelected(True)
                self.setCurrentItem(item)
        self._quiet = False
        self.refreshed.emit()

    def _paint(self, item: QTreeWidgetItem, row: dict[str, Any]) -> None:
        state = self._overrides.get(row.get("path", ""), row["state"])
        item.setText(1, state)
        total = row.get("total", 0)
        item.setText(2, f"{row.get('step', 0):,}" + (f" / {total:,}" if total else ""))
        colour = STATE_COLOURS.get(state)
        item.setForeground(1, QColor(colour) if colour else self.palette().text())

    def _item(self, path: str) -> QTreeWidgetItem | None:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.data(0, 256) == path:
                return item
        return None

    def select_path(self, path: str | Path) -> None:
        """Select a run (adding a placeholder row if the next refresh has not picked it up yet)."""
        key = str(Path(path))
        item = self._item(key)
        self._quiet = True
        if item is None:
            row = {"path": key, "name": Path(key).name, "state": "…", "step": 0, "total": 0}
            self._rows[key] = row
            item = QTreeWidgetItem([row["name"], "", ""])
            item.setData(0, 256, key)
            self._paint(item, row)
            self.insertTopLevelItem(0, item)
        self.clearSelection()
        item.setSelected(True)
        self.setCurrentItem(item)
        self._quiet = False

    def selected_path(self) -> str | None:
        items = self.selectedItems()
        return items[0].data(0, 256) if items else None

    def state_of(self, path: str | Path | None) -> str | None:
        if path is None:
            return None
        key = str(Path(path))
        if key in self._overrides:
            return self._overrides[key]
        row = self._rows.get(key)
        return row["state"] if row else None

    def _on_selection(self) -> None:
        path = self.selected_path()
        if path and not self._quiet:
            self.runActivated.emit(path)
