"""Fitted directions on disk: ``RUN/directions/NAME.json`` (what a person or a tool reads: where the directions came
from and how good they are) beside ``RUN/directions/NAME.npy`` (the unit normals, one row per attribute).

The arrays are a plain ``.npy`` read with ``allow_pickle=False`` and the JSON is data, so a directions file from
anywhere can never run code. The JSON holds everything needed to fit the same directions again: checkpoint (path,
step, SHA-256), seed, number of samples, share, validation fraction, the classifier file (and its SHA-256), and the
library versions; and per attribute the intercept, spread, accuracies and the classifier's own held-out accuracy.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceforge.fileio import atomic_write_bytes, atomic_write_text, file_sha256

FORMAT = "faceforge-directions"
VERSION = 1
FOLDER_NAME = "directions"
SPACES = ("z", "w")  # z: the generator's input; w: a style model's mapped latent (applied to every or some layers)


def directions_dir(run_dir: Path) -> Path:
    return Path(run_dir) / FOLDER_NAME


@dataclass
class DirectionSet:
    """Directions for one latent space of one generator: ``normals`` (A, D) unit rows, and per attribute (same
    order) the summary of its fit (intercept, spread, accuracies, ...). ``meta``: provenance (see module doc)."""

    space: str
    names: list[str]
    normals: np.ndarray
    fits: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    path: str = ""  # the JSON it was read from or written to (what a recipe names), "" for one only in memory

    def __post_init__(self) -> None:
        self.normals = np.asarray(self.normals, np.float32).reshape(len(self.names), -1)
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}, not {self.space!r}")
        missing = [n for n in self.names if n not in self.fits]
        if missing:
            raise ValueError(f"no fit recorded for {missing[0]!r}")

    @property
    def dim(self) -> int:
        return int(self.normals.shape[1])

    def lookup(self, name: str) -> str | None:
        """The attribute's own spelling, matched case-insensitively, or None."""
        return {n.lower(): n for n in self.names}.get(str(name).strip().lower())

    def normal(self, name: str) -> np.ndarray:
        key = self.lookup(name)
        if key is None:
            raise ValueError(f"no fitted direction {name!r}; this file has: {', '.join(self.names)}")
        return self.normals[self.names.index(key)]

    def spread(self, name: str) -> float:
        return float(self.fits[self.lookup(name) or name]["spread"])

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "space": self.space, "dim": self.dim, "names": self.names,
                "attributes": self.fits, **self.meta}

    def save(self, folder: Path, name: str) -> Path:
        """Write NAME.npy then NAME.json (each atomically; the JSON names the array's SHA-256, so a pair torn by a
        crash is refused rather than mixed). Returns the JSON path."""
        if not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"a directions name is letters, digits, '-', '_' and '.', not {name!r}")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.save(buf, self.normals, allow_pickle=False)
        atomic_write_bytes(folder / f"{name}.npy", buf.getvalue())
        data = {**self.to_json(), "arrays": f"{name}.npy", "arrays_sha256": file_sha256(folder / f"{name}.npy")}
        atomic_write_text(folder / f"{name}.json", json.dumps(data, indent=2))
        self.name, self.path = name, str((folder / f"{name}.json").resolve())
        return folder / f"{name}.json"


def load_directions(path: Path) -> DirectionSet:
    """A directions JSON (or its .npy, or NAME without suffix) -> DirectionSet; arrays without pickles."""
    path = Path(path)
    meta_path = path.with_suffix(".json") if path.suffix in (".npy", "") else path
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no directions file {meta_path}") from None
    except ValueError as exc:
        raise ValueError(f"{meta_path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{meta_path.name} is not a FaceForge directions file")
    arrays = meta_path.parent / str(data.get("arrays", meta_path.with_suffix(".npy").name))
    if data.get("arrays_sha256") and file_sha256(arrays) != data["arrays_sha256"]:
        raise ValueError(f"{arrays.name} is not the array {meta_path.name} describes (changed or torn)")
    normals = np.load(arrays, allow_pickle=False)
    meta = {k: v for k, v in data.items() if k not in ("format", "version", "space", "dim", "names", "attributes",
                                                        "arrays", "arrays_sha256")}
    return DirectionSet(space=data["space"], names=list(data["names"]), normals=normals,
                        fits=dict(data["attributes"]), meta=meta, name=meta_path.stem,
                        path=str(meta_path.resolve()))


def list_directions(run_dir: Path) -> list[Path]:
    """The run's directions JSON files, oldest first (the last is the newest)."""
    folder = directions_dir(run_dir)
    files = [p for p in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))
