"""The New-run dialog writes the torchrun command for the run it holds (the app is not the launcher on a cluster):
the command rebuilds the dialog's run exactly through ``faceforge train``'s own parser, a run several processes
cannot compute as one is refused in words, and several machines need a rendezvous endpoint."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QGuiApplication  # noqa: E402

from faceforge.cli import build_parser  # noqa: E402
from faceforge.cli.train import _config_from_args  # noqa: E402
from faceforge.gui.new_run_dialog import NewRunDialog  # noqa: E402
from faceforge.gui.tasks import TaskRunner  # noqa: E402
from faceforge.models import available_models, capabilities  # noqa: E402
from faceforge.training.plans import apply_model_defaults, quick_look_config  # noqa: E402

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "images"


def _model(**wanted) -> str:
    return next(n for n in available_models() if all(getattr(capabilities(n), k) == v for k, v in wanted.items()))


def _rebuilt(command: str):
    """The config ``faceforge train`` builds from the command's own arguments."""
    words = shlex.split(command)
    assert words[:2] == ["torchrun", "--nproc-per-node=2"]
    train = words[words.index("-m") + 1:]
    assert train[:2] == ["faceforge", "train"]
    return _config_from_args(build_parser().parse_args(train[1:]))


@pytest.fixture
def dialog(qtbot, tmp_path):
    runner = TaskRunner()
    cfg = quick_look_config()
    cfg.model.name = _model(batchnorm_d=False, minibatch_stddev=True, w_space=False)  # norm-free: splits anywhere
    apply_model_defaults(cfg)
    cfg.data.attributes = []
    cfg.schedule.batch_size, cfg.seed, cfg.name = 32, 7, "cluster"
    d = NewRunDialog(runner, config=cfg, train_threads=1, runs_root=tmp_path / "runs")
    qtbot.addWidget(d)
    d.resize(d.sizeHint())
    d.show()
    yield d
    d.reject()
    runner.shutdown()


def test_copy_torchrun_command_writes_the_dialogs_run_to_the_clipboard(dialog, tmp_path):
    QGuiApplication.clipboard().setText("before")
    # a person's own values, none the model's or the preset's default, so a field the command drops shows
    dialog.lr_g.setValue(0.0021)
    dialog.lr_d.setValue(0.0017)
    dialog.n_critic.setValue(2)
    dialog.steps.setValue(1234)
    dialog.width_spin.setValue(24)
    dialog.sample_every.setValue(77)
    dialog.checkpoint_every.setValue(333)
    dialog.attributes.item(0).setCheckState(dialog.attributes.item(0).checkState().Checked)
    dialog.torchrun.processes.setValue(2)
    dialog.torchrun.copy_button.click()
    command = QGuiApplication.clipboard().text()
    assert command.startswith("torchrun --nproc-per-node=2 -m faceforge train") and "--nnodes" not in command
    assert "Copied" in dialog.torchrun.result.text()
    rebuilt, wanted = _rebuilt(command).to_dict(), dialog.config().to_dict()
    assert rebuilt == wanted  # every field, the model's defaults included
    assert f"--out {tmp_path / 'runs'}" in command  # where the app looks for runs
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "new-run-torchrun.png"))


def test_several_machines_need_a_rendezvous_endpoint(dialog):
    box = dialog.torchrun
    box.processes.setValue(2)
    box.nodes.setValue(2)  # 4 processes: 8 each
    assert box.endpoint.isEnabled()
    QGuiApplication.clipboard().setText("before")
    box.copy_button.click()
    assert "rendezvous endpoint" in box.result.text() and QGuiApplication.clipboard().text() == "before"
    box.endpoint.setText("node0.lab")
    box.copy_button.click()
    command = QGuiApplication.clipboard().text()
    assert "--nnodes=2 --rdzv-backend=c10d --rdzv-endpoint=node0.lab:29400" in command


def test_a_run_processes_cannot_split_is_refused_in_words(dialog):
    QGuiApplication.clipboard().setText("before")
    dialog.batch.setValue(30)  # 15 per process: minibatch-stddev groups of 4 would straddle two
    dialog.torchrun.copy_button.click()
    assert "minibatch-stddev" in dialog.torchrun.result.text()
    bn = _model(batchnorm_d=True, conditioning="never")
    dialog.model.setCurrentIndex(dialog.model.findData(bn))
    dialog.batch.setValue(32)
    dialog.torchrun.copy_button.click()
    assert "SyncBatchNorm" in dialog.torchrun.result.text()
    assert QGuiApplication.clipboard().text() == "before"


def test_the_dialog_at_its_smallest_keeps_every_row_whole(qtbot):
    """With the torchrun box the right column grew taller than the old fixed 860 x 640 minimum, and at that size
    Qt squashed the Model row to a sliver; the minimum now follows what the rows need."""
    dialog = NewRunDialog(TaskRunner(), config=quick_look_config(), train_threads=1)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.resize(dialog.minimumSize())
    qtbot.wait(50)
    for field in (dialog.model, dialog.resolution, dialog.loss, dialog.batch, dialog.steps):
        assert field.height() >= field.sizeHint().height(), field.objectName() or type(field).__name__
