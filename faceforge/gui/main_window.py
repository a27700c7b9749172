"""The main window: four tabs (Dataset, Train, Edit, Data faces), menus and toolbar with standard shortcuts, recent datasets
and runs, a relaunch that continues with the last dataset, run and tab, drag and drop, a status bar, and a close
that never loses a run.

The window owns the shared pieces - the task pool, the training session, the settings - and wires the panes to
them; the panes never talk to each other directly. Closing while training asks first, then stops at a step
boundary and closes only when the worker thread has ended, leaving a run that ``Resume`` continues exactly.
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from faceforge import paths
from faceforge.config import BUILTIN_SOURCE, TrainConfig, is_builtin, source_label
from faceforge.data.browse import DatasetView
from faceforge.gui import window_menus
from faceforge.gui.chernoff import DataFacesPane
from faceforge.gui.dataset_pane import DatasetPane
from faceforge.gui.edit import EditPane
from faceforge.gui.errors import log_file
from faceforge.gui.new_run_dialog import NewRunDialog
from faceforge.gui.settings import GuiSettings, window_settings
from faceforge.gui.tasks import TaskRunner
from faceforge.gui.train_pane import TrainPane
from faceforge.gui.training_session import TrainingSession
from faceforge.gui.workers import default_training_threads, warm_up_training_imports
from faceforge.runs import is_run_dir
from faceforge.training.plans import fit_model, plan_problem, quick_look_config

log = logging.getLogger(__name__)

#: torch intra-op threads for the training thread while the GUI runs: every core where the training thread runs at
#: a lower priority (Linux), else one core fewer than the machine has (see workers.default_training_threads).
#: torch.set_num_threads called on the training thread applies to that thread only (OpenMP's per-thread setting),
#: so the rest of the app is unaffected. bench/ui_stall.py --threads measures the trade.
TRAIN_THREADS: int | None = default_training_threads()


class MainWindow(QMainWindow):
    trainingStarted = Signal(str)  # run folder
    trainingFinished = Signal(dict)  # {"state", "step", "message", "run_dir"}
    datasetLoaded = Signal(object)  # DatasetView

    def __init__(self, *, initial_dataset: str | None = BUILTIN_SOURCE, settings: GuiSettings | None = None,
                 train_threads: int | None = TRAIN_THREADS, warm_up: bool = True):
        super().__init__()
        self.setWindowTitle("FaceForge")
        self.setAcceptDrops(True)
        self.settings = settings or GuiSettings()
        self.runner = TaskRunner(max_threads=2, parent=self)
        self.session = TrainingSession(self, threads=train_threads)
        self.plan: TrainConfig = quick_look_config()
        self._closing = False
        self._shut_down = False
        self.last_error = ""
        self._opened_runs: list[str] = [p for p in self.settings.recent_runs if is_run_dir(Path(p))]

        self.dataset_pane = DatasetPane(self.runner)
        self.train_pane = TrainPane(self.runner, runs_root_fn=self.runs_root,
                                    extra_runs_fn=lambda: list(self._opened_runs))
        self.edit_pane = EditPane()
        self.data_faces_pane = DataFacesPane(runs_root_fn=self.runs_root)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.dataset_pane, "Dataset")
        self.tabs.addTab(self.train_pane, "Train")
        self.tabs.addTab(self.edit_pane, "Edit")
        self.tabs.addTab(self.data_faces_pane, "Data faces")
        self.setCentralWidget(self.tabs)

        self.state_label = QLabel("Ready")
        self.statusBar().addPermanentWidget(self.state_label)

        self._connect()
        window_menus.install(self)
        self._restore_geometry()
        self._update_actions()
        self._update_plan_label()
        self.train_pane.runs.refresh()
        if initial_dataset:
            self.dataset_pane.open_source(initial_dataset)
        if warm_up:  # after the first paint: start-up shows the window first
            QTimer.singleShot(300, lambda: self._shut_down or self.runner.submit("warm up", warm_up_training_imports))

    # ---------------------------------------------------------------- wiring
    def _connect(self) -> None:
        dp, tp, s = self.dataset_pane, self.train_pane, self.session
        dp.datasetLoaded.connect(self._on_dataset_loaded)
        dp.loadFailed.connect(lambda msg: self.show_error("Cannot open the dataset", msg))
        dp.conditioningChanged.connect(self._on_conditioning)
        dp.statusMessage.connect(self.status)
        tp.startRequested.connect(lambda: self.start_training())
        tp.pauseToggled.connect(self.toggle_pause)
        tp.stopRequested.connect(self.stop_training)
        tp.newRunRequested.connect(self.new_run)
        tp.resumeRequested.connect(self.resume_run)
        tp.openRunRequested.connect(self.browse_run)
        tp.statusMessage.connect(self.status)
        tp.runShown.connect(self.edit_pane.offer_run)  # the Edit pane changes model only when asked there
        self.tabs.currentChanged.connect(self.settings.set_last_tab)
        self.edit_pane.statusMessage.connect(self.status)
        tp.runShown.connect(self.data_faces_pane.offer_run)  # used only while that pane has no run of its own
        self.data_faces_pane.statusMessage.connect(self.status)
        s.started.connect(self._on_training_started)
        s.progressed.connect(tp.training_update)
        s.progressed.connect(self._on_training_update)
        s.finished.connect(self._on_training_finished)
        s.stateChanged.connect(self._on_session_state)

    # ---------------------------------------------------------------- datasets
    def open_dataset(self, source: str, labels: str | None = None) -> None:
        self.tabs.setCurrentWidget(self.dataset_pane)
        self.dataset_pane.open_source(source, labels)

    def reopen_last(self) -> None:
        """Continue where the last session ended: its dataset (else the built-in faces), its run, its tab."""
        last = self.settings.last_dataset
        if last and (is_builtin(last["source"]) or Path(last["source"]).exists()):
            labels = last["labels"] if last["labels"] and Path(last["labels"]).is_file() else None
            self.dataset_pane.open_source(last["source"], labels, find_labels=last["find_labels"])
        else:
            self.dataset_pane.open_source(BUILTIN_SOURCE)
        tab = self.settings.last_tab
        run = self.settings.last_run
        if run and is_run_dir(Path(run)):
            if run not in self._opened_runs:
                self._opened_runs.append(run)
            self.train_pane.show_run(Path(run))
            self.train_pane.runs.refresh()
        self.tabs.setCurrentIndex(tab)

    def _on_dataset_loaded(self, view: DatasetView) -> None:
        if not view.builtin:
            self.settings.add_recent_dataset(view.source, view.labels_path)
        self.settings.set_last_dataset(view.source, view.labels_path, find_labels=self.dataset_pane.find_labels)
        plan = copy.deepcopy(self.plan)
        if plan.data.source != view.source:
            plan.data.crop = None  # a crop box is in one dataset's pixels
        plan.data.source, plan.data.labels = view.source, view.labels_path
        if not view.builtin and plan.name == "quick-look":
            plan.name = ""
        self.plan = plan
        self._on_conditioning(self.dataset_pane.checked_attributes())
        self.datasetLoaded.emit(view)

    def _on_conditioning(self, names: list[str]) -> None:
        self.plan.data.attributes = list(names)
        fit_model(self.plan)
        self._update_plan_label()

    def _update_plan_label(self) -> None:
        p = self.plan
        data = source_label(p.data.source)
        attrs = f"{len(p.data.attributes)} attributes" if p.data.attributes else "unconditional"
        self.train_pane.set_plan(f"Start will train {p.model.name} at {p.model.resolution} px on {data} "
                                 f"({attrs}), {p.schedule.steps:,} steps, batch {p.schedule.batch_size} — "
                                 f"change it with New run…")

    # ---------------------------------------------------------------- runs
    def runs_root(self) -> Path:
        return paths.default_runs_dir()

    def browse_run(self) -> None:
        start = self.runs_root()
        path = QFileDialog.getExistingDirectory(self, "Open a run folder", str(start if start.exists() else Path.home()))
        if path:
            self.open_run(path)

    def open_run(self, path: str | Path) -> bool:
        path = Path(path)
        if not is_run_dir(path):
            self.show_error("Not a run folder", f"{path} is not a FaceForge run folder (it has no config.json).")
            return False
        if str(path) not in self._opened_runs:
            self._opened_runs.append(str(path))
        self.settings.add_recent_run(path)
        self.tabs.setCurrentWidget(self.train_pane)
        self.train_pane.show_run(path)
        self.train_pane.runs.refresh()
        return True

    # ---------------------------------------------------------------- training
    def start_training(self, config: TrainConfig | None = None) -> bool:
        """Start a new run (default: the current plan). Returns False, with a message, when it cannot."""
        if self.session.active:
            self.status("A run is already training; stop it first.")
            return False
        config = copy.deepcopy(config if config is not None else self.plan)
        problem = plan_problem(config)
        if problem:
            self.show_error("Cannot start training", f"{problem[0].upper()}{problem[1:]}. Check attributes in the "
                                                     "Dataset tab, or change the model in New run….")
            return False
        self.tabs.setCurrentWidget(self.train_pane)
        self.session.start_new(config, runs_root=self.runs_root())
        self.status("Preparing the dataset…")
        return True

    def new_run(self) -> None:
        dialog = NewRunDialog(self.runner, config=self.plan, attributes=self.dataset_pane.attributes or None,
                              train_threads=self.session.threads, runs_root=self.runs_root(), parent=self)
        dialog.estimated.connect(self.status)
        if dialog.exec() == NewRunDialog.DialogCode.Accepted:
            self.plan = dialog.config()
            self._update_plan_label()
            self.start_training(self.plan)

    def resume_run(self, path: str | Path, steps: int | None = None) -> bool:
        if self.session.active:
            self.status("A run is already training; stop it first.")
            return False
        path = Path(path)
        if not is_run_dir(path):
            self.show_error("Cannot resume", f"{path} is not a run folder.")
            return False
        self.tabs.setCurrentWidget(self.train_pane)
        self.session.resume(path, steps=steps)
        self.train_pane.set_session_state(self.session.state, path)
        self.status(f"Resuming {path.name}…")
        return True

    def _resume_selected(self) -> None:
        path = self.train_pane.runs.selected_path() or (str(self.train_pane.shown_run)
                                                         if self.train_pane.shown_run else None)
        if path:
            self.resume_run(path)

    def open_classifier(self):
        """The attribute classifier of the run shown in the Train pane (or the selected one)."""
        from faceforge.gui.classifier_dialog import ClassifierDialog

        path = self.train_pane.runs.selected_path() or (str(self.train_pane.shown_run)
                                                         if self.train_pane.shown_run else None)
        if not path:
            self.status("Open or select a run first: the classifier learns that run's labelled data")
            return None
        dialog = ClassifierDialog(self.runner, path, parent=self)
        dialog.open()
        return dialog

    def toggle_pause(self) -> None:
        self.session.toggle_pause()

    def pause_training(self) -> None:
        self.session.pause()

    def resume_training(self) -> None:
        self.session.resume_training()

    def stop_training(self) -> None:
        if self.session.active:
            self.session.stop()
            self.status("Stopping at the next step (a snapshot and a checkpoint are written)…")

    def _on_training_started(self, info: dict) -> None:
        self.train_pane.training_started(info)
        self.settings.add_recent_run(info["run_dir"])
        self.status(f"Training {Path(info['run_dir']).name}")
        self.trainingStarted.emit(str(info["run_dir"]))

    def _on_training_update(self, update) -> None:
        if len(update.rows) and self.session.state == "running":
            step = int(update.rows[-1, 0])
            total = self.session.total_steps
            self.state_label.setText(f"Training · step {step:,}" + (f" / {total:,}" if total else ""))
        for level, text in update.messages:
            if level in ("warning", "error", "health"):
                self.status(text)

    def _on_training_finished(self, result: dict) -> None:
        self.train_pane.training_finished(result)
        state, message = result.get("state"), result.get("message") or ""
        texts = {"finished": "Training finished", "stopped": "Training stopped (resumable)",
                 "cancelled": "Training cancelled before it started"}
        self.status(texts.get(state, f"Training ended: {state}") + (f" — {message}" if message else ""))
        if state in ("failed", "disk-full") and message and not self._closing:
            self.show_error("Training stopped", message)
        self.trainingFinished.emit(result)
        if self._closing:
            QTimer.singleShot(0, self.close)

    def _on_session_state(self, state: str) -> None:
        self.train_pane.set_session_state(state, self.session.run_dir)
        labels = {"idle": "Ready", "preparing": "Preparing data…", "running": "Training", "paused": "Paused",
                  "stopping": "Stopping…"}
        self.state_label.setText(labels.get(state, state))
        self._update_actions()

    def _update_actions(self) -> None:
        state = self.session.state
        idle = state == "idle"
        self.act_start.setEnabled(idle)
        self.act_new_run.setEnabled(idle)
        self.act_resume.setEnabled(idle)
        self.act_pause.setEnabled(state in ("preparing", "running", "paused"))
        self.act_pause.setText("Res&ume" if state == "paused" else "&Pause")
        self.act_stop.setEnabled(state in ("preparing", "running", "paused"))

    # ---------------------------------------------------------------- messages
    def status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def show_error(self, title: str, message: str) -> None:
        """A readable, non-blocking message box (the details are in the log)."""
        log.warning("%s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.open()
        self.last_error = message
        self.status(message)

    def _about(self) -> None:
        from faceforge import __version__

        QMessageBox.about(self, "About FaceForge",
                          f"<b>FaceForge {__version__}</b><p>Train face GANs and edit faces, locally.</p>"
                          f"<p>Log file: {log_file()}</p>")

    # ---------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
                event.acceptProposedAction()
                return

    def open_path(self, path: str | Path) -> None:
        """A dropped (or command-line) path: a run folder opens the run, a folder or zip opens a dataset, a .txt or
        .csv becomes the labels of the current dataset."""
        path = Path(path)
        if is_run_dir(path):
            self.open_run(path)
        elif path.is_dir() or path.suffix.lower() == ".zip":
            self.open_dataset(str(path))
        elif path.suffix.lower() in (".txt", ".csv"):
            self.tabs.setCurrentWidget(self.dataset_pane)
            self.dataset_pane.set_labels(str(path))
        else:
            self.status(f"Cannot open {path.name}: drop a folder of images, a zip, a labels file or a run folder")

    # ---------------------------------------------------------------- geometry and closing
    def _restore_geometry(self) -> None:
        qs = window_settings()
        geometry = qs.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = qs.value("state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def _save_geometry(self) -> None:
        qs = window_settings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        qs.sync()

    def confirm_stop_on_close(self) -> bool:
        """Asked when closing during training (tests replace this)."""
        answer = QMessageBox.question(
            self, "Training in progress",
            "A run is training. Stop it and quit?\n\nIt stops at the next step and writes a checkpoint; "
            "you can resume it later from the Train tab.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.session.active:
            event.ignore()
            if self._closing:
                return  # already stopping; we close when the worker has finished
            if not self.confirm_stop_on_close():
                return
            self._closing = True
            self.session.stop()
            self.status("Stopping training at the next step, then closing…")
            self.state_label.setText("Stopping…")
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Release threads: no worker may outlive the window (Qt aborts on a running QThread's destruction)."""
        if self._shut_down:
            return
        self._shut_down = True
        self._save_geometry()
        self.train_pane.shutdown()
        self.edit_pane.shutdown()
        self.data_faces_pane.shutdown()
        self.dataset_pane.shutdown()
        if self.session.active:  # only reachable from tests/teardown: stop and wait for a clean checkpoint
            self.session.stop()
            self.session.wait()
        self.runner.shutdown()

