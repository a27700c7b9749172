import json

import numpy as np
import pytest
import torch

from faceforge.checkpoints import load_checkpoint
from faceforge.config import TrainConfig
from faceforge.editing import LoadedGenerator, parse_settings
from faceforge.models import build_models
from faceforge.runs import Run, StatsTail
from faceforge.training import resume_run, start_run
from helpers import assert_same_weights, random_dataset, tiny_config


def test_config_round_trips_through_json():
    cfg = tiny_config()
    cfg.data.crop = (1, 2, 30, 31)
    again = TrainConfig.from_json(cfg.to_json())
    assert again == cfg
    assert isinstance(again.data.crop, tuple)


@pytest.mark.parametrize("res", [32, 64, 128])
@pytest.mark.parametrize("name", ["dcgan", "cdcgan"])
def test_models_have_the_right_shapes(res, name):
    cfg = tiny_config(res=res, model=name).model
    cfg.n_attributes = 3 if name == "cdcgan" else 0
    G, D = build_models(cfg)
    z = torch.randn(2, cfg.z_dim)
    y = torch.randn(2, 3) if name == "cdcgan" else None
    x = G(z, y)
    assert x.shape == (2, 3, res, res)
    assert D(x, y).shape == (2,)


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
@pytest.mark.parametrize("loss", ["bce", "wgan-gp", "hinge"])
def test_every_model_and_loss_trains_with_finite_losses(tmp_path, model, loss):
    ds = random_dataset(n_attr=3 if model == "cdcgan" else 0)
    result = start_run(tiny_config(model=model, loss=loss, steps=4), run_dir=tmp_path / "run", dataset=ds)
    assert result.state == "finished" and result.step == 4
    rows = Run(tmp_path / "run").stats()
    assert len(rows) == 2
    for row in rows:
        for key in ("loss_g", "loss_d", "d_real", "d_fake", "img_s", "images", "wall"):
            assert np.isfinite(row[key]), (key, row)


def test_run_folder_contents(tmp_path):
    events = []
    start_run(tiny_config(steps=6), run_dir=tmp_path / "run", dataset=random_dataset(), progress=events.append)
    run = Run(tmp_path / "run")
    assert run.config().schedule.steps == 6
    assert [s for s, _ in run.samples()] == [0, 3, 6]
    assert [p.name for p in run.checkpoints()] == ["ckpt-00000003.pt", "ckpt-00000006.pt"]
    assert run.status()["state"] == "finished"
    assert "started" in run.events_path.read_text()
    kinds = {e["kind"] for e in events}
    assert {"started", "stats", "sample", "checkpoint", "finished"} <= kinds
    sample = next(e for e in events if e["kind"] == "sample")
    assert sample["grid"].dtype == np.uint8 and sample["grid"].ndim == 3
    cfg = json.loads(run.config_path.read_text())
    assert cfg["perf"]["precision"] == "fp32"  # the precision actually used is recorded
    ckpt = load_checkpoint(run.latest_checkpoint())
    assert {"G", "D", "G_ema", "opt_g", "opt_d", "rng", "step", "config"} <= set(ckpt)


def test_the_callers_config_is_not_changed_and_the_result_has_the_resolved_one(tmp_path):
    import copy

    cfg = tiny_config(steps=2)
    before = copy.deepcopy(cfg)
    result = start_run(cfg, run_dir=tmp_path / "run", dataset=random_dataset())
    assert cfg == before
    assert (cfg.model.n_attributes, cfg.perf.device) == (0, "auto")
    assert (result.config.model.n_attributes, result.config.perf.device) == (3, "cpu")
    assert result.config == Run(tmp_path / "run").config()


def test_a_model_that_takes_no_attributes_ignores_the_datas_labels(tmp_path):
    result = start_run(tiny_config(steps=2, model="dcgan"), run_dir=tmp_path / "run", dataset=random_dataset(n_attr=3))
    assert result.config.model.n_attributes == 0
    assert load_checkpoint(Run(tmp_path / "run").latest_checkpoint())["attributes"] == []
    assert not LoadedGenerator.from_run(tmp_path / "run").conditional  # no sliders that would change nothing


def test_a_new_run_never_lands_in_an_existing_one(tmp_path):
    ds = random_dataset()
    start_run(tiny_config(steps=2), run_dir=tmp_path / "run", dataset=ds)
    with pytest.raises(ValueError, match="resume it"):
        start_run(tiny_config(steps=4), run_dir=tmp_path / "run", dataset=ds)
    with pytest.raises(FileNotFoundError, match="not a FaceForge run"):
        resume_run(tmp_path / "nothing", dataset=ds)


def test_progress_reads_the_step_speed_and_quality_from_the_tail_of_the_stats(tmp_path):
    from faceforge.runs import last_rows_with

    run = Run(tmp_path / "run")
    run.write_config(tiny_config(steps=1020))
    run.write_status("running", step=0, total_steps=1020)  # written at the start; the stats say more
    for step in range(20, 481, 20):
        run.append_stats({"step": step, "images": 64 * step, "loss_g": 1.0, "img_s": 100.0 + step})
        if step % 100 == 0:
            run.append_stats({"step": step, "images": 64 * step, "swd": 30.0 - step / 100, "diversity": 0.3})
    with open(run.stats_path, "a") as fh:
        fh.write('{"step": 500, "img')  # a row being written
    p = run.progress()
    assert (p.state, p.step, p.total_steps, p.img_s, p.swd) == ("running", 480, 1020, 580.0, 26.0)
    # read back a block at a time: rows cut by block boundaries are joined, and reading stops at max_bytes
    assert last_rows_with(run.stats_path, ("swd",), block=50)["swd"]["step"] == 400
    assert last_rows_with(run.stats_path, ("swd",), block=50, max_bytes=100) == {}
    run.write_status("stopped", step=487, total_steps=1020)  # stopped between two logged rows
    assert run.progress().step == 487


def test_keeps_only_the_last_checkpoints(tmp_path):
    cfg = tiny_config(steps=12)
    cfg.schedule.checkpoint_every, cfg.schedule.keep_checkpoints = 2, 2
    start_run(cfg, run_dir=tmp_path / "run", dataset=random_dataset())
    assert [p.name for p in Run(tmp_path / "run").checkpoints()] == ["ckpt-00000010.pt", "ckpt-00000012.pt"]


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_resume_is_bit_identical(tmp_path, loss):
    """2N steps straight == N steps, stop, resume, N more: same weights, same optimiser state, same curve."""
    ds = random_dataset()
    straight = start_run(tiny_config(steps=6, loss=loss), run_dir=tmp_path / "a", dataset=ds)
    start_run(tiny_config(steps=3, loss=loss), run_dir=tmp_path / "b", dataset=ds)
    resumed = resume_run(tmp_path / "b", dataset=ds, steps=6)
    assert straight.step == resumed.step == 6
    a, b = assert_same_weights(tmp_path / "a", tmp_path / "b")
    for key in ("opt_g", "opt_d"):
        for pid, st in a[key]["state"].items():
            for k, v in st.items():
                assert torch.equal(v, b[key]["state"][pid][k])
    # rows averaging the same steps are identical (the stop adds a row at step 3; the one at 4 then averages 1 step)
    sa = {r["step"]: (r["loss_g"], r["loss_d"]) for r in Run(tmp_path / "a").stats()}
    sb = {r["step"]: (r["loss_g"], r["loss_d"]) for r in Run(tmp_path / "b").stats()}
    assert sa[2] == sb[2] and sa[6] == sb[6]


class StopAt:
    """A stop request at a named point, whatever order the loop polls in: ``progress`` arms it when the stats row
    of ``after_step`` is reported; from then on ``should_stop`` (this object) answers True at the first poll after
    ``point``: "anywhere" (the next poll at all), "d-forward" (D has scored a batch in the next step) or
    "d-backward" (D's loss has been back-propagated). D is watched through its class's forward, so nothing here
    counts polls or knows where the loop makes them."""

    def __init__(self, monkeypatch, *, after_step: int, point: str = "anywhere"):
        self.after_step, self.point = after_step, point
        self.armed = self.forward_seen = self.backward_seen = False
        model = tiny_config().model
        model.n_attributes = 3
        discriminator = type(build_models(model)[1])
        real_forward = discriminator.forward

        def forward(module, *args, **kwargs):
            out = real_forward(module, *args, **kwargs)
            if self.armed and out.requires_grad:
                self.forward_seen = True
                out.register_hook(self._backward)
            return out

        monkeypatch.setattr(discriminator, "forward", forward)

    def _backward(self, grad):
        self.backward_seen = True

    def progress(self, event: dict) -> None:
        if event["kind"] == "stats" and event["step"] == self.after_step:
            self.armed = True

    def __call__(self) -> bool:
        return {"anywhere": self.armed, "d-forward": self.forward_seen, "d-backward": self.backward_seen}[self.point]


def test_stop_leaves_a_resumable_run(tmp_path, monkeypatch):
    stop = StopAt(monkeypatch, after_step=2)
    ds = random_dataset()
    result = start_run(tiny_config(steps=50), run_dir=tmp_path / "run", dataset=ds, should_stop=stop,
                       progress=stop.progress)
    assert result.state == "stopped" and result.step == 2
    run = Run(tmp_path / "run")
    assert run.latest_checkpoint().name == "ckpt-00000002.pt"
    assert run.status()["state"] == "stopped"
    again = resume_run(tmp_path / "run", dataset=ds, steps=4)
    assert again.state == "finished" and again.step == 4


def test_resume_drops_stats_logged_after_the_checkpoint(tmp_path):
    ds = random_dataset()
    start_run(tiny_config(steps=3), run_dir=tmp_path / "run", dataset=ds)
    run = Run(tmp_path / "run")
    run.append_stats({"step": 99, "loss_g": 1.0})  # as if logged before a crash, after the last checkpoint
    with open(run.stats_path, "a") as fh:
        fh.write('{"step": 100, "loss')  # and a half-written line
    resume_run(run.path, dataset=ds, steps=4)
    assert [r["step"] for r in run.stats()] == [2, 3, 4]


def test_conditional_generator_responds_to_y(tmp_path):
    start_run(tiny_config(steps=3), run_dir=tmp_path / "run", dataset=random_dataset())
    gen = LoadedGenerator.from_run(tmp_path / "run")
    assert gen.attributes == ["attr0", "attr1", "attr2"]
    a, _, _ = gen.sample(n=4, seed=1, settings=parse_settings(["attr0=1"], gen.attributes))
    b, _, _ = gen.sample(n=4, seed=1, settings=parse_settings(["ATTR0=-1"], gen.attributes))
    c, _, _ = gen.sample(n=4, seed=1, settings={"attr0": 1.0})
    assert np.array_equal(a, c)  # deterministic by seed
    z = torch.randn(4, gen.z_dim)
    with torch.no_grad():  # an untrained net's outputs are tiny: compare them as floats, relative to their spread
        on, off = gen.G(z, gen.make_y(4, {"attr0": 1.0})), gen.G(z, gen.make_y(4, {"attr0": -1.0}))
    assert (on - off).abs().mean() > 0.05 * on.std()
    with pytest.raises(ValueError, match="attr0, attr1, attr2"):
        parse_settings(["Smiling=1"], gen.attributes)


def test_stats_tail_reads_only_complete_new_rows(tmp_path):
    path = tmp_path / "stats.jsonl"
    tail = StatsTail(path)
    assert tail.read_new() == []
    path.write_text('{"step": 1}\n{"step": 2}\n{"st')
    assert [r["step"] for r in tail.read_new()] == [1, 2]
    with open(path, "a") as fh:
        fh.write('ep": 3}\n')
    assert [r["step"] for r in tail.read_new()] == [3]


def test_nan_losses_roll_back_and_lower_the_learning_rate(tmp_path, monkeypatch):
    from faceforge.training import loop

    ds = random_dataset()
    cfg = tiny_config(steps=8)
    real_step = loop.Trainer.train_step
    poisoned = {"done": False}

    def step(self, acc):
        real_step(self, acc)
        if self.step == 5 and not poisoned["done"]:
            poisoned["done"] = True
            acc[0] = float("nan")

    monkeypatch.setattr(loop.Trainer, "train_step", step)
    result = start_run(cfg, run_dir=tmp_path / "run", dataset=ds)
    assert result.state == "finished" and result.step == 8
    text = Run(tmp_path / "run").events_path.read_text()
    assert "rolled back" in text and "halved" in text
    assert load_checkpoint(Run(tmp_path / "run").latest_checkpoint())["lr_scale"] == 0.5


def test_quality_score_is_logged_and_health_is_watched(tmp_path):
    """A feed the discriminator wins outright (every real face white, a generator with learning rate 0): the
    health monitor must see the stats rows and report it, in events.log and as a progress event."""
    cfg = tiny_config(steps=30)
    cfg.schedule.log_every = 1
    cfg.schedule.metrics_every, cfg.schedule.metrics_samples = 15, 64
    cfg.optim.lr_g, cfg.optim.lr_d = 0.0, 2e-3
    ds = random_dataset()
    ds.images[:] = 255
    events = []
    start_run(cfg, run_dir=tmp_path / "run", dataset=ds, progress=events.append)
    run = Run(tmp_path / "run")
    rows = [r for r in run.stats() if "swd" in r]
    assert [r["step"] for r in rows] == [0, 15, 30]
    assert all(r["swd"] > 0 and 0 < r["diversity"] <= 1 for r in rows)
    health = [e for e in events if e["kind"] == "health"]
    assert "d-winning" in [e["code"] for e in health]
    warnings = [line for line in run.events() if " WARNING " in line]
    assert len(warnings) == len(health) and all(e["text"] in line for e, line in zip(health, warnings))
    assert "discriminator is winning" in warnings[0]


def test_full_disk_while_checkpointing_pauses_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    import errno

    from faceforge import fileio

    ds = random_dataset()
    start_run(tiny_config(steps=3), run_dir=tmp_path / "run", dataset=ds)
    good = Run(tmp_path / "run").latest_checkpoint().read_bytes()
    real_fsync = fileio.os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    events = []
    result = resume_run(tmp_path / "run", dataset=ds, steps=6, progress=events.append)
    monkeypatch.setattr(fileio.os, "fsync", real_fsync)
    assert result.state == "disk-full"
    assert "disk is full" in result.message and "resume" in result.message
    run = Run(tmp_path / "run")
    assert [p.name for p in run.checkpoints()] == ["ckpt-00000003.pt"]
    assert run.latest_checkpoint().read_bytes() == good
    assert not [p for p in run.path.rglob("*.tmp")]
    assert any(e["kind"] == "message" and e["level"] == "error" for e in events)
    again = resume_run(run.path, dataset=ds, steps=6)  # space freed: resume works
    assert again.state == "finished" and again.step == 6


def test_an_unexpected_error_marks_the_run_failed(tmp_path, monkeypatch):
    from faceforge.training import loop

    def boom(self, acc):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(loop.Trainer, "train_step", boom)
    with pytest.raises(RuntimeError, match="simulated bug"):
        start_run(tiny_config(steps=3), run_dir=tmp_path / "run", dataset=random_dataset())
    run = Run(tmp_path / "run")
    assert run.status()["state"] == "failed" and "simulated bug" in run.status()["message"]
    assert "simulated bug" in run.events_path.read_text()


@pytest.mark.parametrize("point", ["d-forward", "d-backward"], ids=["after-forward", "after-backward"])
def test_a_stop_inside_a_step_undoes_it_and_resumes_bit_identically(tmp_path, monkeypatch, point):
    """Stop is polled inside the step too, after D's forward and after its backward (so it lands within a quarter
    of a step); the part-step is undone."""
    ds = random_dataset()
    straight = start_run(tiny_config(steps=6), run_dir=tmp_path / "a", dataset=ds)
    stop = StopAt(monkeypatch, after_step=2, point=point)  # a stop asked for inside step 3
    stopped = start_run(tiny_config(steps=6), run_dir=tmp_path / "b", dataset=ds, should_stop=stop,
                        progress=stop.progress)
    assert stopped.state == "stopped" and stopped.step == 2  # not 3: the poll inside the step saw it
    assert stop.backward_seen == (point == "d-backward")  # a stop after the forward lands before the backward
    monkeypatch.undo()
    resumed = resume_run(tmp_path / "b", dataset=ds)
    assert straight.step == resumed.step == 6
    assert_same_weights(tmp_path / "a", tmp_path / "b")


@pytest.mark.parametrize("state", ["running", "paused"])
def test_a_run_whose_process_died_reads_as_interrupted(tmp_path, state):
    run = Run(tmp_path / "run")
    run.path.mkdir()
    run.write_status(state, step=3, total_steps=10)
    assert run.status()["state"] == state and run.is_live()  # this process holds it
    status = json.loads(run.status_path.read_text())
    status["pid"] = 2**22 + 12345  # beyond pid_max's default: no such process
    run.status_path.write_text(json.dumps(status))
    assert run.status()["state"] == "interrupted" and not run.is_live()


def test_a_registered_model_builds_and_sampling_builds_only_its_generator():
    from torch import nn

    from faceforge.models import Capabilities, ModelSpec, available_models, build_generator, register
    from faceforge.models.registry import unregister

    def no_d(config, d_norm):
        raise AssertionError("sampling must not build a discriminator")

    register("test-linear", ModelSpec(Capabilities("a test model"), lambda c: nn.Linear(c.z_dim, 3), no_d))
    try:
        cfg = TrainConfig().model
        cfg.name = "test-linear"
        assert "test-linear" in available_models()
        assert isinstance(build_generator(cfg), nn.Linear)
        with pytest.raises(AssertionError):
            build_models(cfg)
    finally:
        unregister("test-linear")


def test_resuming_a_run_another_process_is_training_is_refused(tmp_path):
    import subprocess
    import sys

    ds = random_dataset()
    start_run(tiny_config(steps=2), run_dir=tmp_path / "run", dataset=ds)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        status = json.loads(Run(tmp_path / "run").status_path.read_text())
        status.update(state="paused", pid=other.pid)  # a window elsewhere holds it, paused
        Run(tmp_path / "run").status_path.write_text(json.dumps(status))
        with pytest.raises(ValueError, match="another process"):
            resume_run(tmp_path / "run", dataset=ds, steps=4)
    finally:
        other.kill()
        other.wait()
    assert resume_run(tmp_path / "run", dataset=ds, steps=4).step == 4  # its process gone: interrupted, resumable


@pytest.mark.parametrize("on_device", [True, False], ids=["on-device", "memory-mapped"])
def test_each_batch_image_comes_with_its_own_labels(monkeypatch, on_device):
    from faceforge.training import batches

    if not on_device:
        monkeypatch.setattr(batches, "ON_DEVICE_BYTES", 0)  # as a dataset too large to copy to the device
    ds = random_dataset(n=40, res=4)
    ds.images[:] = np.arange(40, dtype=np.uint8)[:, None, None, None]  # image i is all grey level i
    ds.labels = np.arange(40, dtype=np.float32)[:, None].repeat(3, 1)  # and its labels say i
    data = batches.DeviceData(ds, labels=ds.labels, batch_size=8, seed=0, device=torch.device("cpu"),
                              memory_format=torch.contiguous_format)
    for draw in range(6):
        x, y = data.batch(draw)
        level = torch.round((x[:, 0, 0, 0] + 1) * 127.5)
        assert torch.equal(level, y[:, 0]), draw
        # a step taken as updates (a growing model at low resolution): the rows of one draw, each once, in order
        parts = [data.batch(draw, rows=slice(a, a + 2)) for a in range(0, 8, 2)]
        assert torch.equal(torch.cat([p[0] for p in parts]), x) and torch.equal(torch.cat([p[1] for p in parts]), y)


def test_a_continuous_label_is_standardised_for_the_network_and_its_scale_recorded(tmp_path):
    """Age in years fed as-is swamps z (the run never starts); the network sees it standardised, and the run
    records the map so every later use speaks years, and a resume keeps the recorded map."""
    from faceforge.checkpoints import load_checkpoint

    ds = random_dataset(n=64, n_attr=2)
    ages = np.random.default_rng(1).integers(1, 117, 64).astype(np.float32)
    ds.labels[:, 0] = ages
    ds.attributes = ["Age", "Male"]
    cfg = tiny_config(steps=3, attrs=("Age", "Male"))
    start_run(cfg, run_dir=tmp_path / "run", dataset=ds)
    assert cfg.data.label_scales is None  # the caller's config is left alone
    run = Run(tmp_path / "run")
    scales = run.config().data.label_scales
    assert scales["Age"]["kind"] == "continuous" and abs(scales["Age"]["mean"] - ages.mean()) < 1e-3
    assert scales["Male"]["kind"] == "binary"
    state = load_checkpoint(run.latest_checkpoint())
    assert abs(float(state["attribute_means"][0])) < 1e-4  # standardised: mean 0, not ~58 years
    assert state["attribute_sample"].shape[1] == 2 and float(state["attribute_sample"][:, 0].abs().max()) < 3
    ds.labels[:, 0] = ages + 50  # the same run resumed on rows that moved: the recorded map still holds
    resume_run(tmp_path / "run", dataset=ds, steps=4)
    assert run.config().data.label_scales == scales
