"""A run folder whose checkpoint is a pickle that would run code: the app refuses it with a message, stays alive,
and the code never runs."""
from __future__ import annotations

import os

import pytest
import torch

pytest.importorskip("pytestqt")

from faceforge.config import TrainConfig  # noqa: E402
from faceforge.gui.edit import EditPane  # noqa: E402


class _RunsCode:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_edit_pane_refuses_a_code_carrying_checkpoint(qtbot, tmp_path):
    marker = tmp_path / "code-ran"
    run = tmp_path / "00000-downloaded-run"
    (run / "checkpoints").mkdir(parents=True)
    TrainConfig().save(run / "config.json")
    torch.save({"format": "faceforge-checkpoint", "G_ema": _RunsCode(str(marker))},
               run / "checkpoints" / "ckpt-00000100.pt")
    pane = EditPane()
    qtbot.addWidget(pane)
    pane.show()
    with qtbot.waitSignal(pane.statusMessage, timeout=60_000) as blocker:
        pane.set_run(run)
    assert "refused" in blocker.args[0]
    assert "refused" in pane.info.text()
    assert not marker.exists(), "loading the checkpoint ran code"
    pane.shutdown()
