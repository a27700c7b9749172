"""Test session setup: Qt without a display, and every FaceForge folder in a session temp dir so tests never
touch the user's settings, caches, logs or runs."""
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_session_dir = Path(tempfile.mkdtemp(prefix="faceforge-tests-"))
for _name in ("CACHE", "CONFIG", "LOG", "RUNS"):
    os.environ.setdefault(f"FACEFORGE_{_name}_DIR", str(_session_dir / _name.lower()))
