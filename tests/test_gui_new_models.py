"""What the window adds for models that train across scales, proved with toy models registered here (the real
MSG-GAN and ProGAN live in faceforge/models; nothing above them reads a model's name): the New-run dialog offers a
registered model and applies its training defaults; a progressive run's Train pane says which resolution trains
and how far it has faded in; a multi-scale run's shows one face at every scale; both live and when the run folder
is opened again; neither for the other model."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("pytestqt")

from faceforge.config import TrainConfig  # noqa: E402
from faceforge.gui import growth_view  # noqa: E402
from faceforge.gui.snapshots import load_png  # noqa: E402
from faceforge.gui.tasks import TaskRunner  # noqa: E402
from faceforge.gui.workers import COL  # noqa: E402
from faceforge.models import Capabilities, ModelSpec, available_models, register  # noqa: E402
from faceforge.models.layers import downsample, upsample  # noqa: E402
from faceforge.models.registry import TrainingDefaults, unregister  # noqa: E402
from faceforge.runs import Run  # noqa: E402
from gui_helpers import main_window

LONG = 120_000
GROWING, MULTI = "toy-growing", "toy-multiscale"
SIZES = (4, 8, 16, 32)


def toy_stage(images_seen: int, *, phase_images: int, final: int) -> tuple[int, float]:
    """ProGAN's schedule: 4 px stable, then a fade-in and a stable stretch per doubling."""
    doublings = final.bit_length() - 3
    phase, into = divmod(images_seen, phase_images)
    if phase >= 2 * doublings:
        return final, 1.0
    return 4 * 2 ** ((phase + 1) // 2), (into / phase_images if phase % 2 else 1.0)


class _Growing(nn.Module):
    """The progressive protocol: ``grow(images_seen)`` keeps the stage in buffers, ``stage()`` reports it, G's
    ``updates_per_step(batch)`` says how many updates a step takes (and D has ``blend_reals``)."""

    def __init__(self, config):
        super().__init__()
        self.phase_images, self.final = config.phase_images, config.resolution
        self.register_buffer("res", torch.tensor(4.0))
        self.register_buffer("alpha", torch.tensor(1.0))

    def grow(self, images_seen: int) -> None:
        res, alpha = toy_stage(images_seen, phase_images=self.phase_images, final=self.final)
        self.res.fill_(res)
        self.alpha.fill_(alpha)

    def stage(self) -> dict[str, float]:
        return {"res": int(self.res), "alpha": round(float(self.alpha), 4)}

    def updates_per_step(self, batch: int) -> int:
        return 1


class GrowingG(_Growing):
    def __init__(self, config):
        super().__init__(config)
        self.n_attributes = config.n_attributes
        self.fc = nn.Linear(config.z_dim + config.n_attributes, 3 * 32 * 32)

    def forward(self, z, y=None):
        if self.n_attributes:
            z = torch.cat([z, y.to(z.dtype)], dim=1)
        x = torch.tanh(self.fc(z)).view(-1, 3, 32, 32)
        return upsample(downsample(x, int(self.res)), self.final)  # only the stage's detail


class GrowingD(_Growing):
    def __init__(self, config, d_norm):
        super().__init__(config)
        self.fc = nn.Linear(3 * 8 * 8, 1)

    def forward(self, x, y=None):
        return self.fc(downsample(x, 8).flatten(1)).flatten()

    def blend_reals(self, x):  # the protocol: the reals as D sees them in a fade-in (as they are, for this toy)
        return x


class MultiG(nn.Module):
    """``G(z, y, scales=True)``: the image at 4, 8, 16 and 32 px."""

    def __init__(self, config):
        super().__init__()
        self.n_attributes = config.n_attributes
        self.fc = nn.Linear(config.z_dim + config.n_attributes, 3 * 32 * 32)

    def forward(self, z, y=None, scales=False):
        if self.n_attributes:
            z = torch.cat([z, y.to(z.dtype)], dim=1)
        x = torch.tanh(self.fc(z)).view(-1, 3, 32, 32)
        return [downsample(x, s) for s in SIZES] if scales else x


class MultiD(nn.Module):
    """Reads every scale: a list of them, or one image pooled down to each."""

    def __init__(self, config, d_norm):
        super().__init__()
        self.fc = nn.Linear(3 * sum(s * s for s in SIZES), 1)

    def forward(self, x, y=None):
        xs = x if isinstance(x, (list, tuple)) else [downsample(x, s) for s in SIZES]
        return self.fc(torch.cat([s.flatten(1) for s in xs], dim=1)).flatten()


TOY_DEFAULTS = TrainingDefaults(loss="rahinge", lr_g=0.003, lr_d=0.002, beta1=0.0, beta2=0.99, drift=0.001)


@pytest.fixture(autouse=True)
def toys():
    common = dict(conditioning="optional", conditionings=("projection",), resolutions=(32,),
                  losses=("rahinge", "hinge"), defaults=TOY_DEFAULTS, eval_sampling=False)
    register(GROWING, ModelSpec(Capabilities("Toy growing: from 4 px up", progressive=True, **common),
                                GrowingG, GrowingD))
    register(MULTI, ModelSpec(Capabilities("Toy multi-scale: every scale at once", multiscale=True, **common),
                              MultiG, MultiD))
    yield
    unregister(GROWING)
    unregister(MULTI)


def tiny_config(model: str, *, steps: int = 12) -> TrainConfig:
    cfg = TrainConfig(seed=1, name=model)
    cfg.data.source, cfg.data.builtin_count, cfg.data.attributes = "builtin:faces", 64, ["smile", "glasses"]
    cfg.data.resolution = cfg.model.resolution = 32
    cfg.model.name, cfg.model.z_dim, cfg.model.phase_images, cfg.model.conditioning = model, 8, 24, "projection"
    cfg.loss.kind = "rahinge"
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = steps, 8, 2, 6, 6, 4
    s.metrics_every = 0
    cfg.perf.device, cfg.perf.precision, cfg.perf.channels_last, cfg.perf.gemm_layers = "cpu", "fp32", False, []
    cfg.perf.threads, cfg.perf.adapt_threads = 1, False
    return cfg


@pytest.fixture
def window(qtbot):
    with main_window(qtbot) as w:
        yield w


def train_in(window, qtbot, cfg: TrainConfig) -> Path:
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        assert window.start_training(cfg)
    result = finished.args[0]
    assert result["state"] == "finished", result
    return Path(result["run_dir"])


def reopen(pane, qtbot, run_dir: Path) -> None:
    """Look at nothing, then at the folder again: all it shows now comes from the files."""
    pane.show_run(None)
    assert not pane.growth.stage.isVisibleTo(pane) and not pane.growth.scales.isVisibleTo(pane)
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        pane.show_run(run_dir)


def varied(widget) -> bool:
    """The widget as painted holds an image, not one flat colour."""
    image = widget.grab().toImage()
    assert not image.isNull() and image.width() > 0 and image.height() > 0
    pixels = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    return len(pixels) > 16


# ------------------------------------------------------------------------------------------------------- dialog
def test_the_dialog_offers_every_model_and_choosing_one_applies_its_defaults(qtbot):
    from faceforge.gui.model_fields import offered
    from faceforge.gui.new_run_dialog import NewRunDialog
    from faceforge.training.plans import quick_look_config

    runner = TaskRunner()
    dialog = NewRunDialog(runner, config=quick_look_config(), train_threads=1)
    qtbot.addWidget(dialog)
    assert offered(dialog.model) == list(available_models())
    dialog.model.setCurrentIndex(dialog.model.findData(GROWING))
    assert dialog.model_help.text() == "Toy growing"  # its description, the rest in the tooltip
    cfg = dialog.config()
    assert cfg.model.name == GROWING
    assert (cfg.loss.kind, cfg.loss.n_critic, cfg.loss.drift) == ("rahinge", 1, 0.001)
    assert (cfg.optim.lr_g, cfg.optim.lr_d, cfg.optim.beta1, cfg.optim.beta2) == (0.003, 0.002, 0.0, 0.99)
    assert offered(dialog.loss) == ["rahinge", "hinge"]  # only the model's losses
    assert offered(dialog.conditioning) == ["projection"] and not dialog.conditioning.isEnabled()
    assert cfg.model.conditioning == "projection" and dialog.problem() == ""
    dialog.attributes.item(0).setCheckState(dialog.attributes.item(0).checkState().Unchecked)
    assert dialog.config().model.name == GROWING  # an optionally conditional model stays itself

    dialog.model.setCurrentIndex(dialog.model.findData("cdcgan"))  # back: DCGAN's own defaults and choices
    cfg = dialog.config()
    assert (cfg.loss.kind, cfg.optim.lr_g, cfg.optim.beta1, cfg.loss.drift) == ("bce", 2e-4, 0.5, 0.0)
    assert set(offered(dialog.loss)) == {"bce", "wgan-gp", "hinge"} and dialog.conditioning.isEnabled()
    dialog.lr_g.setValue(0.0005)  # a person's own choice survives the switch to the twin
    for i in range(dialog.attributes.count()):
        dialog.attributes.item(i).setCheckState(dialog.attributes.item(i).checkState().Unchecked)
    assert dialog.config().model.name == "dcgan" and dialog.config().optim.lr_g == 0.0005
    dialog.reject()
    runner.shutdown()


def test_choosing_a_loss_in_the_dialog_brings_its_measured_settings_but_a_shown_run_keeps_its_own(qtbot):
    """ProGAN's WGAN-GP comes with the paper's lr, one D step and drift term (training/plans.py, apply_loss); a
    stored ProGAN WGAN-GP config shown again (Train again) keeps the settings it was made with."""
    from faceforge.gui.new_run_dialog import NewRunDialog
    from faceforge.training.plans import quick_look_config

    runner = TaskRunner()
    dialog = NewRunDialog(runner, config=quick_look_config(), train_threads=1)
    qtbot.addWidget(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("progan"))
    assert (dialog.config().loss.kind, dialog.lr_g.value()) == ("rahinge", 0.006)
    dialog.loss.setCurrentIndex(dialog.loss.findData("wgan-gp"))
    cfg = dialog.config()
    assert (cfg.optim.lr_g, cfg.optim.lr_d, cfg.loss.n_critic, cfg.loss.drift) == (0.003, 0.003, 1, 0.001)
    dialog.loss.setCurrentIndex(dialog.loss.findData("rahinge"))
    assert (dialog.config().optim.lr_g, dialog.config().loss.drift) == (0.006, 0.0)

    stored = dialog.config()
    stored.loss.kind, stored.optim.lr_g, stored.loss.n_critic, stored.loss.drift = "wgan-gp", 0.002, 2, 0.01
    dialog.set_config(stored)
    cfg = dialog.config()
    assert (cfg.loss.kind, cfg.optim.lr_g, cfg.loss.n_critic, cfg.loss.drift) == ("wgan-gp", 0.002, 2, 0.01)
    dialog.reject()
    runner.shutdown()


# ------------------------------------------------------------------------------------------------ progressive
def test_a_progressive_run_shows_the_resolution_it_trains_and_its_fade_in(window, qtbot):
    pane, stage = window.train_pane, window.train_pane.growth.stage
    expected_live = []

    def live_stage_shown() -> bool:
        """While the window trains the run (its stats come only from the worker then, none from the folder): the
        label says the stage of the newest plotted row, one the history read at the start did not have."""
        if not (window.session.active and pane.monitor.own and pane.history is not None and len(pane.plots.data)):
            return False
        row = pane.plots.data.view()[-1]
        first_rows = pane.history.rows[:, COL["step"]]
        if len(first_rows) and row[COL["step"]] <= first_rows.max():
            return False
        # the stage of the images seen before the row's last step (its grow() came first)
        res, alpha = toy_stage(int(row[COL["images"]]) - 8, phase_images=24, final=32)
        expected_live.append(growth_view.stage_text(res, alpha, final=32))
        return stage.text() == expected_live[-1] and stage.isVisibleTo(pane)

    assert window.start_training(tiny_config(GROWING, steps=100_000))
    qtbot.waitUntil(live_stage_shown, timeout=LONG)
    assert expected_live[-1].startswith("Training ") and not pane.growth.scales.isVisibleTo(pane)
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        window.stop_training()
    run_dir = Path(finished.args[0]["run_dir"])

    reopen(pane, qtbot, run_dir)
    last = [r for r in Run(run_dir).stats() if "res" in r][-1]
    assert stage.text() == growth_view.stage_text(last["res"], last["alpha"], final=32)
    assert stage.isVisibleTo(pane) and stage.text().startswith("Training ")
    assert not pane.growth.scales.isVisibleTo(pane)  # nothing for a model that is not multi-scale


def test_the_stage_text():
    assert growth_view.stage_text(16, 0.62) == "Training 16 px, fading in 62%"
    assert growth_view.stage_text(16, 1.0, final=64) == "Training 16 px, stable"
    assert growth_view.stage_text(64, 1.0, final=64) == "Training 64 px, full size"
    # 11 steps of 8 images in, 24 images a phase: the fourth phase, 16 px fading in, 16 of its 24 images in
    assert growth_view.stage_text(*toy_stage(88, phase_images=24, final=32)) == "Training 16 px, fading in 67%"


# ------------------------------------------------------------------------------------------------- multi-scale
def test_a_multiscale_run_shows_one_face_at_every_scale_live_and_when_opened(window, qtbot, monkeypatch):
    pane = window.train_pane
    reads = []
    real_load = growth_view.load_strip
    # live: from the event, no file (the first snapshot may come before the pane opened the run: read from its file)
    monkeypatch.setattr(growth_view, "load_strip", lambda *a: reads.append(a[1]))
    run_dir = train_in(window, qtbot, tiny_config(MULTI))
    scales = pane.growth.scales
    qtbot.waitUntil(lambda: scales.shown_step == 12, timeout=10_000)
    on_disk = load_png(Run(run_dir).scales_path(12))
    assert on_disk.shape == (32, 4 * 32, 3)
    assert np.array_equal(scales.view.array(), on_disk) and set(reads) <= {0}
    assert scales.isVisibleTo(pane) and scales.title.text() == "Scales at step 12: 4 px … 32 px"
    assert varied(scales.view)
    assert not pane.growth.stage.isVisibleTo(pane)  # nothing for a model that does not grow

    monkeypatch.setattr(growth_view, "load_strip", real_load)
    reopen(pane, qtbot, run_dir)
    qtbot.waitUntil(lambda: scales.shown_step == 12, timeout=10_000)
    assert np.array_equal(scales.view.array(), on_disk) and varied(scales.view)
    assert [s for s, _ in Run(run_dir).scales()] == [0, 6, 12]
    pane.samples.scrub_to(1)  # the scrubber moves: the strip of that snapshot
    qtbot.waitUntil(lambda: scales.shown_step == 6, timeout=10_000)
    assert np.array_equal(scales.view.array(), load_png(Run(run_dir).scales_path(6)))
    assert re.fullmatch(r"Scales at step 6: 4 px … 32 px", scales.title.text())
    assert not pane.growth.stage.isVisibleTo(pane)
