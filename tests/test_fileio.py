"""Atomic writes leave the permissions a plain write would: a user's umask decides, not mkstemp's private 0600."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from faceforge import fileio

ROOT = Path(__file__).resolve().parents[1]

WRITE_EVERY_KIND = """
import json, os, sys
from pathlib import Path
os.umask(int(sys.argv[1], 8))
import numpy as np
from faceforge.checkpoints import save_checkpoint
from faceforge.config import TrainConfig
from faceforge.fileio import atomic_write_text
from faceforge.imaging import write_png
out = Path(sys.argv[2])
TrainConfig().save(out / "config.json")
save_checkpoint(out / "ckpt-00000001.pt", {"step": 1})
write_png(out / "grid.png", np.zeros((4, 4, 3), np.uint8))
atomic_write_text(out / "notes.txt", "hello")
open(out / "plain.txt", "w").close()
print(json.dumps({p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir()}))
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask, expected", [("022", "0o644"), ("077", "0o600")])
def test_every_kind_of_file_gets_the_permissions_of_a_plain_write(tmp_path, umask, expected):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", WRITE_EVERY_KIND, umask, str(tmp_path)], env=env, check=True,
                         capture_output=True, text=True).stdout
    modes = json.loads(out)
    assert modes == dict.fromkeys(["config.json", "ckpt-00000001.pt", "grid.png", "notes.txt", "plain.txt"], expected)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_rewriting_a_file_keeps_its_own_permissions(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{}")
    path.chmod(0o640)  # the user made it private to their group
    fileio.atomic_write_text(path, '{"a": 1}')
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == '{"a": 1}'


def _real_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")
def test_the_umask_is_read_without_changing_it(monkeypatch):
    before = _real_umask()
    swaps = []
    monkeypatch.setattr(fileio.os, "umask", lambda m: swaps.append(m) or before)
    assert fileio.current_umask() == before and swaps == []  # read from /proc: the process umask never moves


def test_without_proc_the_umask_is_swapped_once_and_restored(monkeypatch):
    before = _real_umask()

    def no_proc(*args, **kwargs):
        raise FileNotFoundError("/proc/self/status")

    monkeypatch.setattr(fileio, "open", no_proc, raising=False)
    monkeypatch.setattr(fileio, "_swapped_umask", None)
    assert fileio.current_umask() == before
    assert _real_umask() == before  # restored
    monkeypatch.setattr(fileio.os, "umask", lambda m: pytest.fail("swapped a second time"))
    assert fileio.current_umask() == before
