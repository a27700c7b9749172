"""Launch to window shown: spawns a fresh interpreter that starts the real app (offscreen unless a display is set)
and reports the time from process start until the main window has been shown and painted once.

    python bench/startup.py [--runs 5]
Last line: ``startup_median_s=.. startup_best_s=.. torch_imported_at_show=..``. Target <= 2 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from faceforge.gui.app import create_app
from faceforge.gui.errors import setup_logging
setup_logging()
app = create_app(["faceforge"])
from faceforge.gui.main_window import MainWindow
w = MainWindow()
w.resize(1280, 800)
w.show()
def shown():
    print("SHOWN", time.time(), "torch" in sys.modules, flush=True)
    w.shutdown()
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    times, torch_flags = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for key in ("FACEFORGE_CONFIG_DIR", "FACEFORGE_CACHE_DIR", "FACEFORGE_LOG_DIR", "FACEFORGE_RUNS_DIR"):
            env[key] = str(Path(tmp) / key.lower())
        for i in range(args.runs + 1):
            t0 = time.time()
            out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
            line = next((l for l in out.stdout.splitlines() if l.startswith("SHOWN")), None)
            if line is None:
                print(out.stdout, out.stderr)
                return 1
            _, t_shown, has_torch = line.split()
            if i:  # the first launch warms the OS file cache; not counted
                times.append(float(t_shown) - t0)
                torch_flags.append(has_torch)
                print(f"launch {i}: {times[-1]:.2f} s to window shown (torch imported: {has_torch})")
    print(f"startup_median_s={statistics.median(times):.2f} startup_best_s={min(times):.2f} "
          f"torch_imported_at_show={torch_flags[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
