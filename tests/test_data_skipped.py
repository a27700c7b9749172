"""Images that cannot be read are left out of training, and the run's start says how many and why."""
from __future__ import annotations

import numpy as np
from PIL import Image

from faceforge.config import TrainConfig
from faceforge.training.batches import load_training_data


def test_the_runs_start_says_how_many_images_were_left_out_and_why(tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((20, 20, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    cfg = TrainConfig()
    cfg.data.source, cfg.data.resolution = str(folder), 16
    events = []
    dataset = load_training_data(cfg, progress=events.append)
    assert len(dataset) == 6
    text = dataset.report.skipped_text()
    assert text.startswith("3 of 9 images cannot be read and are left out: ") and "empty file" in text
    assert "broken.png" in text
    warnings = [e["text"] for e in events if e["kind"] == "message" and e["level"] == "warning"]
    assert warnings == [text]


def test_nothing_is_said_when_every_image_is_used(tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    Image.new("RGB", (20, 20)).save(folder / "a.png")
    cfg = TrainConfig()
    cfg.data.source, cfg.data.resolution = str(folder), 16
    events = []
    assert load_training_data(cfg, progress=events.append).report.skipped_text() == ""
    assert not [e for e in events if e.get("level") == "warning"]
