"""``faceforge runs``: the runs in a folder, each with its state, live step, speed and last quality score."""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_runs(args: argparse.Namespace) -> int:
    from faceforge.paths import default_runs_dir
    from faceforge.runs import list_runs

    folder = Path(args.folder) if args.folder else default_runs_dir()
    runs = list_runs(folder)
    if not runs:
        print(f"no runs in {folder}")
    for run in runs:
        p = run.progress()
        total = "?" if p.total_steps is None else p.total_steps
        print(f"{run.name:40s} {p.state:12s} step {p.step}/{total}"
              + (f"  {p.img_s:.0f} img/s" if p.img_s is not None else "")
              + (f"  SWD {p.swd:.1f}" if p.swd is not None else ""))
    return 0
