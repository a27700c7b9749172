"""Per-user folders (platformdirs): the preprocessing cache, settings, logs, and the default runs folder."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "FaceForge"


def cache_dir() -> Path:
    """Preprocessed-dataset cache. ``FACEFORGE_CACHE_DIR`` overrides it (tests point it at a temp folder)."""
    override = os.environ.get("FACEFORGE_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


DEFAULT_CACHE_BUDGET_GB = 20.0


def cache_budget_bytes() -> int:
    """How much the preprocessing cache may hold before the least recently used datasets are dropped (they are
    rebuilt from the source when next opened). ``FACEFORGE_CACHE_BUDGET_GB`` overrides the 20 GB default."""
    try:
        gb = float(os.environ.get("FACEFORGE_CACHE_BUDGET_GB", DEFAULT_CACHE_BUDGET_GB))
    except ValueError:
        gb = DEFAULT_CACHE_BUDGET_GB
    return int(max(gb, 0.0) * 1e9)


def config_dir() -> Path:
    override = os.environ.get("FACEFORGE_CONFIG_DIR")
    path = Path(override) if override else Path(platformdirs.user_config_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    override = os.environ.get("FACEFORGE_LOG_DIR")
    path = Path(override) if override else Path(platformdirs.user_log_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_runs_dir() -> Path:
    override = os.environ.get("FACEFORGE_RUNS_DIR")
    return Path(override) if override else Path(platformdirs.user_documents_dir()) / "FaceForge" / "runs"
