"""Background tasks for everything that is not training: scanning folders, reading label files, checking datasets,
loading a run's history, estimating a run, exporting a GIF.

Modelled on Orange3's ``widgets/utils/concurrent.py``: the function runs on a QThreadPool thread and receives a
``TaskState`` with ``set_progress`` (emits only when the shown value would change, at most ~20 times a second) and
``should_stop()`` for cooperative cancel; its result or its exception comes back to the GUI thread as a signal.
Starting a new task of the same kind cancels the old one (``TaskSlot``), and a stale task's result is dropped,
so a slow scan of the previous folder can never overwrite the folder the user just opened.
"""
from __future__ import annotations

import threading
import time
import warnings
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from faceforge.gui.errors import log_exception


class TaskState:
    """The worker's side of a task: progress reporting and the cancel flag. Safe to call from the worker thread."""

    def __init__(self, task: "Task"):
        self._task = task
        self._cancel = threading.Event()
        self._last_emit = 0.0
        self._last_permille = -1

    def set_progress(self, done: int, total: int) -> None:
        permille = int(1000 * done / total) if total else 0
        now = time.perf_counter()
        if done >= total or (permille != self._last_permille and now - self._last_emit >= 0.05):
            self._last_emit, self._last_permille = now, permille
            self._task.progress.emit(int(done), int(total))

    def should_stop(self) -> bool:
        return self._cancel.is_set()

    is_interruption_requested = should_stop

    def request_interruption(self) -> None:
        self._cancel.set()


class Task(QObject):
    """The GUI's side: connect ``done``/``failed``/``progress``; ``cancel()`` asks the function to stop.

    ``failed`` carries the exception object (the traceback is already in the log); ``cancelled`` is emitted instead
    of ``failed`` when the function stopped because it was asked to.
    """

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.state = TaskState(self)
        self.started_at = time.perf_counter()
        self.finished = False

    def cancel(self) -> None:
        self.state.request_interruption()

    @property
    def is_cancelled(self) -> bool:
        return self.state.should_stop()


class TaskRunner(QObject):
    """A small QThreadPool plus bookkeeping: tasks stay referenced until their result has been delivered."""

    def __init__(self, max_threads: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._tasks: set[Task] = set()

    def create(self, name: str) -> Task:
        """A task not started yet: connect its signals, then ``start`` it. (Signals emitted by a fast job before a
        slot is connected would never reach that slot, so connecting first is the only race-free order.)"""
        task = Task(name)
        self._tasks.add(task)
        task.done.connect(lambda _r, t=task: self._release(t))
        task.failed.connect(lambda _e, t=task: self._release(t))
        task.cancelled.connect(lambda t=task: self._release(t))
        return task

    def start(self, task: Task, fn: Callable[..., Any], *args: Any, with_state: bool = False, **kwargs: Any) -> Task:
        """Run ``fn(*args, **kwargs)`` (plus ``state=TaskState`` when ``with_state``) on the pool."""

        def job() -> None:
            try:
                result = fn(*args, state=task.state, **kwargs) if with_state else fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI thread as a signal
                if task.is_cancelled:  # stopped because we asked (e.g. the data layer's Cancelled)
                    task.cancelled.emit()
                else:
                    log_exception(exc, f"task {task.name}")
                    task.failed.emit(exc)
                return
            if task.is_cancelled:
                task.cancelled.emit()
            else:
                task.done.emit(result)

        self.pool.start(job)
        return task

    def submit(self, name: str, fn: Callable[..., Any], *args: Any, with_state: bool = False, **kwargs: Any) -> Task:
        """create + start, for callers that connect only through the returned task's later signals."""
        return self.start(self.create(name), fn, *args, with_state=with_state, **kwargs)

    def _release(self, task: Task) -> None:
        task.finished = True
        # drop our reference only after the remaining slots of this emission have run
        QTimer.singleShot(0, lambda: self._tasks.discard(task))

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for the pool's threads (called when the window closes). Results still on
        their way to the GUI thread are disconnected: their receivers are about to be deleted."""
        self.cancel_all()
        self.pool.clear()
        done = self.pool.waitForDone(timeout_ms)
        with warnings.catch_warnings():  # PySide warns when a signal had no connection to drop
            warnings.simplefilter("ignore", RuntimeWarning)
            for task in list(self._tasks):
                for signal in (task.done, task.failed, task.progress, task.cancelled):
                    try:
                        signal.disconnect()
                    except (RuntimeError, TypeError):
                        pass
        if done:  # a job still running keeps its task alive (it may still emit)
            self._tasks.clear()
        return done

    @property
    def active(self) -> int:
        return len([t for t in self._tasks if not t.finished])


class TaskSlot(QObject):
    """At most one running task of a kind: starting a new one cancels the previous and ignores its late result."""

    def __init__(self, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.task: Task | None = None

    def start(self, name: str, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None,
              on_cancelled: Callable[[], None] | None = None, on_started: Callable[[Task], None] | None = None,
              with_state: bool = False, **kwargs: Any) -> Task:
        """Cancel the previous task, connect the callbacks (``on_started`` gets the task before it runs, e.g. to
        bind a progress panel), then start ``fn``."""
        self.cancel()
        task = self.runner.create(name)
        self.task = task

        def current() -> bool:  # still wanted, and its owner (a widget that may have closed) still alive
            return self.task is task and shiboken6.isValid(self)

        if on_done is not None:
            task.done.connect(lambda r: (on_done(r) if current() else None))
        if on_failed is not None:
            task.failed.connect(lambda e: (on_failed(e) if current() else None))
        if on_progress is not None:
            task.progress.connect(lambda d, t: (on_progress(d, t) if current() else None))
        if on_cancelled is not None:
            task.cancelled.connect(lambda: (on_cancelled() if current() else None))
        task.done.connect(lambda _r: self._clear(task))
        task.failed.connect(lambda _e: self._clear(task))
        task.cancelled.connect(lambda: self._clear(task))
        if on_started is not None:
            on_started(task)
        return self.runner.start(task, fn, *args, with_state=with_state, **kwargs)

    def _clear(self, task: Task) -> None:
        if self.task is task:
            self.task = None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    @property
    def busy(self) -> bool:
        return self.task is not None
