import pickle

import pytest
import torch

from faceforge.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from faceforge.fileio import DiskFullError, atomic_write_bytes


class _Evil:
    def __reduce__(self):
        return (open, ("/tmp/faceforge-pwned-marker", "w"))


def test_round_trip(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"step": 3, "w": torch.ones(2), "config": "{}"})
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["step"] == 3 and torch.equal(state["w"], torch.ones(2))


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_code_carrying_pickles_are_refused_and_never_run(tmp_path, writer):
    marker = tmp_path / "ran"
    evil = _Evil()
    evil.__class__.__reduce__ = lambda self: (open, (str(marker), "w"))
    path = tmp_path / "evil.pt"
    if writer == "torch":
        torch.save({"format": "faceforge-checkpoint", "payload": evil}, path)
    else:
        path.write_bytes(pickle.dumps({"payload": evil}))
    with pytest.raises(CheckpointError, match="(?i)refused|not a FaceForge"):
        load_checkpoint(path)
    assert not marker.exists(), "loading the checkpoint ran code"


def test_other_bad_files_get_clear_messages(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path / "empty.pt")
    torch.save({"weights": torch.ones(1)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a FaceForge checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    save_checkpoint(tmp_path / "good.pt", {"w": torch.ones(1000)})
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_disk_full_keeps_the_previous_file(tmp_path, monkeypatch):
    import errno
    import os

    target = tmp_path / "c.pt"
    atomic_write_bytes(target, b"old complete file")
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError):
        atomic_write_bytes(target, b"new" * 1000)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_bytes() == b"old complete file"
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left behind
