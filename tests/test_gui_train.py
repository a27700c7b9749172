"""Train pane end to end: a short run started from the window finishes and its plots and grid hold data; pause,
resume and stop; scrubbing; opening and following runs written by the core's start_run() (as the CLI does);
closing the window during training leaves a run that resume_run(run_dir) continues."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from faceforge.config import TrainConfig  # noqa: E402
from faceforge.runs import Run  # noqa: E402
from faceforge.training import resume_run, start_run  # noqa: E402
from gui_helpers import main_window

LONG = 120_000  # ms; generous for a loaded 2-core machine, the runs themselves take a few seconds


def tiny_config(steps: int = 30, *, sample_every: int = 10) -> TrainConfig:
    cfg = TrainConfig(seed=1, name="gui-test")
    cfg.data.source = "builtin:faces"
    cfg.data.builtin_count = 200
    cfg.data.attributes = ["smile", "glasses"]
    cfg.data.resolution = cfg.model.resolution = 32
    cfg.model.name = "cdcgan"
    cfg.model.g_channels = cfg.model.d_channels = 8
    cfg.model.z_dim = 16
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = steps, 8, 2, sample_every, 10, 16
    s.metrics_every = 0
    cfg.perf.device, cfg.perf.precision, cfg.perf.channels_last = "cpu", "fp32", False
    cfg.perf.gemm_layers = []
    return cfg


@pytest.fixture
def window(qtbot):
    with main_window(qtbot) as w:
        yield w


def train_single_threaded(run_fn, *args, **kwargs):
    """The core's start_run/resume_run on this thread with one torch thread (what the window does for its worker;
    on 2 busy cores it is several times faster), restoring the thread's setting afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_fn(*args, **kwargs)
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    """A finished run written by the core alone, as `faceforge train` would in another process."""
    result = train_single_threaded(start_run, tiny_config(30), runs_root=tmp_path_factory.mktemp("cli-runs"))
    assert result.state == "finished"
    return result.run_dir


def test_training_started_from_the_train_pane_finishes_with_plots_and_grid(window, qtbot):
    pane = window.train_pane
    with qtbot.waitSignal(window.trainingStarted, timeout=LONG):
        assert window.start_training(tiny_config(30))
    assert window.session.state in ("running", "paused", "stopping")
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        pass
    result = finished.args[0]
    assert result["state"] == "finished" and result["step"] == 30
    run = Run(Path(result["run_dir"]))
    assert run.status()["state"] == "finished"
    # the plots hold every logged tick and the grid the last snapshot
    qtbot.waitUntil(lambda: pane.plots.point_count() == len(run.stats()), timeout=10_000)
    assert pane.plots.last_step == 30
    assert np.isfinite(pane.plots.data.column(2)).all()
    assert pane.plots.losses.column(0).tolist() == list(range(1, 31))  # every step's losses, not the ticks'
    assert [s for s, _ in pane.samples.samples] == [s for s, _ in run.samples()]
    qtbot.waitUntil(lambda: pane.samples.current_array() is not None, timeout=10_000)
    assert pane.samples.shown_step == 30
    assert pane.samples.current_array().shape[2] == 3
    assert "step 30" in pane.progress.format()
    # the run list knows it, and the buttons are back to idle
    qtbot.waitUntil(lambda: pane.runs.state_of(run.path) == "finished", timeout=10_000)
    assert pane.start_button.isEnabled() and not pane.stop_button.isEnabled()


def test_pause_resume_and_stop(window, qtbot):
    session, pane = window.session, window.train_pane
    paused = []
    session.pausedChanged.connect(paused.append)
    window.start_training(tiny_config(100_000, sample_every=50))
    qtbot.waitUntil(lambda: pane.plots.point_count() >= 2, timeout=LONG)

    with qtbot.waitSignal(session.pausedChanged, timeout=LONG, check_params_cb=lambda p: p is True):
        window.pause_training()
    assert session.state == "paused" and pane.pause_button.text().endswith("Resume")
    qtbot.wait(300)  # let anything already queued arrive
    frozen = pane.plots.point_count()
    qtbot.wait(700)
    assert pane.plots.point_count() == frozen, "training went on while paused"
    folder = Run(session.worker.run_dir)  # other windows and `faceforge runs` see it paused, and not resumable
    assert folder.status()["state"] == "paused" and folder.is_live()

    with qtbot.waitSignal(session.pausedChanged, timeout=LONG, check_params_cb=lambda p: p is False):
        window.resume_training()
    assert folder.status()["state"] == "running"
    qtbot.waitUntil(lambda: pane.plots.point_count() > frozen + 1, timeout=LONG)
    assert paused[:2] == [True, False]

    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        window.stop_training()
    result = finished.args[0]
    run = Run(Path(result["run_dir"]))
    assert result["state"] == "stopped"
    assert run.status()["state"] == "stopped"
    assert run.latest_checkpoint() is not None  # the stop wrote a checkpoint at the step boundary

    # Resume from the window continues the same folder from that step
    stopped_at = result["step"]
    with qtbot.waitSignal(window.trainingStarted, timeout=LONG):
        assert window.resume_run(run.path)
    qtbot.waitUntil(lambda: (pane.plots.last_step or 0) > stopped_at, timeout=LONG)
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        window.stop_training()
    assert finished.args[0]["run_dir"] == str(run.path)
    assert finished.args[0]["step"] > stopped_at


def test_opening_a_cli_run_shows_its_history_and_scrubbing_shows_an_earlier_snapshot(window, qtbot, cli_run):
    pane = window.train_pane
    run = Run(cli_run)
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        assert window.open_run(cli_run)
    assert pane.plots.point_count() == len(run.stats())
    assert pane.plots.last_step == 30
    assert [s for s, _ in pane.samples.samples] == [0, 10, 20, 30]
    assert any("finished at step 30" in line for line in pane.events.toPlainText().splitlines())
    assert not pane.monitor.following  # a finished run is not polled
    qtbot.waitUntil(lambda: pane.samples.shown_step == 30, timeout=10_000)
    last = pane.samples.current_array().copy()

    pane.samples.scrub_to(1)
    qtbot.waitUntil(lambda: pane.samples.shown_step == 10, timeout=10_000)
    earlier = pane.samples.current_array()
    assert earlier.shape == last.shape and not np.array_equal(earlier, last)
    assert "step 10" in pane.samples.step_label.text()
    assert pane.resume_button.isEnabled() is False  # finished runs are not "resumable"


def test_export_png_gif_and_mp4(window, qtbot, cli_run, tmp_path):
    pane = window.train_pane
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        window.open_run(cli_run)
    qtbot.waitUntil(lambda: pane.samples.current_array() is not None, timeout=10_000)
    png, gif, mp4 = tmp_path / "grid.png", tmp_path / "run.gif", tmp_path / "run.mp4"
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.export_png(str(png))
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.export_gif(str(gif))
    assert pane.samples.mp4_button.isEnabled()
    with qtbot.waitSignal(pane.exported, timeout=LONG):
        pane.export_mp4(str(mp4))
    from PIL import Image

    with Image.open(png) as img:
        assert img.size[::-1] == pane.samples.current_array().shape[:2]
    with Image.open(gif) as img:
        assert img.n_frames == 4
    import av

    with av.open(str(mp4)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 4


def test_following_a_run_that_another_writer_is_training(window, qtbot, tmp_path):
    """The core trains in a plain thread (standing in for `faceforge train` in a terminal); the window opens the
    folder while it is live and follows it by polling until it finishes."""
    root = tmp_path / "runs"
    gate = threading.Event()
    result = {}

    def progress(event):
        if event["kind"] == "stats" and event["step"] >= 6:
            gate.wait(30)  # hold the writer until the window follows the run
            time.sleep(0.02)

    writer = threading.Thread(target=lambda: result.update(
        r=train_single_threaded(start_run, tiny_config(40), runs_root=root, progress=progress)))
    writer.start()
    try:
        qtbot.waitUntil(lambda: any((p / "stats.jsonl").exists() for p in root.glob("*")), timeout=LONG)
        run_dir = next(root.glob("*"))
        pane = window.train_pane
        with qtbot.waitSignal(pane.runShown, timeout=LONG):
            window.open_run(run_dir)
        assert pane.monitor.following
        shown_at_open = pane.plots.point_count()
        gate.set()
        qtbot.waitUntil(lambda: pane.plots.last_step == 40, timeout=LONG)
        assert pane.plots.point_count() > shown_at_open
        qtbot.waitUntil(lambda: not pane.monitor.following, timeout=10_000)
        assert pane.monitor.status["state"] == "finished"
        assert pane.samples.samples[-1][0] == 40
    finally:
        gate.set()
        writer.join(60)
    assert result["r"].state == "finished"


def test_closing_during_training_leaves_a_resumable_run(window, qtbot):
    pane = window.train_pane
    with qtbot.waitSignal(window.trainingStarted, timeout=LONG):
        window.start_training(tiny_config(100_000, sample_every=50))
    qtbot.waitUntil(lambda: pane.plots.point_count() >= 2, timeout=LONG)
    run_dir = window.session.run_dir

    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        window.close()  # asks (answered yes), stops at a step boundary, closes when the worker has ended
        assert window.isVisible(), "the window must wait for the worker before closing"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    stopped_at = finished.args[0]["step"]
    run = Run(run_dir)
    assert run.status()["state"] == "stopped"
    assert run.latest_checkpoint() is not None

    result = train_single_threaded(resume_run, run_dir, steps=stopped_at + 4)  # what "Resume" (or the CLI) does
    assert result.state == "finished" and result.step == stopped_at + 4
    assert run.stats()[-1]["step"] == stopped_at + 4


def test_starting_a_conditional_run_without_attributes_says_why(window, qtbot):
    cfg = tiny_config(10)
    cfg.data.attributes = []
    assert window.start_training(cfg) is False
    assert "attributes" in window.last_error
    assert not window.session.active


def test_worker_coalesces_progress_to_at_most_30_updates_a_second(qtbot):
    """However fast the core reports, the GUI thread gets at most ~30 signals a second, and loses no row."""
    from faceforge.gui.workers import TrainWorker

    worker = TrainWorker(config=tiny_config(10))
    updates = []
    worker.progressed.connect(updates.append)  # direct: emitted and received on this thread here
    t0 = time.perf_counter()
    for step in range(1, 3001):
        worker._on_event({"kind": "stats", "step": step, "images": step * 8, "loss_g": 1.0, "loss_d": 1.0,
                          "d_real": 0.5, "d_fake": 0.5, "img_s": 100.0, "wall": step / 1000})
        if step % 500 == 0:
            worker._on_event({"kind": "sample", "step": step, "path": f"{step}.png",
                              "grid": np.zeros((8, 8, 3), np.uint8)})
    worker._flush(force=True)
    elapsed = time.perf_counter() - t0
    assert len(updates) <= 30 * elapsed + 2
    rows = np.concatenate([u.rows for u in updates])
    assert rows[:, 0].tolist() == list(range(1, 3001))
    assert [s for u in updates for s, _ in u.samples] == [500, 1000, 1500, 2000, 2500, 3000]


def test_the_plots_go_into_two_columns_when_five_in_a_column_would_be_too_short(qtbot):
    from faceforge.gui.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(600, 1000)
    plots.show()
    qtbot.waitUntil(lambda: plots.view.height() > 800)
    assert plots.columns == 1
    plots.resize(900, 420)  # a laptop screen: each plot would be under 100 px high
    qtbot.waitUntil(lambda: plots.columns == 2)
    rows = {round(p.geometry().top()) for p in plots.plots}
    cols = {round(p.geometry().left()) for p in plots.plots}
    assert len(rows) == 3 and len(cols) == 2
    assert plots.loss_plot.geometry().top() == plots.d_loss_plot.geometry().top()  # G and D loss side by side
    assert plots.speed_plot.geometry().width() > 1.8 * plots.loss_plot.geometry().width()  # the last spans both
    assert [p.getAxis("bottom").label.isVisible() for p in plots.plots] == [False, False, False, False, True]
    plots.resize(600, 1000)
    qtbot.waitUntil(lambda: plots.columns == 1)


def test_the_run_line_says_which_fast_paths_the_run_took():
    from faceforge.gui.train_pane import _speed_path

    cfg = TrainConfig()
    assert _speed_path(cfg) == ""  # still to be chosen
    cfg.perf.device, cfg.perf.precision, cfg.perf.channels_last = "cpu", "fp32", True
    cfg.perf.gemm_layers, cfg.perf.threads = ["G.main.3", "D.body.7"], 1
    assert _speed_path(cfg) == " · cpu fp32, channels-last, 2 GEMM layers, 1 thread"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is a Linux feature")
def test_the_training_thread_yields_to_the_gui_thread_and_uses_every_core():
    import os

    from faceforge.gui.workers import TRAINING_NICE, default_training_threads, lower_this_thread_priority

    assert default_training_threads() == (os.cpu_count() or 2)
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def body():
        seen["lowered"] = lower_this_thread_priority()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = threading.Thread(target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS,
                                                                                 threading.get_native_id())))
        child.start()
        child.join()

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen["lowered"] and seen["nice"] == max(main_nice, TRAINING_NICE)
    assert seen["child"] == seen["nice"]  # threads it starts (OpenMP's) inherit it
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice  # the GUI thread is untouched


def test_a_run_paused_in_another_window_is_still_followed(window, qtbot, cli_run, tmp_path):
    import shutil

    folder = Run(shutil.copytree(cli_run, tmp_path / cli_run.name))
    folder.write_status("paused", step=30, total_steps=60)  # this process stands in for the other window
    pane = window.train_pane
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        window.open_run(folder.path)
    assert pane.monitor.following and "following live" in pane.run_info.text()
    # its health warnings reach this window through events.log only: a banner and a marker all the same
    folder.log_event("The samples are becoming alike", level="warning")
    qtbot.waitUntil(lambda: pane.banner.isVisible(), timeout=10_000)
    assert "becoming alike" in pane.banner.text.text() and ("log", 30) in pane.plots.markers
    folder.write_status("stopped", step=30, total_steps=60)
    qtbot.waitUntil(lambda: not pane.monitor.following, timeout=10_000)


def test_the_live_run_stays_in_view_while_another_run_is_shown(window, qtbot, cli_run):
    """One source of truth per run: the live strip follows the training run (its own bar, speed, time left,
    Pause/Stop), the title line the run on screen; the run list's Step column follows the stats, not the
    checkpoints; health warnings get a banner and one marker each; a simulated 'cpu' event shows its notice."""
    from faceforge.gui.workers import TrainUpdate, TrainWorker

    pane, session = window.train_pane, window.session
    cfg = tiny_config(100_000, sample_every=1000)
    cfg.schedule.checkpoint_every = 1000  # status.json keeps step 0: only the stats say where the run is
    with qtbot.waitSignal(window.trainingStarted, timeout=LONG):
        window.start_training(cfg)
    live_dir = session.run_dir
    assert not pane.plan_label.isVisible()  # the strip says what trains; the plan is for the next Start
    qtbot.waitUntil(lambda: (pane.plots.last_step or 0) >= 6, timeout=LONG)
    qtbot.waitUntil(lambda: "left" in pane.live.info.text(), timeout=LONG)  # time left from the first ticks

    # a health warning, twice (as a repeated event would be): one banner, one marker at its step
    warning = {"code": "d-winning", "step": 4, "text": "The discriminator is winning outright"}
    for _ in range(2):
        session.progressed.emit(TrainUpdate(health=[dict(warning)]))
    assert pane.banner.isVisible() and "winning outright" in pane.banner.text.text()
    assert "step 4" in pane.banner.text.text() and pane.banner.count == 1
    assert list(pane.plots.markers) == [("d-winning", 4)]
    assert pane.plots.markers[("d-winning", 4)].value() == 4
    pane.banner.dismiss_button.click()
    assert not pane.banner.isVisible()

    # another FaceForge training shares the machine (a message event), then the core says other programs use the
    # CPU and training went to one thread
    other = "Another FaceForge training is running on this machine: 00007-celeba (pid 4242)"
    session.progressed.emit(TrainUpdate(messages=[("warning", other)]))
    assert pane.live.notice.text() == other and not pane.live.notice.isHidden()
    worker = TrainWorker(config=tiny_config(10))
    updates = []
    worker.progressed.connect(updates.append)
    text = "CPU busy: other programs use 1.0 of 2 cores; training on 1 of 2 threads so neither waits"
    worker._on_event({"kind": "cpu", "busy": True, "others": 1.0, "threads": 1, "text": text})
    worker._flush(force=True)
    session.progressed.emit(updates[-1])
    assert pane.live.notice.text() == text and not pane.live.notice.isHidden()

    # now look at a finished run while the first one trains
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        window.open_run(cli_run)
    assert pane.shown_run == cli_run
    assert pane.view_progress.text().startswith("step 30 / 30 · finished")
    assert pane.live.run_dir == live_dir and live_dir.name in pane.live.name.text()
    seen = int(pane.progress.value())
    qtbot.waitUntil(lambda: pane.progress.value() > seen + 2, timeout=30_000)
    assert pane.progress.format().startswith("step ") and pane.progress.format().endswith("/ 100,000")
    assert pane.plots.last_step == 30  # the shown run's plots did not take the live run's rows
    session.progressed.emit(TrainUpdate(health=[{"code": "collapse", "step": 12, "text": "The samples are alike"}]))
    assert pane.live.notice.text() == "Health warning at step 12: The samples are alike"
    assert not pane.banner.isVisible() and ("collapse", 12) not in pane.plots.markers  # not the shown run's
    # the run list and the bar agree between checkpoints (status.json still says step 0)
    assert Run(live_dir).status()["step"] == 0
    qtbot.waitUntil(lambda: pane.runs._item(str(live_dir)) is not None, timeout=10_000)
    listed = pane.runs._item(str(live_dir)).text(2)
    assert int(listed.split(" / ")[0].replace(",", "")) >= pane.live.step > 6
    assert listed.endswith(" / 100,000")  # the live run's total, not the shown one's

    # Pause and Stop act on the live run, which stays named in the strip
    with qtbot.waitSignal(session.pausedChanged, timeout=LONG, check_params_cb=lambda p: p is True):
        pane.pause_button.click()
    assert session.state == "paused" and Run(live_dir).status()["state"] == "paused"
    assert Run(cli_run).status()["state"] == "finished"
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        pane.stop_button.click()
    stopped = finished.args[0]["step"]
    assert pane.progress.format() == f"step {stopped:,} / 100,000"
    assert "stopped" in pane.live.name.text()
    qtbot.waitUntil(lambda: pane.runs._item(str(live_dir)).text(2) == f"{stopped:,} / 100,000", timeout=10_000)
    pane.live.show_button.click()  # back to the run that trained
    qtbot.waitUntil(lambda: pane.shown_run == live_dir and pane.history is not None, timeout=LONG)
    assert pane.view_progress.text().startswith(f"step {stopped:,} / 100,000 · stopped")


def test_a_start_that_fails_touches_no_other_run(window, qtbot, cli_run, tmp_path):
    import shutil

    shown = Run(shutil.copytree(cli_run, tmp_path / cli_run.name))
    pane = window.train_pane
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        window.open_run(shown.path)
    events_before, log_before = pane.events.toPlainText(), shown.events_path.read_text()
    cfg = tiny_config(10)
    cfg.data.source = str(tmp_path / "no-such-folder")
    with qtbot.waitSignal(window.trainingFinished, timeout=LONG) as finished:
        assert window.start_training(cfg)
    assert finished.args[0]["state"] == "failed" and finished.args[0]["run_dir"] is None
    assert pane.events.toPlainText() == events_before
    assert shown.events_path.read_text() == log_before and shown.status()["state"] == "finished"
    assert pane.live.name.text() == "Could not start"
    assert "no-such-folder" in pane.live.notice.text() and not pane.live.notice.isHidden()
    assert pane.plan_label.isVisible()


def test_time_left_comes_from_the_first_ticks_and_counts_the_final_quality_measurement(qtbot):
    from faceforge.gui.live_strip import LiveStrip

    strip = LiveStrip()
    qtbot.addWidget(strip)
    strip.started(Path("/runs/00001-x"), step=0, total=1000, metrics_every=500)
    strip.progressed(step=0, img_s=float("nan"), wall=float("nan"), eval_s=30.0)  # the step-0 quality row
    strip.progressed(step=20, img_s=80.0, wall=2.0, eval_s=None)
    assert "estimating" in strip.info.text()
    strip.progressed(step=40, img_s=80.0, wall=4.0, eval_s=None)
    # 960 steps at 0.1 s, plus the measurements at 500 and 1,000 at 30 s each
    assert strip.info.text() == "80 img/s · 2 min 36 s left"


def test_a_zoom_does_not_land_on_steps_without_data(qtbot):
    from faceforge.gui.plots import TrainingPlots
    from faceforge.gui.workers import rows_to_array

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(600, 900)
    plots.show()
    plots.set_total_steps(10_000)
    plots.set_rows(rows_to_array([{"step": s, "loss_g": 1.0, "loss_d": 1.0} for s in range(20, 1001, 20)]))
    vb = plots.d_plot.getViewBox()
    vb.setXRange(5_000, 9_000, padding=0)  # what a wheel zoom out there would give
    vb.sigRangeChangedManually.emit([True, True])
    lo, hi = plots.loss_plot.getViewBox().viewRange()[0]
    assert (lo, hi) == pytest.approx((20, 1000), abs=1)
    assert plots.reset_view.isEnabled()


def test_the_run_list_takes_a_runs_step_from_its_stats_not_its_last_checkpoint(cli_run, tmp_path):
    import shutil

    from faceforge.gui.run_list import gather_runs

    folder = Run(shutil.copytree(cli_run, tmp_path / "runs" / cli_run.name))
    folder.write_status("stopped", step=20, total_steps=30)  # as written at the checkpoint before the last ticks
    (row,) = gather_runs(tmp_path / "runs", [])
    assert (row["state"], row["step"], row["total"]) == ("stopped", 30, 30)


def test_the_events_list_keeps_its_newest_line_in_view(window, qtbot, cli_run, tmp_path):
    import shutil

    folder = Run(shutil.copytree(cli_run, tmp_path / cli_run.name))
    for i in range(200):
        folder.log_event(f"line {i}")
    pane = window.train_pane
    with qtbot.waitSignal(pane.runShown, timeout=LONG):
        window.open_run(folder.path)
    bar = pane.events.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=5_000)
    pane.monitor.eventsAdded.emit([f"2026-01-01 00:00:00 INFO    more {i}" for i in range(20)])
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # someone reading an older line is not pulled down
    pane.monitor.eventsAdded.emit(["2026-01-01 00:00:00 INFO    one more"])
    assert bar.value() == 0
