"""The New-run dialog: every choice that defines a run, presets for the common ones, and an estimate of time and
memory before the user commits (the "no out-of-memory surprises" promise in docs/ARCHITECTURE.md).

The dialog edits a ``TrainConfig``; fields it does not show (log interval, grid size...) are kept from the config
it was opened with, so a preset or a previous run's config round-trips untouched.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from faceforge.config import BUILTIN_SOURCE, TrainConfig, is_builtin
from faceforge.data.browse import dialog_folder
from faceforge.data.labels import find_label_file
from faceforge.data.synthetic import BUILTIN_ATTRIBUTES
from faceforge.gui.errors import readable
from faceforge.gui.model_fields import CONDITIONING_TEXT, LOSS_TEXT, offer
from faceforge.gui.model_fields import lr_spin as _lr_spin
from faceforge.gui.model_fields import select as _select
from faceforge.gui.model_fields import spin as _spin
from faceforge.gui.tasks import TaskRunner, TaskSlot
from faceforge.gui.torchrun_box import TorchrunBox
from faceforge.models import available_models, capabilities, model_for
from faceforge.training.plans import (CELEBA_DEFAULT_ATTRIBUTES, CUSTOM, PRESETS, apply_loss, apply_model_defaults,
                                      apply_preset, matching_preset, plan_problem, quick_look_config)


def read_label_names(path: str) -> list[str]:
    from faceforge.data import read_labels

    return list(read_labels(Path(path)).names)


def estimate(config: TrainConfig, threads: int | None = None) -> dict:
    """Runs on the pool (training.estimate imports torch: loaded here, not when the window opens)."""
    from faceforge.training.estimate import estimate_with_threads

    return estimate_with_threads(config, threads)


def format_estimate(result: dict) -> str:
    from faceforge.training.estimate import format_estimate as describe

    return describe(result)


class NewRunDialog(QDialog):
    """Returns ``config()`` when accepted. ``estimated`` fires with the formatted estimate (tests, status bar)."""

    estimated = Signal(str)

    def __init__(self, runner: TaskRunner, *, config: TrainConfig | None = None, attributes: list[str] | None = None,
                 models: dict[str, str] | None = None, train_threads: int | None = None,
                 runs_root: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.train_threads, self.runs_root = train_threads, runs_root
        self.setWindowTitle("New training run")
        self._base = copy.deepcopy(config) if config is not None else quick_look_config()
        self._attributes_for_source = list(attributes or [])
        self._estimate_slot = TaskSlot(runner, self)
        self._labels_slot = TaskSlot(runner, self)
        self._filling = False  # set_config is filling the fields: a model set there is not the person's choice
        self._model_shown: str | None = None
        if models is None:
            models = available_models()

        self.preset = QComboBox()
        self.preset.addItems([CUSTOM, *PRESETS])
        self.preset.setToolTip("A preset sets the model size and schedule for the dataset chosen below; the box "
                               "names the preset whose settings the fields have")
        self.preset.textActivated.connect(self._apply_preset)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional; added to the run folder's name")

        self.source = QLineEdit()
        self.source.setToolTip("builtin:faces, a folder of images (searched recursively) or a .zip")
        browse_folder = QPushButton("Folder…")
        browse_folder.clicked.connect(self._browse_folder)
        browse_zip = QPushButton("Zip…")
        browse_zip.clicked.connect(self._browse_zip)
        builtin = QPushButton("Built-in")
        builtin.clicked.connect(lambda: self._set_source(BUILTIN_SOURCE, None))
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        for b in (browse_folder, browse_zip, builtin):
            source_row.addWidget(b)
        self.labels = QLineEdit()
        self.labels.setPlaceholderText("CelebA list_attr_celeba.txt or a CSV (filename,attr1,...)")
        self.labels.editingFinished.connect(self._labels_changed)
        browse_labels = QPushButton("Labels…")
        browse_labels.clicked.connect(self._browse_labels)
        labels_row = QHBoxLayout()
        labels_row.addWidget(self.labels, 1)
        labels_row.addWidget(browse_labels)

        self.model = QComboBox()
        for name, description in models.items():
            self.model.addItem(name, name)
            self.model.setItemData(self.model.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.model_help = QLabel()  # one line (a wrapped label gets clipped by the form's row arithmetic)
        self.model_help.setStyleSheet("color: palette(placeholder-text)")

        def describe() -> None:
            text = models.get(self.model.currentData(), "")
            self.model_help.setText(text.split(":")[0])  # the name and its sources; the rest in the tooltip
            self.model_help.setToolTip(text)

        self.model.currentIndexChanged.connect(describe)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.resolution = QComboBox()
        for r in (32, 64, 128):
            self.resolution.addItem(f"{r} px", r)
        self.loss = QComboBox()  # the chosen model's losses only (set_config fills it)
        self.loss.setToolTip("The objectives this model trains with; choosing the model selects its own")
        self.loss.currentIndexChanged.connect(self._loss_changed)
        self.batch = _spin(1, 4096, 64)
        self.steps = _spin(1, 10_000_000, 2000, step=500)
        self.lr_g = _lr_spin()
        self.lr_d = _lr_spin()
        self.seed = _spin(0, 2**31 - 1, 0)
        self.device = QComboBox()
        for d in ("auto", "cpu", "cuda", "mps"):
            self.device.addItem(d, d)
        self.width_spin = _spin(4, 1024, 64, step=8)
        self.width_spin.setToolTip("Channels of G's last block and D's first block (the DCGAN paper's 64)")
        self.n_critic = _spin(1, 20, 1)
        self.conditioning = QComboBox()  # where a conditional model's attributes enter (the registry lists them)
        self.conditioning.setToolTip("Where the attributes enter a conditional model; bench/conditioning_control.py "
                                     "measures how well each makes the faces obey them")
        from faceforge.gui.workers import CAN_LOWER_THREAD_PRIORITY, default_training_threads

        cores = os.cpu_count() or 1
        self.threads = _spin(0, cores, 0)
        self.threads.setSpecialValueText(
            f"automatic ({default_training_threads()}, at low priority: the window stays responsive)"
            if CAN_LOWER_THREAD_PRIORITY else f"automatic ({default_training_threads()}: one core left for the window)")
        self.threads.setToolTip(f"CPU threads for training (this machine has {cores} cores)")
        self.sample_every = _spin(1, 1_000_000, 200, step=50)
        self.checkpoint_every = _spin(1, 1_000_000, 500, step=100)

        self.attributes = QListWidget()
        self.attributes.setMinimumWidth(220)
        self.attributes.setToolTip("The conditional model is conditioned on the checked attributes")
        all_button, none_button = QPushButton("All"), QPushButton("None")
        all_button.clicked.connect(lambda: self._check_all(True))
        none_button.clicked.connect(lambda: self._check_all(False))
        attr_box = QGroupBox("Attributes to condition on")
        al = QVBoxLayout(attr_box)
        al.addWidget(self.attributes, 1)
        ab = QHBoxLayout()
        ab.addWidget(all_button)
        ab.addWidget(none_button)
        ab.addStretch(1)
        al.addLayout(ab)

        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("Name", self.name)
        form.addRow("Dataset", source_row)
        form.addRow("Labels", labels_row)
        model_box = QWidget()  # the combo with its description under it, as one field of a known height
        mb = QVBoxLayout(model_box)
        mb.setContentsMargins(0, 0, 0, 0)
        mb.setSpacing(2)
        mb.addWidget(self.model)
        mb.addWidget(self.model_help)
        form.addRow("Model", model_box)
        form.addRow("Resolution", self.resolution)
        form.addRow("Loss", self.loss)
        form.addRow("Batch size", self.batch)
        form.addRow("Steps", self.steps)
        lr_row = QHBoxLayout()
        lr_row.addWidget(QLabel("G"))
        lr_row.addWidget(self.lr_g)
        lr_row.addWidget(QLabel("D"))
        lr_row.addWidget(self.lr_d)
        lr_row.addStretch(1)
        form.addRow("Learning rates", lr_row)
        form.addRow("Seed", self.seed)
        form.addRow("Device", self.device)

        advanced = QGroupBox("Advanced")
        adv = QFormLayout(advanced)
        adv.addRow("Model width", self.width_spin)
        adv.addRow("D steps per G step", self.n_critic)
        adv.addRow("Attributes enter", self.conditioning)
        adv.addRow("CPU threads", self.threads)
        adv.addRow("Snapshot every (steps)", self.sample_every)
        adv.addRow("Checkpoint every (steps)", self.checkpoint_every)

        self.estimate_button = QPushButton("Estimate")
        self.estimate_button.setToolTip("Time a few steps of this exact configuration (time per 1,000 steps, memory)")
        self.estimate_button.clicked.connect(self.run_estimate)
        self.estimate_label = QLabel("Press Estimate to time a few steps before you start.")
        self.estimate_label.setWordWrap(True)
        est_row = QHBoxLayout()
        est_row.addWidget(self.estimate_button)
        est_row.addWidget(self.estimate_label, 1)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start training")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(advanced)
        left.addStretch(1)
        right = QVBoxLayout()  # the torchrun box takes room from the stretchy attribute list, not from the form
        right.addWidget(attr_box, 1)
        self.torchrun = TorchrunBox(self.config, out_fn=lambda: self.runs_root)
        right.addWidget(self.torchrun)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(est_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        for combo in (self.resolution, self.loss, self.device):
            combo.currentIndexChanged.connect(self._sync_preset)
        for spin in (self.batch, self.steps, self.width_spin, self.n_critic, self.sample_every, self.checkpoint_every):
            spin.valueChanged.connect(self._sync_preset)
        self.attributes.itemChanged.connect(self._attributes_toggled)
        self.set_config(self._base, self._attributes_for_source)
        # never smaller than the rows need: a fixed 860 x 640 squashed the Model row once the torchrun box came
        self.setMinimumSize(layout.minimumSize().expandedTo(QSize(860, 640)))

    # ---------------------------------------------------------------- config <-> fields
    def set_config(self, cfg: TrainConfig, attributes: list[str] | None = None) -> None:
        self._base = copy.deepcopy(cfg)
        self.name.setText(cfg.name)
        self.source.setText(cfg.data.source)
        self.labels.setText(cfg.data.labels or "")
        self._filling = True
        try:
            _select(self.model, cfg.model.name)
        finally:
            self._filling = False
        self._model_shown = self.model.currentData()
        _select(self.resolution, cfg.model.resolution)
        self._offer_for_model(cfg)
        self.batch.setValue(cfg.schedule.batch_size)
        self.steps.setValue(cfg.schedule.steps)
        self.lr_g.setValue(cfg.optim.lr_g)
        self.lr_d.setValue(cfg.optim.lr_d)
        self.seed.setValue(cfg.seed)
        _select(self.device, cfg.perf.device)
        self.width_spin.setValue(cfg.model.g_channels)
        self.n_critic.setValue(cfg.loss.n_critic)
        self.sample_every.setValue(cfg.schedule.sample_every)
        self.checkpoint_every.setValue(cfg.schedule.checkpoint_every)
        self.threads.setValue(cfg.perf.threads)
        names = list(attributes) if attributes else (list(BUILTIN_ATTRIBUTES) if is_builtin(cfg.data.source) else [])
        for a in cfg.data.attributes:
            if a not in names and a != "*":
                names.append(a)
        self._fill_attributes(names, cfg.data.attributes)
        self._sync_preset()

    def _fill_attributes(self, names: list[str], checked: list[str]) -> None:
        self.attributes.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = name in checked or "*" in checked
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.attributes.addItem(item)
        if not names:
            item = QListWidgetItem("(no labels: choose a labels file to condition on attributes)")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.attributes.addItem(item)

    def _check_all(self, on: bool) -> None:
        for i in range(self.attributes.count()):
            item = self.attributes.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked_attributes(self) -> list[str]:
        out = []
        for i in range(self.attributes.count()):
            item = self.attributes.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable and item.checkState() == Qt.CheckState.Checked:
                out.append(item.text())
        return out

    def config(self) -> TrainConfig:
        cfg = copy.deepcopy(self._base)
        res = int(self.resolution.currentData())
        cfg.name = self.name.text().strip()
        cfg.seed = self.seed.value()
        cfg.data.source = self.source.text().strip() or BUILTIN_SOURCE
        cfg.data.labels = self.labels.text().strip() or None
        cfg.data.attributes = self.checked_attributes()
        cfg.data.resolution = res
        cfg.model.name = self.model.currentData()
        cfg.model.resolution = res
        cfg.model.g_channels = cfg.model.d_channels = self.width_spin.value()
        cfg.loss.kind = self.loss.currentData()
        cfg.loss.n_critic = self.n_critic.value()
        cfg.model.conditioning = self.conditioning.currentData()
        cfg.optim.lr_g, cfg.optim.lr_d = self.lr_g.value(), self.lr_d.value()
        cfg.schedule.steps, cfg.schedule.batch_size = self.steps.value(), self.batch.value()
        cfg.schedule.sample_every = self.sample_every.value()
        cfg.schedule.checkpoint_every = self.checkpoint_every.value()
        cfg.perf.device = self.device.currentData()
        cfg.perf.threads = self.threads.value()
        return cfg

    def problem(self) -> str:
        """Why this config cannot start, in words (empty when it can)."""
        cfg = self.config()
        problem = plan_problem(cfg)
        if problem:
            return problem[0].upper() + problem[1:] + "."
        if not is_builtin(cfg.data.source) and not Path(cfg.data.source).exists():
            return f"The dataset {cfg.data.source} does not exist."
        return ""

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error_label.setText(problem)
            return
        super().accept()

    # ---------------------------------------------------------------- presets and helpers
    def _apply_preset(self, name: str) -> None:
        if name in PRESETS:
            self.set_config(apply_preset(name, self.config()), self._attribute_names())
        self._sync_preset()

    def _sync_preset(self) -> None:
        """The box names the preset the fields match, or Custom, whichever way the fields got their values."""
        self.preset.setCurrentText(matching_preset(self.config()))

    def _attribute_names(self) -> list[str]:
        return [self.attributes.item(i).text() for i in range(self.attributes.count())
                if self.attributes.item(i).flags() & Qt.ItemFlag.ItemIsUserCheckable]

    def _attributes_toggled(self) -> None:
        """Checking the first attribute turns an unconditional model into its conditional twin, and back."""
        name = self.model.currentData()
        if name:
            _select(self.model, model_for(name, n_attributes=len(self.checked_attributes())))

    def _loss_changed(self) -> None:
        """A loss brings the settings measured for it with this model (``apply_loss``: ProGAN's WGAN-GP its paper's
        learning rate, one D step and drift term), else its usual D steps (5 for WGAN-GP, else 1). Showing a config
        refills the box with signals blocked (``offer``), so a stored run's own settings stay as they are."""
        if not self.loss.currentData():
            return
        cfg = apply_loss(self.config(), self.loss.currentData())
        self._base.loss.drift, self._base.loss.r1_gamma = cfg.loss.drift, cfg.loss.r1_gamma
        self._base.optim.beta1, self._base.optim.beta2 = cfg.optim.beta1, cfg.optim.beta2
        self.n_critic.setValue(cfg.loss.n_critic)
        self.lr_g.setValue(cfg.optim.lr_g)
        self.lr_d.setValue(cfg.optim.lr_d)

    def _model_changed(self) -> None:
        """Choosing a model brings its training defaults (loss, learning rates, betas, drift, conditioning:
        ``apply_model_defaults``); switching to its twin because attributes were checked or cleared keeps the
        person's own choices."""
        name, previous = self.model.currentData(), self._model_shown
        if self._filling or not name or name == previous or name not in available_models():
            return
        cfg = self.config()
        twin = previous in available_models() and capabilities(previous).twin == name
        self.set_config(cfg if twin else apply_model_defaults(cfg), self._attribute_names())

    def _offer_for_model(self, cfg: TrainConfig) -> None:
        """The loss and conditioning boxes offer only what the model's registry capabilities list."""
        if cfg.model.name not in available_models():
            return
        caps = capabilities(cfg.model.name)
        offer(self.loss, caps.losses, LOSS_TEXT, keep=cfg.loss.kind, fallback=caps.defaults.loss)
        offer(self.conditioning, caps.conditionings, CONDITIONING_TEXT, keep=cfg.model.conditioning,
              fallback=caps.conditionings[0])

    def _set_source(self, source: str, labels: str | None) -> None:
        self.source.setText(source)
        found = None if labels or is_builtin(source) else find_label_file(source)  # CelebA's labels beside it
        self.labels.setText(labels or (str(found) if found else ""))
        if is_builtin(source):
            self._fill_attributes(list(BUILTIN_ATTRIBUTES), list(BUILTIN_ATTRIBUTES))
        else:
            self._fill_attributes([], [])
            self._labels_changed()

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder", dialog_folder(self.source.text()))
        if path:
            self._set_source(path, None)

    def _browse_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Dataset archive", dialog_folder(self.source.text()),
                                              "Zip archives (*.zip)")
        if path:
            self._set_source(path, None)

    def _browse_labels(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Labels file", dialog_folder(self.source.text()),
                                              "Label files (*.txt *.csv);;All files (*)")
        if path:
            self.labels.setText(path)
            self._labels_changed()

    def _labels_changed(self) -> None:
        path = self.labels.text().strip()
        if not path:
            return
        self._labels_slot.start("read label names", read_label_names, path,
                                on_done=lambda names: self._fill_attributes(
                                    names, [a for a in CELEBA_DEFAULT_ATTRIBUTES if a in names]),
                                on_failed=lambda exc: self.error_label.setText(readable(exc)))

    def run_estimate(self) -> None:
        problem = self.problem()
        if problem:
            self.error_label.setText(problem)
            return
        self.error_label.setText("")
        self.estimate_button.setEnabled(False)
        self.estimate_label.setText("Measuring this machine's kernels and timing a few steps… (the first time "
                                    "for a model size takes 10 s at 64 px, up to a minute at 128 px)")
        config = self.config()
        self._estimate_slot.start("estimate run", estimate, config, config.perf.threads or self.train_threads,
                                  on_done=self._estimate_done, on_failed=self._estimate_failed)

    def _estimate_done(self, result: dict) -> None:
        text = format_estimate(result)
        self.estimate_button.setEnabled(True)
        self.estimate_label.setText(text)
        self.estimated.emit(text)

    def _estimate_failed(self, exc: BaseException) -> None:
        self.estimate_button.setEnabled(True)
        text = f"Estimate failed: {readable(exc)}"
        self.estimate_label.setText(text)
        self.estimated.emit(text)

    def done(self, result: int) -> None:
        self._estimate_slot.cancel()
        self._labels_slot.cancel()
        super().done(result)

