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
COLOR_SCHEMES = ("system", "light", "dark")


class GuiSettings:
    """Recent datasets (source + labels file) and recent runs, most recent first; what was open when the window
    last closed (dataset, run, tab), so a relaunch continues there; the colour scheme. Saved on every change."""

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
            for key in ("last_dataset", "last_run", "last_tab", "color_scheme"):
                if key in data:
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

    @property
    def last_dataset(self) -> dict | None:
        """The dataset open at the end of the last session (the built-in faces too): source, labels file, and
        whether a labels file beside the images may be looked for (False once the user declined it)."""
        item = self._data.get("last_dataset")
        if not isinstance(item, dict) or not isinstance(item.get("source"), str):
            return None
        labels = item.get("labels")
        return {"source": item["source"], "labels": labels if isinstance(labels, str) else None,
                "find_labels": item.get("find_labels", True) is not False}

    def set_last_dataset(self, source: str, labels: str | None, *, find_labels: bool = True) -> None:
        self._data["last_dataset"] = {"source": source, "labels": labels, "find_labels": find_labels}
        self.save()

    # ---------------------------------------------------------------- runs
    @property
    def recent_runs(self) -> list[str]:
        return [p for p in self._data["recent_runs"] if isinstance(p, str)]

    def add_recent_run(self, path: str | Path) -> None:
        """A run opened or trained: the most recent run, and the one a relaunch shows."""
        path = str(Path(path))
        self._data["recent_runs"] = [path, *[p for p in self.recent_runs if p != path]][:MAX_RECENT]
        self._data["last_run"] = path
        self.save()

    @property
    def last_run(self) -> str | None:
        path = self._data.get("last_run")
        return path if isinstance(path, str) else None

    # ---------------------------------------------------------------- window
    @property
    def last_tab(self) -> int:
        tab = self._data.get("last_tab")
        return tab if isinstance(tab, int) and 0 <= tab < 3 else 0

    def set_last_tab(self, index: int) -> None:
        if self._data.get("last_tab") != index:
            self._data["last_tab"] = int(index)
            self.save()

    @property
    def color_scheme(self) -> str:
        """system, light or dark (FACEFORGE_COLOR_SCHEME overrides it for one session, see app.py)."""
        scheme = self._data.get("color_scheme")
        return scheme if scheme in COLOR_SCHEMES else "system"

    def set_color_scheme(self, scheme: str) -> None:
        if scheme not in COLOR_SCHEMES:
            raise ValueError(f"colour scheme must be one of {', '.join(COLOR_SCHEMES)}, not {scheme!r}")
        self._data["color_scheme"] = scheme
        self.save()


def window_settings() -> QSettings:
    """QSettings for window geometry and splitter state only, stored next to gui.json."""
    return QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)
