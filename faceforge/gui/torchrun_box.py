"""The New-run dialog's "More than one process" box: the torchrun command line for the run the dialog holds, copied
to the clipboard. The app is not the launcher on a cluster or a multi-GPU machine; this writes what to run there
(training/launch.py), and the app then follows the run folder like any other."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QLineEdit, QPushButton, QSpinBox

from faceforge.config import ConfigError, TrainConfig
from faceforge.training.launch import check_distributable, torchrun_command


class TorchrunBox(QGroupBox):
    """``config_fn`` gives the dialog's current config; ``out_fn`` the runs folder the command writes into."""

    def __init__(self, config_fn: Callable[[], TrainConfig], out_fn: Callable[[], Path | None], parent=None):
        super().__init__("More than one process (torchrun)", parent)
        self.config_fn, self.out_fn = config_fn, out_fn
        self.setToolTip("Train this run on several GPUs or machines: the app writes the torchrun command, you run it "
                        "there (the same line on every machine). The run folder then shows here like any other.")
        self.processes = QSpinBox()
        self.processes.setRange(1, 256)
        self.processes.setValue(2)
        self.processes.setToolTip("Processes per machine: one per GPU, or a few on a CPU machine")
        self.nodes = QSpinBox()
        self.nodes.setRange(1, 4096)
        self.nodes.setToolTip("Machines taking part; each runs the same command")
        self.endpoint = QLineEdit()
        self.endpoint.setPlaceholderText("HOST:PORT")
        self.endpoint.setToolTip("Several machines: the first machine's host name or address and a free port "
                                 "(29400 when left out), the same on every machine")
        self.copy_button = QPushButton("Copy torchrun command")
        self.copy_button.clicked.connect(self.copy)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(self)
        form.addRow("Processes per machine", self.processes)
        form.addRow("Machines", self.nodes)
        form.addRow("Rendezvous", self.endpoint)
        form.addRow(self.copy_button)
        form.addRow(self.result)  # the whole width: the message wraps instead of being cut
        self.result.hide()
        self.nodes.valueChanged.connect(lambda n: self.endpoint.setEnabled(n > 1))
        self.endpoint.setEnabled(False)

    def command(self) -> str:
        """The command for the dialog's run; raises ValueError/ConfigError with what to change."""
        cfg = self.config_fn()
        world = self.processes.value() * self.nodes.value()
        check_distributable(cfg, world=world, device=cfg.perf.device)
        return torchrun_command(cfg, processes=self.processes.value(), nodes=self.nodes.value(),
                                endpoint=self.endpoint.text(), out=self.out_fn())

    def copy(self) -> None:
        try:
            text = self.command()
        except (ConfigError, ValueError) as exc:
            self.result.setStyleSheet("color: #c0392b")
            self.result.setText(f"Cannot split this run: {exc}")
            self.result.show()
            return
        QGuiApplication.clipboard().setText(text)
        self.result.setStyleSheet("")
        where = "on each machine" if self.nodes.value() > 1 else "on the machine with the GPUs or cores"
        self.result.setText(f"Copied. Run it {where}; only the first process writes the run folder.")
        self.result.setToolTip(text)
        self.result.show()
