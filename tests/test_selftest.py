"""faceforge --self-test (the install check the bundle's CI runs) and what a frozen bundle needs: the user's own
library path for programs the app starts, a sink for a windowed build's missing stdout."""
from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("pytestqt")

from faceforge import frozen  # noqa: E402
from faceforge.cli import main, selftest  # noqa: E402


def test_self_test_passes_every_check_and_keeps_its_files(qtbot, tmp_path, capsys):
    before = os.environ.get("FACEFORGE_RUNS_DIR")
    assert main(["--self-test-out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name, _ in selftest.CHECKS:
        assert f"ok   {name} (" in out, out
    assert "self-test passed: 8 checks" in out
    assert (tmp_path / "window.png").stat().st_size > 10_000  # the window, drawn
    assert (tmp_path / "run" / "config.json").is_file()
    assert os.environ.get("FACEFORGE_RUNS_DIR") == before  # the user's folders are pointed back


def test_a_failed_check_is_named_and_skips_what_needs_it(tmp_path, monkeypatch):
    def broken(state):
        raise RuntimeError("no torch here")

    checks = [(name, broken if name == "train" else fn) for name, fn in selftest.CHECKS if name != "window"]
    monkeypatch.setattr(selftest, "CHECKS", checks)
    lines: list[str] = []
    assert selftest.run_self_test(out=tmp_path, print_fn=lines.append) == 1
    assert "FAIL train: RuntimeError: no torch here" in lines
    assert "SKIP sample: needs train, which failed" in lines
    assert any(line.startswith("ok   photo tools") for line in lines)  # the independent checks still ran
    assert lines[-1].startswith("self-test FAILED: train, sample, edit, checkpoint, export, resume")


BUNDLE = "/opt/FaceForge/_internal"


def test_child_processes_get_the_users_library_path_back(monkeypatch):
    monkeypatch.setattr(sys, "_MEIPASS", BUNDLE, raising=False)
    env = {"LD_LIBRARY_PATH": BUNDLE, "LD_LIBRARY_PATH_ORIG": "/home/me/lib", "PATH": "/usr/bin"}
    clean = frozen.child_env(env, frozen=True)
    assert clean["LD_LIBRARY_PATH"] == "/home/me/lib" and "LD_LIBRARY_PATH_ORIG" not in clean
    assert "LD_LIBRARY_PATH" not in frozen.child_env({"LD_LIBRARY_PATH": BUNDLE}, frozen=True)  # the user had none
    assert frozen.child_env({"LD_LIBRARY_PATH": "/mine"}, frozen=True)["LD_LIBRARY_PATH"] == "/mine"
    assert frozen.child_env(env, frozen=False) == env  # not a bundle: nothing changes


def test_open_log_folder_starts_the_file_manager_with_the_users_library_path(qtbot, monkeypatch, tmp_path):
    from faceforge.gui import window_menus

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", BUNDLE, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", BUNDLE)
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/home/me/lib")
    seen = []
    monkeypatch.setattr(window_menus.QDesktopServices, "openUrl",
                        lambda url: seen.append((url.toLocalFile(), os.environ.get("LD_LIBRARY_PATH"))) or True)
    assert window_menus._open_folder(tmp_path)
    assert seen == [(str(tmp_path), "/home/me/lib")]
    assert os.environ["LD_LIBRARY_PATH"] == BUNDLE  # this process keeps the bundle's path for its own loads


def test_a_windowed_build_without_stdout_can_still_print(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    frozen.ensure_std_streams()
    print("no console", file=sys.stdout)
    sys.stderr.write("still fine\n")
    assert sys.stdout is not None and sys.stderr is not None


def _sources():
    from pathlib import Path

    root = Path(frozen.__file__).resolve().parent
    return {p.relative_to(root.parent).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.py")}


def test_programs_the_app_starts_get_a_clean_library_path():
    """Any module that starts another program must do it through frozen.child_env or clean_library_path, or a
    bundle's child would load the bundle's libraries (faceforge/frozen.py)."""
    starters = ("subprocess.", "Popen(", "QProcess", "openUrl(", "os.system(", "os.startfile(", "webbrowser.")
    unguarded = [name for name, text in _sources().items() if name != "faceforge/frozen.py"
                 and any(s in text for s in starters) and not ("child_env" in text or "clean_library_path" in text)]
    assert not unguarded, f"these start programs without frozen.child_env/clean_library_path: {unguarded}"


def test_no_torch_compile_or_dataloader_workers_without_a_frozen_check():
    """A bundle has no compiler for torch.compile, and a DataLoader worker would start the frozen app again."""
    risky = ("torch.compile(", "num_workers=", "DataLoader(")
    unguarded = [name for name, text in _sources().items()
                 if any(s in text for s in risky) and "is_frozen" not in text]
    assert not unguarded, f"guard these with faceforge.frozen.is_frozen(): {unguarded}"
