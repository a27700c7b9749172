"""Run folders: the single source of truth for a training run (see docs/ARCHITECTURE.md).

```
runs/00012-celeba-10k-cdcgan64/
  config.json  stats.jsonl  samples/00000500.png  checkpoints/ckpt-00000500.pt  events.log  status.json
  encoders/encoders-00000500.pt
```
The GUI, the CLI, the training loop and the encoders all read and write runs through this module only: no other
module builds a path inside a run folder. A run's progress (step, speed, quality) comes from its stats.jsonl, its
state from status.json (see :meth:`Run.progress`).
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from faceforge.checkpoints import checkpoint_name, list_checkpoints, prune_checkpoints
from faceforge.config import TrainConfig
from faceforge.processes import pid_alive
from faceforge.fileio import atomic_write_text

_RUN_NAME = re.compile(r"^(\d{5})-")
_SAMPLE = re.compile(r"^(\d{8})\.png$")
_ENCODERS = re.compile(r"^encoders-(\d{8})\.pt$")


#: the numeric fields of a stats.jsonl row, in the order the GUI keeps them (one float64 array per run); a
#: progressive model's rows also carry the resolution being trained and its fade-in (NaN for other models)
STATS_COLUMNS = ("step", "images", "loss_g", "loss_d", "d_real", "d_fake", "img_s", "wall", "swd", "diversity",
                 "res", "alpha")
LIVE_STATES = ("running", "paused")  # a process holds the run folder: nobody else may train into it

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "data"


def next_run_dir(root: Path, *, dataset_name: str, config: TrainConfig) -> Path:
    """``root/NNNNN-dataset-model<res>`` with NNNNN one above the highest number already there."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _RUN_NAME.match(p.name))]
    n = max(numbers, default=-1) + 1
    name = f"{n:05d}-{_slug(dataset_name)}-{config.model.name}{config.model.resolution}"
    if config.name:
        name += f"-{_slug(config.name)}"
    return root / name


def is_run_dir(path: Path) -> bool:
    return (Path(path) / "config.json").is_file()




@dataclass(frozen=True)
class RunProgress:
    state: str  # as Run.status() says: new, running, paused, stopped, finished, failed, disk-full, interrupted
    step: int
    total_steps: int | None
    img_s: float | None  # the last measured training speed, images per second
    swd: float | None  # the last quality score (sliced Wasserstein distance; lower is better)


@dataclass
class Run:
    """A view of one run folder. Cheap to create; every accessor reads the disk, so it is always current."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    # files
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def stats_path(self) -> Path:
        return self.path / "stats.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def events_path(self) -> Path:
        return self.path / "events.log"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def encoders_dir(self) -> Path:
        return self.path / "encoders"

    @property
    def name(self) -> str:
        return self.path.name

    def exists(self) -> bool:
        return is_run_dir(self.path)

    def config(self) -> TrainConfig:
        return TrainConfig.load(self.config_path, stored=True)

    def write_config(self, config: TrainConfig) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        config.save(self.config_path)

    # stats
    def stats(self) -> list[dict[str, Any]]:
        return list(iter_stats(self.stats_path))

    def append_stats(self, row: dict[str, Any]) -> None:
        with open(self.stats_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
            fh.flush()

    def truncate_stats(self, *, after_step: int) -> None:
        """Drop rows logged after ``after_step`` (work lost in a crash), so a resumed curve has no doubled part."""
        rows = [r for r in iter_stats(self.stats_path) if r.get("step", 0) <= after_step]
        atomic_write_text(self.stats_path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))

    # samples and checkpoints
    def samples(self) -> list[tuple[int, Path]]:
        """(step, png) for every fixed-noise snapshot, in step order."""
        return _numbered_pngs(self.samples_dir)

    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"{step:08d}.png"

    def scales_path(self, step: int) -> Path:
        """One face at every scale a multi-scale G emits (MSG-GAN), side by side, at a snapshot's step."""
        return self.samples_dir / "scales" / f"{step:08d}.png"

    def scales(self) -> list[tuple[int, Path]]:
        """(step, png) for every multi-scale strip, in step order (none for other models)."""
        return _numbered_pngs(self.samples_dir / "scales")

    def mixing_path(self, step: int) -> Path:
        """A W-space model's style-mixing figure (rows' coarse styles x columns' middle and fine) at a snapshot."""
        return self.samples_dir / "mixing" / f"{step:08d}.png"

    def mixings(self) -> list[tuple[int, Path]]:
        """(step, png) for every style-mixing figure, in step order (none for models without a W space)."""
        return _numbered_pngs(self.samples_dir / "mixing")

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints_dir / checkpoint_name(step)

    def checkpoints(self) -> list[Path]:
        return list_checkpoints(self.checkpoints_dir)

    def prune_checkpoints(self, keep: int) -> None:
        """Delete all but the ``keep`` newest checkpoints (0 keeps them all)."""
        prune_checkpoints(self.checkpoints_dir, keep)

    def latest_checkpoint(self) -> Path | None:
        ckpts = self.checkpoints()
        return ckpts[-1] if ckpts else None

    # IcGAN encoders, one file per generator step they were trained for
    def encoder_path(self, generator_step: int) -> Path:
        return self.encoders_dir / f"encoders-{generator_step:08d}.pt"

    def encoder_files(self) -> list[Path]:
        """Encoder files, oldest generator step first."""
        if not self.encoders_dir.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.encoders_dir.iterdir() if (m := _ENCODERS.match(p.name))]
        return [p for _, p in sorted(found)]

    def prune_encoders(self, keep: int) -> None:
        """Delete all but the ``keep`` newest encoder files (0 keeps them all)."""
        for old in self.encoder_files()[:-keep] if keep > 0 else []:
            old.unlink(missing_ok=True)

    # events and status
    def log_event(self, text: str, *, level: str = "info") -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.events_path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {level.upper():7s} {text}\n")

    def events(self) -> list[str]:
        try:
            return self.events_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def write_status(self, state: str, *, step: int, total_steps: int, message: str = "") -> None:
        atomic_write_text(
            self.status_path,
            json.dumps({"state": state, "step": step, "total_steps": total_steps, "pid": os.getpid(),
                        "updated": time.time(), "message": message}),
        )

    def status(self) -> dict[str, Any]:
        """state is one of running, paused, stopped, finished, failed, disk-full; a running or paused run whose
        process is gone is reported as 'interrupted' (it crashed or was killed; resume it)."""
        try:
            status = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            status = {"state": "new" if not self.checkpoints() else "stopped", "step": 0}
        if status.get("state") in LIVE_STATES and not pid_alive(int(status.get("pid", -1))):
            status["state"] = "interrupted"
        return status

    def progress(self) -> RunProgress:
        """Where the run is now. status.json says the state, but its step is only rewritten at the start, at each
        checkpoint and at the end; the stats rows say the step, speed and quality as they are logged. Only the
        tail of stats.jsonl is read, so a 100k-row run costs what a short one does."""
        status = self.status()
        last = last_rows_with(self.stats_path, ("step", "img_s", "swd"))
        step = max(int(status.get("step", 0) or 0), int(last["step"]["step"]) if "step" in last else 0)
        total = status.get("total_steps")
        if total is None:
            try:
                total = self.config().schedule.steps
            except (OSError, ValueError):
                total = None
        return RunProgress(state=str(status.get("state", "?")), step=step,
                           total_steps=int(total) if total is not None else None,
                           img_s=float(last["img_s"]["img_s"]) if "img_s" in last else None,
                           swd=float(last["swd"]["swd"]) if "swd" in last else None)

    def is_live(self) -> bool:
        """True when another process (or this one) is training into this folder right now, or holds it paused."""
        return self.status().get("state") in LIVE_STATES


def iter_stats(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a stats.jsonl; a half-written last line (a crash mid-write) is skipped, never fatal."""
    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        return
    with fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row


def _parse_row(line: bytes) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return row if isinstance(row, dict) else None


def last_rows_with(path: Path, keys: tuple[str, ...], *, max_bytes: int = 2**20,
                   block: int = 2**16) -> dict[str, dict[str, Any]]:
    """For each key, the last row of a stats.jsonl that has it, reading back from the end a block at a time until
    every key is found (or ``max_bytes`` were read: a key missing there is left out). A torn last line is
    skipped."""
    found: dict[str, dict[str, Any]] = {}
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return found
    with fh:
        end = pos = fh.seek(0, os.SEEK_END)
        carry = b""
        while pos > 0 and end - pos < max_bytes and len(found) < len(keys):
            start = max(0, pos - block)
            fh.seek(start)
            lines = (fh.read(pos - start) + carry).split(b"\n")
            pos = start
            carry = lines.pop(0) if pos > 0 else b""  # may begin further back: completed by the next block
            for row in filter(None, map(_parse_row, reversed(lines))):
                for key in keys:
                    if key in row and key not in found:
                        found[key] = row
    return found


class LineTail:
    """New complete lines of a growing text file since the last call; a half-written last line waits for its end.
    This is how the GUI follows a run that another process is writing (stats.jsonl, events.log)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._offset = 0
        self._partial = b""

    def read_lines(self) -> list[bytes]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self._offset:  # file was rewritten (truncated on resume): start again
            self._offset, self._partial = 0, b""
        if size == self._offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        return lines

    def read_new(self) -> list[str]:
        return [line.decode("utf-8", "replace") for line in self.read_lines()]


class StatsTail(LineTail):
    """Only the complete, parseable rows added to a stats.jsonl since the last call."""

    def read_new(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [row for line in self.read_lines() if (row := _parse_row(line)) is not None]


def list_runs(root: Path) -> list[Run]:
    root = Path(root)
    if not root.is_dir():
        return []
    return [Run(p) for p in sorted(root.iterdir()) if is_run_dir(p)]


def find_run(spec: str | Path) -> Run:
    """A run from a path; a bare number like ``3`` or ``00003`` finds it in the default runs folder."""
    path = Path(spec)
    if is_run_dir(path):
        return Run(path)
    from faceforge.paths import default_runs_dir

    if str(spec).isdigit():
        for run in list_runs(default_runs_dir()):
            if run.name.startswith(f"{int(spec):05d}-"):
                return run
    raise FileNotFoundError(f"{spec} is not a FaceForge run folder (no config.json in it)")


def _numbered_pngs(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of the NNNNNNNN.png files in ``folder``, in step order; [] when it does not exist."""
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _SAMPLE.match(p.name)))
