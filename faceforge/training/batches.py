"""The run's data as training reads it: loaded once, held on the device, and a batch for any draw that depends on
nothing but the draw's number (so a resumed run reads exactly the batches it would have read)."""
from __future__ import annotations

import numpy as np
import torch

from faceforge.config import TrainConfig
from faceforge.tasks import ProgressFn, StopFn

ON_DEVICE_BYTES = 2 * 2**30  # larger image sets stay memory-mapped and are copied per batch


class Batches:
    """Deterministic batches: epoch e uses the permutation seeded by (seed, e), so the batch at any step is a pure
    function of the step and nothing but the step needs saving to resume exactly."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_epoch = max(1, n // batch_size)
        self._epoch, self._perm = -1, None

    def indices(self, draw: int) -> np.ndarray:
        epoch, pos = divmod(draw, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        if self.n < self.batch_size:  # tiny datasets: sample with replacement
            return np.random.default_rng([self.seed, draw, 1]).integers(0, self.n, self.batch_size)
        return self._perm[pos * self.batch_size : (pos + 1) * self.batch_size]


class DeviceData:
    """Images as uint8 on the device (4x smaller than float; converted per batch) and labels on the network's scale
    (data/label_scales.py), or None when the model is not conditioned on them."""

    def __init__(self, dataset, *, labels: np.ndarray | None, batch_size: int, seed: int, device: torch.device,
                 memory_format: torch.memory_format):
        images = dataset.images
        self.device, self.memory_format = device, memory_format
        self._on_device = images.nbytes <= ON_DEVICE_BYTES
        self.images = torch.from_numpy(np.array(images)).to(device) if self._on_device else images
        self.labels = torch.from_numpy(np.asarray(labels, np.float32)).to(device) if labels is not None else None
        self.batches = Batches(len(dataset), batch_size, seed)

    def batch(self, draw: int, *, rows: slice | None = None,
              part: slice | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images in [-1, 1] (N, C, H, W) in the run's memory format, and their labels. ``rows``: the part of the
        draw's global batch one update trains on (training/step.py); ``part``: this process's share of those rows
        (training/distributed.py), the rows one process would hold at those positions."""
        idx = self.batches.indices(draw)
        if not self._on_device:  # a memory-mapped file reads fastest in order; the labels follow the same order
            idx = np.sort(idx)
        if rows is not None:
            idx = idx[rows]
        if part is not None:
            idx = idx[part]
        if self._on_device:
            raw = self.images[torch.from_numpy(idx).to(self.device)]
        else:
            raw = torch.from_numpy(np.asarray(self.images[idx])).to(self.device)
        # NHWC uint8 -> NCHW float view: already channels_last in memory, so no copy for the fast path
        x = raw.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        x = x.contiguous(memory_format=self.memory_format)
        y = self.labels[torch.from_numpy(idx).to(self.device)] if self.labels is not None else None
        return x, y


def load_training_data(config: TrainConfig, *, progress: ProgressFn | None = None, should_stop: StopFn | None = None):
    """The run's dataset (decoded once, then from the cache), with its progress as ``data`` events."""
    from faceforge.data import load_dataset

    emit = progress or (lambda event: None)
    emit({"kind": "message", "level": "info", "text": "Preparing the dataset (decoded once, then cached)…"})
    dataset = load_dataset(config.data, progress=lambda done, total: emit({"kind": "data", "done": done,
                                                                          "total": total}), should_stop=should_stop)
    if dataset.report.skipped_text():  # say so at the start: a run on 6 of 9 images must not look like one on 9
        emit({"kind": "message", "level": "warning", "text": dataset.report.skipped_text()})
    return dataset
