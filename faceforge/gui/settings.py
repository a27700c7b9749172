"""What the GUI remembers between sessions.

Recent datasets and runs live in a small, human-readable JSON file in ``paths.config_dir()`` (napari's approach:
settings a user can read, back up or delete); only the window geometry goes to ``QSettings``, and even that is an
INI file in the same folder, so tests that point ``FACEFORGE_CONFIG_DIR`` at a temp folder never touch the user's
real settings.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from faceforge import paths
from faceforge.fileio import atomic_write_text

log = logging.getLogger(__name__)

MAX_RECENT = 10
SETTINGS_FILE = "gui.json"


class GuiSettings:
    """Recent datasets (source + labels file) and recent runs, most recent first, saved on every change."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else paths.config_dir() / SETTINGS_FILE
        self._data: dict[str, Any] = {"recent_datasets": [], "recent_runs": []}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:  # a damaged settings file must never stop the app from starting
            log.warning("ignoring unreadable settings file %s: %s", self.path, exc)
            return
        if isinstance(data, dict):
            for key in ("recent_datasets", "recent_runs"):
                if isinstance(data.get(key), list):
                    self._data[key] = data[key]

    def save(self) -> None:
        try:
            atomic_write_text(self.path, json.dumps(self._data, indent=2))
        except OSError as exc:
            log.warning("cannot save settings to %s: %s", self.path, exc)

    # ---------------------------------------------------------------- datasets
    @property
    def recent_datasets(self) -> list[dict[str, str | None]]:
        out = []
        for item in self._data["recent_datasets"]:
            if isinstance(item, dict) and isinstance(item.get("source"), str):
                out.append({"source": item["source"], "labels": item.get("labels")})
        return out

    def add_recent_dataset(self, source: str, labels: str | None = None) -> None:
        items = [d for d in self.recent_datasets if d["source"] != source]
        self._data["recent_datasets"] = [{"source": source, "labels": labels}, *items][:MAX_RECENT]
        self.save()

    # ---------------------------------------------------------------- runs
    @property
    def recent_runs(self) -> list[str]:
        return [p for p in self._data["recent_runs"] if isinstance(p, str)]

    def add_recent_run(self, path: str | Path) -> None:
        path = str(Path(path))
        self._data["recent_runs"] = [path, *[p for p in self.recent_runs if p != path]][:MAX_RECENT]
        self.save()


def window_settings() -> QSettings:
    """QSettings for window geometry and splitter state only, stored next to gui.json."""
    return QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)
