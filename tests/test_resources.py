"""The app's own files (the icon) are package data found through importlib.resources, from the source tree and
from a built wheel, and the window and taskbar use the icon."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from faceforge import resources

ROOT = Path(__file__).resolve().parents[1]


def test_the_icon_is_found_at_every_size():
    pngs = resources.icon_pngs()
    assert sorted(pngs) == [16, 32, 48, 64, 128, 256]
    for size, data in pngs.items():
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size == (size, size) and image.mode == "RGBA"
        alpha = image.getchannel("A")
        assert alpha.getpixel((0, 0)) == 0 and alpha.getpixel((size // 2, size // 2)) == 255  # rounded, opaque
    svg = ET.fromstring(resources.read_bytes(resources.ICON_SVG))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    with pytest.raises(FileNotFoundError, match="nope.png"):
        resources.read_bytes("nope.png")


def test_the_package_copies_match_the_sources():
    """resources/ is the source, faceforge/resources the copy build_icons.py makes: they must not drift apart."""
    for name in [f"faceforge-{s}.png" for s in resources.ICON_SIZES] + [resources.ICON_SVG]:
        assert resources.read_bytes(name) == (ROOT / "resources" / "icons" / name).read_bytes(), name


@pytest.mark.slow
def test_a_built_wheel_carries_the_icon_and_finds_it_inside_the_zip(tmp_path):
    """Build a wheel from a copy of the source (so the checkout gets no build/ folder), then import the package
    straight from the .whl (zipimport): importlib.resources must find the icon inside the archive."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "faceforge", src / "faceforge", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(src)], check=True, capture_output=True, timeout=120)
    (wheel,) = (tmp_path / "dist").glob("faceforge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"faceforge/resources/{n}" for n in ["faceforge.svg", resources.EXAMPLE_TABLE, "usjudgeratings.txt"]
            + [f"faceforge-{s}.png" for s in resources.ICON_SIZES]} <= names
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import faceforge.resources as r; "
            "assert r.__file__.startswith(sys.argv[1]), r.__file__; "
            "print(sorted((s, len(b)) for s, b in r.icon_pngs().items()))")
    out = subprocess.run([sys.executable, "-c", code, str(wheel)], check=True, capture_output=True, text=True,
                         cwd=tmp_path).stdout
    assert out.strip() == str(sorted((s, len(b)) for s, b in resources.icon_pngs().items()))


def test_the_app_and_its_windows_have_the_icon(qtbot, monkeypatch):
    pytest.importorskip("pytestqt")
    import gc

    from PySide6.QtWidgets import QApplication, QWidget

    from faceforge.gui import app as app_module

    monkeypatch.setattr(gc, "freeze", lambda: None)  # start-up tuning of a real launch, not wanted in a test run
    monkeypatch.setattr(sys, "setswitchinterval", lambda interval: None)
    app = app_module.create_app(["faceforge"])
    assert app is QApplication.instance()
    assert not app.windowIcon().isNull()
    assert {s.width() for s in app.windowIcon().availableSizes()} >= {16, 32, 48, 256}
    assert app.desktopFileName() == "faceforge"
    window = QWidget()
    qtbot.addWidget(window)
    assert window.windowIcon().cacheKey() == app.windowIcon().cacheKey()  # every window inherits it
