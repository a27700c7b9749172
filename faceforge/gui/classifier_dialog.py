"""Train > Attribute classifier…: FaceForge's own attribute classifier for a run, trained on the run's labelled
data off the GUI thread (progress, time left, Cancel), then its held-out results per attribute in a table.

The classifier is what measures whether a conditional model obeys its conditions and what judges edits; people see
how far to trust it here (accuracy on faces it never saw, and what always guessing the majority would score)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from faceforge.gui.errors import readable
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot


def train_in_background(run_dir: str, *, state) -> dict:
    """Runs on the pool: the core's train_for_run with the task's progress and cancel."""
    from faceforge.training.classifier import train_for_run

    def progress(event: dict) -> None:
        if event.get("kind") in ("estimate", "stats") and event.get("total_steps"):
            state.set_progress(int(event["step"]), int(event["total_steps"]))

    _, metrics = train_for_run(Path(run_dir), progress=progress, should_stop=state.should_stop)
    return metrics


def result_rows(metrics: dict) -> list[tuple[str, str, str]]:
    """(attribute, held-out result, what guessing would score) for the table, in words."""
    rows = []
    for name, m in metrics.get("attributes", {}).items():
        if m.get("kind") == "binary":
            rows.append((name, f"{m['accuracy']:.1%} (balanced {m['balanced_accuracy']:.1%})",
                         f"{m['majority_accuracy']:.1%} always guessing the majority"))
        else:
            rows.append((name, f"mean error {m['mae']:.3g} (its units), correlation {m.get('corr', float('nan')):.2f}",
                         f"mean error {m['mean_guess_mae']:.3g} guessing the mean"))
    return rows


class ClassifierDialog(QDialog):
    def __init__(self, runner: TaskRunner, run_dir: str | Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_dir = str(run_dir)
        self.metrics: dict | None = None
        self.setWindowTitle("Attribute classifier")
        self.resize(720, 520)
        self.intro = QLabel(f"Train FaceForge's attribute classifier on the labelled data of <b>{Path(run_dir).name}"
                            "</b> (all its attributes; a few CPU minutes for 10,000 faces at 64 px). It is saved in "
                            "the run folder and measures how well the model obeys its attributes.")
        self.intro.setWordWrap(True)
        self.train_button = QPushButton("Train classifier")
        self.train_button.clicked.connect(self.start)
        self.progress = ProgressPanel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Attribute", "On faces it never saw", "For comparison"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.intro, self.train_button, self.progress, self.message):
            layout.addWidget(w)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self._slot = TaskSlot(runner, self)

    def start(self) -> None:
        self.train_button.setEnabled(False)
        self.message.setText("")
        self._slot.start("train attribute classifier", train_in_background, self.run_dir, with_state=True,
                         on_started=lambda task: self.progress.track(task, "Training"),
                         on_done=self._done, on_failed=self._failed, on_cancelled=self._cancelled)

    def _done(self, metrics: dict) -> None:
        self.progress.finish()
        self.metrics = metrics
        self.train_button.setEnabled(True)
        self.train_button.setText("Train again")
        rows = result_rows(metrics)
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.message.setText(f"Saved in {Path(self.run_dir).name}/classifier/. Held out: "
                             f"{metrics.get('n_holdout', 0):,} images.")

    def _failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self.train_button.setEnabled(True)
        self.message.setText(f"Cannot train the classifier: {readable(exc)}")

    def _cancelled(self) -> None:
        self.progress.finish()
        self.train_button.setEnabled(True)
        self.message.setText("Cancelled; nothing was saved.")

    def done(self, result: int) -> None:
        self._slot.cancel()
        super().done(result)
