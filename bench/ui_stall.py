"""How long can the GUI thread be kept from running while the window trains? (target: worst stall <= 50 ms)

Launches the real MainWindow offscreen (it starts by rendering the built-in faces for the Dataset tab, as on a
first launch), starts a training run on the built-in faces (32 px, a small model, a few hundred steps) through the
same path as the Start button once the faces are on screen, and runs a 10 ms QTimer on the GUI thread. Every gap
between two timer ticks longer than 10 ms is time the event loop could not run: repaints, clicks and slider drags
wait that long. Reports the gaps per phase (start-up, preparation, training), percentiles and the training speed,
and ends with ``worst_stall_ms=NN median_gap_ms=NN`` over everything from the click on Start to the end of the
run (data preparation, training, snapshots, checkpoints, the final repaint).

    PYTHONPATH=. python bench/ui_stall.py [--steps 300] [--threads 0|1|2] [--channels 16] [--batch 16]

``--threads`` sets torch's intra-op threads for the training thread (default: the app's choice: every core at
a lower thread priority on Linux, cores - 1 elsewhere;
0 = torch's default, one per core). All FaceForge folders go to a temp dir.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_tmp = Path(tempfile.mkdtemp(prefix="faceforge-ui-stall-"))
for _name in ("CACHE", "CONFIG", "LOG", "RUNS"):
    os.environ.setdefault(f"FACEFORGE_{_name}_DIR", str(_tmp / _name.lower()))

import numpy as np  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=-1,
                        help="torch threads for the training thread (-1 = the app's choice; "
                             "0 = torch's default, one per core)")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--images", type=int, default=1000, help="built-in faces to train on")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from faceforge.gui.app import create_app
    from faceforge.gui.errors import setup_logging
    from faceforge.gui.main_window import TRAIN_THREADS, MainWindow
    from faceforge.training.plans import quick_look_config

    setup_logging()
    app = create_app(sys.argv)
    threads = TRAIN_THREADS if args.threads < 0 else (args.threads or None)
    window = MainWindow(train_threads=threads)
    window.resize(1280, 800)
    window.show()
    window.tabs.setCurrentWidget(window.train_pane)  # the live plots and grid are what repaints during training

    cfg = quick_look_config()
    cfg.data.builtin_count = args.images
    cfg.model.g_channels = cfg.model.d_channels = args.channels
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every = args.steps, args.batch, 5
    s.sample_every, s.checkpoint_every, s.grid_size = max(10, args.steps // 10), max(20, args.steps // 3), 64
    cfg.perf.precision = "fp32"

    ticks: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
    result: dict = {}
    started_at: list[float] = []

    def finished(res: dict) -> None:
        result.update(res)
        QTimer.singleShot(300, app.quit)  # a few more ticks: the final repaint is part of the run

    window.trainingFinished.connect(finished)
    window.trainingStarted.connect(lambda _p: started_at.append(time.perf_counter()))
    # As on a first launch: the window opens on the built-in faces; once they are on screen the user clicks Start.
    # Measuring starts with the event loop (the window is up) and covers the rest.
    marks: list[tuple[str, float]] = []

    def mark(what: str) -> None:
        marks.append((what, clock.nsecsElapsed() / 1e9))

    def click_start(_view=None) -> None:
        if not result and window.session.state == "idle" and not any(w == "start clicked" for w, _ in marks):
            mark("start clicked")
            window.start_training(cfg)

    window.datasetLoaded.connect(lambda _v: (mark("faces on screen"), QTimer.singleShot(300, click_start)))
    window.trainingStarted.connect(lambda _p: mark("run folder created, training"))
    QTimer.singleShot(0, lambda: (timer.start(), mark("measuring")))
    QTimer.singleShot(30_000, click_start)  # if the faces never appear, start anyway
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    t0 = time.perf_counter()
    app.exec()
    wall = time.perf_counter() - t0
    timer.stop()
    window.shutdown()

    gaps = np.diff(np.asarray(ticks))
    if len(gaps) == 0:
        print("no timer ticks recorded")
        return 1
    ends = np.asarray(ticks[1:]) / 1000  # when each gap ended, s
    at = dict(marks)

    def phase(name: str, t0: float, t1: float) -> np.ndarray:
        g = gaps[(ends > t0) & (ends <= t1)]
        if len(g):
            print(f"  {name:<34s} {t1 - t0:6.1f} s: worst {g.max():5.0f} ms, p99 {np.percentile(g, 99):5.1f} ms, "
                  f"median {np.median(g):4.1f} ms, gaps > 50 ms: {(g > 50).sum()}")
        return g

    click = at.get("start clicked", 0.0)
    started = at.get("run folder created, training", click)
    print("phases:")
    phase("start-up (faces rendering, imports)", 0.0, click)
    phase("preparing the data and the model", click, started)
    phase("training", started, float(ends[-1]))
    since_click = gaps[ends > click]
    train_s = wall - (started_at[0] - t0) if started_at else float("nan")
    pct = np.percentile(gaps, [50, 90, 99, 99.9])
    print(f"run: {result.get('state', 'timeout')} at step {result.get('step', '?')}; {args.steps} steps of a "
          f"{args.channels}-channel cdcgan, batch {args.batch}, torch threads for training "
          f"{threads or 'default'} ({os.cpu_count()} CPUs)")
    print(f"wall {wall:.1f} s, of which training {train_s:.1f} s ({args.steps / train_s:.1f} steps/s)")
    print(f"timer ticks {len(ticks)}; gap percentiles ms: p50 {pct[0]:.1f}, p90 {pct[1]:.1f}, p99 {pct[2]:.1f}, "
          f"p99.9 {pct[3]:.1f}; gaps > 50 ms: {(gaps > 50).sum()}, > 100 ms: {(gaps > 100).sum()}")
    print("timeline: " + ", ".join(f"{what} at {t:.1f} s" for what, t in marks))
    worst = np.argsort(gaps)[-8:][::-1]
    print("worst gaps (ms at t=s): " + ", ".join(f"{gaps[i]:.0f} at {ticks[i] / 1000:.1f}" for i in worst))
    try:
        load = os.getloadavg()
        print(f"load average during the run: {load[0]:.2f} (other processes compete for the same cores)")
    except OSError:
        pass
    # the figure of merit: from the click on Start to the end of the run (start-up stalls are listed above)
    print(f"worst_stall_ms={since_click.max():.0f} median_gap_ms={np.median(since_click):.1f}")
    return 0 if result.get("state") == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
