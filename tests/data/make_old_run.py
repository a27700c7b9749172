"""How tests/data/old-run/ was made: a tiny run written by FaceForge 0.1.0 (commit a980355, 2026-12-01).

DO NOT REGENERATE. The fixture is what an old release left on a user's disk; tests/test_old_runs.py proves that
today's code still lists, opens, resumes and regenerates it. Making it again with newer code would only prove that
the new code reads its own files. When a release changes the run folder on purpose, add a second fixture made by
that release beside this one (old-run-<version>/), and keep this one.

It uses only the command line, as a user would:

    PYTHONPATH=$PWD python tests/data/make_old_run.py     # from the repository root, on the release's checkout

1. ``faceforge train`` on 64 built-in faces: 32 px conditional DCGAN, 8 channels, z 16, 4 steps of 8 images, one
   checkpoint (the last), a 9-face sample grid. ``--config`` sets what has no option (grid size, checkpoints kept).
2. ``faceforge generate --run RUN --n 4 --seed 7 --set smile=1 --out export/faces.png``: an export and its recipe.

The recipe stores the checkpoint and run as absolute paths of the folder they were made in (a temporary folder
here), as every recipe does; the test rewrites them to wherever it copies the fixture.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "old-run"


def faceforge(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "faceforge", *args], cwd=ROOT, env=env, check=True)


def main() -> None:
    from faceforge import __version__
    from faceforge.config import TrainConfig

    if FIXTURE.exists():
        sys.exit(f"{FIXTURE} exists: it was made by an older release and must not be regenerated (see docstring)")
    with tempfile.TemporaryDirectory(prefix="faceforge-old-run-") as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
        for name in ("CACHE", "CONFIG", "LOG", "RUNS"):
            env[f"FACEFORGE_{name}_DIR"] = str(tmp / name.lower())
        start = TrainConfig()
        start.schedule.grid_size, start.schedule.keep_checkpoints = 9, 1
        start.save(tmp / "start.json")
        faceforge("train", "--config", str(tmp / "start.json"), "--data", "builtin:faces", "--builtin-count", "64",
                  "--attributes", "*", "--model", "cdcgan", "--resolution", "32", "--channels", "8", "--z-dim", "16",
                  "--steps", "4", "--batch-size", "8", "--log-every", "2", "--sample-every", "4",
                  "--checkpoint-every", "4", "--metrics-every", "0", "--precision", "fp32", "--device", "cpu",
                  "--seed", "0", "--out", str(tmp / "runs"), "--quiet", env=env)
        (run,) = sorted((tmp / "runs").iterdir())
        faceforge("generate", "--run", str(run), "--n", "4", "--seed", "7", "--set", "smile=1",
                  "--out", str(tmp / "export" / "faces.png"), env=env)
        FIXTURE.mkdir()
        shutil.copytree(tmp / "runs", FIXTURE / "runs")
        shutil.copytree(tmp / "export", FIXTURE / "export")
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        made_by = {"faceforge": __version__, "commit": commit, "made_in": str(tmp),
                   "note": "made by tests/data/make_old_run.py; do not regenerate"}
        (FIXTURE / "MADE_BY.json").write_text(json.dumps(made_by, indent=1) + "\n")


if __name__ == "__main__":
    main()
