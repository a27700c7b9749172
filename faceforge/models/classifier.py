"""FaceForge's own attribute classifier: a small CNN that reads attributes back from faces.

Training a conditional GAN only shows that its losses went down; whether "Smiling on" really gives smiles needs an
independent judge. This classifier is that judge: trained on the run's labelled data (faceforge/training/
classifier.py), it scores generated faces (the positive rate with an attribute forced on minus forced off), edits,
and the samples that latent directions are fitted to.

Each attribute has its own output. ``binary`` attributes (the data layer stores them as +1/-1) get a logit and
:meth:`AttributeClassifier.score` returns the probability of +1. ``continuous`` attributes (the built-in faces'
sliders, probability columns of a CSV) are regressed on standardised targets, and the mean and standard deviation
are stored with the weights, so a score is always in the column's own units.

A classifier lives in a folder (``RUN/classifier/``) as ``classifier.pt`` (the state_dict plus the spec, read with
the project's weights-only loader: a file from an unknown source can never run code) and ``classifier.json`` (what
a person or a later tool wants to know: names, kinds, held-out accuracy, the data and seed it was trained on).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from faceforge.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from faceforge.fileio import atomic_write_text, file_sha256

CLASSIFIER_FORMAT = "faceforge-classifier"
FOLDER_NAME = "classifier"
WEIGHTS_NAME = "classifier.pt"
META_NAME = "classifier.json"
KINDS = ("binary", "continuous")


def classifier_dir(run_dir: Path) -> Path:
    """Where a run keeps its classifier (``RUN/classifier/``)."""
    return Path(run_dir) / FOLDER_NAME


def infer_kinds(labels: np.ndarray) -> list[str]:
    """"binary" for a column whose every value is -1 or +1 (how the data layer stores yes/no labels, whatever the
    file said), "continuous" for anything else (the built-in faces' sliders, probabilities)."""
    labels = np.asarray(labels, np.float32)
    if labels.ndim != 2:
        raise ValueError(f"labels must be (N, A), got {labels.shape}")
    return ["binary" if np.isin(labels[:, j], (-1.0, 1.0)).all() else "continuous" for j in range(labels.shape[1])]


@dataclass
class ClassifierSpec:
    """Everything needed to rebuild the network and read its outputs; stored inside classifier.pt."""

    names: list[str]
    kinds: list[str]
    resolution: int
    mean: list[float] = field(default_factory=list)  # per attribute: 0 for binary ones
    std: list[float] = field(default_factory=list)  # per attribute: 1 for binary ones
    channels: int = 32
    hidden: int = 256

    def __post_init__(self) -> None:
        self.names, self.kinds = [str(n) for n in self.names], [str(k) for k in self.kinds]
        a = len(self.names)
        self.mean = [float(v) for v in self.mean] or [0.0] * a
        self.std = [float(v) for v in self.std] or [1.0] * a
        if not a:
            raise ValueError("a classifier needs at least one attribute")
        if len(set(self.names)) != a:
            raise ValueError(f"attribute names repeat: {self.names}")
        if not len(self.kinds) == len(self.mean) == len(self.std) == a:
            raise ValueError(f"{a} names but {len(self.kinds)} kinds, {len(self.mean)} means, {len(self.std)} stds")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad:
            raise ValueError(f"attribute kinds must be binary or continuous, not {bad[0]!r}")
        if self.resolution not in (32, 64, 128):
            raise ValueError(f"resolution must be 32, 64 or 128, not {self.resolution}")
        if not all(math.isfinite(m) and math.isfinite(s) and s > 0 for m, s in zip(self.mean, self.std)):
            raise ValueError("standardisation needs finite means and positive standard deviations")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClassifierSpec":
        return cls(**{k: data[k] for k in ("names", "kinds", "resolution", "mean", "std", "channels", "hidden")})


class ClassifierNet(nn.Module):
    """image (N,3,R,R) in [-1,1] -> (N, A) raw outputs (logits, or standardised values).

    Stride-2 3x3 convs halve the image down to 4x4 (R=32: 3 of them, 64: 4, 128: 5), each followed by a stride-1
    3x3 conv except at full resolution, where it would cost the most and see the least; widths c, 2c, 4c... up to
    256. The 4x4 map is flattened rather than pooled: faces are aligned, so where a feature is matters (glasses
    sit above the mouth). One shared hidden layer feeds all heads, so rare attributes borrow features from common
    ones.
    """

    def __init__(self, spec: ClassifierSpec):
        super().__init__()
        n = int(math.log2(spec.resolution)) - 2
        widths = [min(spec.channels * 2**i, 256) for i in range(n)]
        layers: list[nn.Module] = []
        prev = 3
        for i, width in enumerate(widths):
            layers += [nn.Conv2d(prev, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
            if i > 0:
                layers += [nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
            prev = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(prev * 16, spec.hidden), nn.ReLU(True),
                                  nn.Linear(spec.hidden, len(spec.names)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def images_to_input(images: np.ndarray | torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 (N,H,W,3) faces (numpy or torch), or float (N,3,H,W) tensors in [-1,1] as a generator makes them,
    -> float (N,3,R,R) in [-1,1]. Anything else is refused with the shape it got, rather than scored wrongly."""
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8:
            raise ValueError(f"numpy images must be uint8 (N,H,W,3), got {images.dtype}")
        arr = np.ascontiguousarray(images)
        images = torch.from_numpy(arr if arr.flags.writeable else arr.copy())  # a memmap is read-only
    if images.dtype == torch.uint8:
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"uint8 images must be (N,H,W,3), got {tuple(images.shape)}")
        x = images.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    elif images.is_floating_point():
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"float images must be (N,3,H,W) in [-1,1], got {tuple(images.shape)}")
        x = images.float()
    else:
        raise ValueError(f"images must be uint8 or float, not {images.dtype}")
    if tuple(x.shape[2:]) != (resolution, resolution):
        raise ValueError(f"this classifier reads {resolution}x{resolution} faces, got {x.shape[3]}x{x.shape[2]}")
    return x


class AttributeClassifier:
    """A trained network with its spec; ``info`` is the classifier.json it was loaded with (metrics, provenance)."""

    def __init__(self, spec: ClassifierSpec, net: ClassifierNet | None = None, *, info: dict | None = None):
        self.spec = spec
        self.net = net if net is not None else ClassifierNet(spec)
        self.info: dict[str, Any] = dict(info or {})
        self._binary = torch.tensor([k == "binary" for k in spec.kinds])
        self._mean = torch.tensor(spec.mean, dtype=torch.float32)
        self._std = torch.tensor(spec.std, dtype=torch.float32)

    @property
    def names(self) -> list[str]:
        return list(self.spec.names)

    @property
    def kinds(self) -> list[str]:
        return list(self.spec.kinds)

    @property
    def resolution(self) -> int:
        return self.spec.resolution

    def _device(self) -> torch.device:
        return next(self.net.parameters()).device

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """(N,3,R,R) in [-1,1] -> (N,A): probability of +1 (binary) or value in units (continuous). Differentiable,
        and in whatever mode the network is in; :meth:`score` is the no-gradient, eval-mode form."""
        raw = self.net(x).float()
        dev = raw.device
        return torch.where(self._binary.to(dev), torch.sigmoid(raw), raw * self._std.to(dev) + self._mean.to(dev))

    def score(self, images: np.ndarray | torch.Tensor, *, batch_size: int = 256) -> np.ndarray:
        """Scores of uint8 (N,H,W,3) faces or float (N,3,H,W) tensors in [-1,1], as float32 (N, A)."""
        n = len(images)
        out = np.empty((n, len(self.spec.names)), np.float32)
        was_training = self.net.training
        self.net.eval()
        dev = self._device()
        try:
            with torch.no_grad():
                for start in range(0, n, batch_size):
                    x = images_to_input(images[start:start + batch_size], self.resolution).to(dev)
                    out[start:start + len(x)] = self.predict(x).cpu().numpy()
        finally:
            self.net.train(was_training)
        return out

    def save(self, folder: Path, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write classifier.pt, then classifier.json (both atomically) into ``folder``; returns the .pt path.

        The JSON names the SHA-256 of the weights it describes, so a JSON left over from an earlier classifier
        (a crash between the two writes) is never taken for this one's metrics."""
        folder = Path(folder)
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        weights = folder / WEIGHTS_NAME
        save_checkpoint(weights, {"kind": CLASSIFIER_FORMAT, "spec": self.spec.to_dict(), "state_dict": state})
        meta = {"format": CLASSIFIER_FORMAT, "weights": WEIGHTS_NAME, "weights_sha256": file_sha256(weights),
                "saved": time.strftime("%Y-%m-%d %H:%M:%S"), "torch": torch.__version__, **self.spec.to_dict(),
                **(metadata or {})}
        atomic_write_text(folder / META_NAME, json.dumps(meta, indent=2, default=_plain))
        self.info = meta
        return weights


def load_classifier(path: Path, *, device: str = "cpu") -> AttributeClassifier:
    """The classifier in a folder (or its classifier.pt), weights only, in eval mode without gradients.

    Raises :class:`~faceforge.checkpoints.CheckpointError` for a missing, damaged or unsafe file (a pickle that
    would run code is refused before anything in it is built)."""
    path = Path(path)
    weights = path / WEIGHTS_NAME if path.is_dir() else path
    if not weights.exists() and path.is_dir():
        raise CheckpointError(f"{path} has no {WEIGHTS_NAME}: train a classifier for this run first")
    state = load_checkpoint(weights, map_location=device)
    if state.get("kind") != CLASSIFIER_FORMAT:
        raise CheckpointError(f"{weights.name} is a FaceForge checkpoint but not an attribute classifier")
    try:
        spec = ClassifierSpec.from_dict(state["spec"])
        net = ClassifierNet(spec)
        net.load_state_dict(state["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{weights.name} does not match its own description: {exc}") from None
    net.to(device).eval().requires_grad_(False)
    return AttributeClassifier(spec, net, info=_read_meta(weights))


def _read_meta(weights: Path) -> dict[str, Any]:
    """classifier.json beside the weights, when it describes exactly these weights; else nothing."""
    try:
        meta = json.loads((weights.parent / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("weights_sha256") == file_sha256(weights) else {}




def _plain(value: Any) -> Any:
    """numpy numbers and arrays, and paths, in metadata become JSON numbers, lists and strings."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")
