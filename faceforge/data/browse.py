"""A dataset as a person browses it before training: its images, one label row per image, the attributes' positive
rates and value histograms, and attribute filters as an index array over the label matrix.

No Qt here, so the Dataset pane's logic is tested without a window; the pane runs ``open_dataset_view`` on its task
pool and only arranges what comes back. Labels are matched by the same code training uses (``match_labels``), so
the pane shows exactly the labels a run will be conditioned on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
from PIL import Image

from faceforge.config import is_builtin, source_label
from faceforge.data.images import thumbnail
from faceforge.data.labels import match_labels, read_labels
from faceforge.data.sources import DatasetError, scan
from faceforge.data.synthetic import make_builtin
from faceforge.tasks import Cancelled

LARGE_SIDE = 256  # the large view decodes a file at this size (thumbnails at the grid's size)
SIGNS = ("+", "-")  # a filter keeps the rows whose value is above 0 (+) or below 0 (-)


class ImageSource(Protocol):
    """What the thumbnail grid needs from a dataset. ``thumb`` and ``image`` are called on pool threads."""

    def __len__(self) -> int: ...
    def name(self, index: int) -> str: ...
    def thumb(self, index: int, size: int) -> np.ndarray: ...
    def image(self, index: int) -> np.ndarray: ...


class ArraySource:
    """Images already in memory (the built-in faces rendered on the pool)."""

    def __init__(self, images: np.ndarray, names: Sequence[str] | None = None):
        self.images = images
        self.names = list(names) if names is not None else None

    def __len__(self) -> int:
        return len(self.images)

    def name(self, index: int) -> str:
        return self.names[index] if self.names else f"face {index:05d}"

    def thumb(self, index: int, size: int) -> np.ndarray:
        img = self.images[index]
        if img.shape[0] == size:
            return img
        return np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))

    def image(self, index: int) -> np.ndarray:
        return self.images[index]


class RefSource:
    """Files found by ``scan`` (a folder or a zip); decoded by the data layer, never on the GUI thread."""

    def __init__(self, refs: Sequence):
        self.refs = refs

    def __len__(self) -> int:
        return len(self.refs)

    def name(self, index: int) -> str:
        return str(self.refs[index].name)

    def thumb(self, index: int, size: int) -> np.ndarray:
        return thumbnail(self.refs[index], size)

    def image(self, index: int) -> np.ndarray:
        return thumbnail(self.refs[index], LARGE_SIDE)


@dataclass
class DatasetView:
    """A dataset as the pane shows it: images to browse and, when labelled, one label row per image."""

    source: str
    labels_path: str | None
    images: ImageSource
    labels: np.ndarray | None  # (N, A) float32 in -1..1; NaN where an image has no label row
    attributes: list[str]
    name: str
    notes: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # the attributes proposed for conditioning

    @property
    def builtin(self) -> bool:
        return is_builtin(self.source)

    def __len__(self) -> int:
        return len(self.images)


def open_dataset_view(source: str, labels_path: str | None, *, builtin_count: int, builtin_chunk: int,
                      builtin_resolution: int, usual_attributes: Sequence[str] = (),
                      progress=None, should_stop=None) -> DatasetView:
    """Folder or zip: scan (no decoding) and match the labels file; built-in: render ``builtin_count`` faces in
    chunks (so a cancel is heard within one chunk). ``usual_attributes`` are proposed for conditioning where the
    labels have them; the built-in faces propose all of theirs, whose values the renderer knows exactly.

    Raises :class:`DatasetError` for a source that cannot be shown, :class:`Cancelled` when ``should_stop()``."""
    if is_builtin(source):
        images, attrs, names = [], [], []
        for k in range(builtin_count // builtin_chunk):
            if should_stop is not None and should_stop():
                raise Cancelled("stopped by request")
            im, at, names = make_builtin(builtin_chunk, builtin_resolution, k)
            images.append(im)
            attrs.append(at)
            if progress is not None:
                progress((k + 1) * builtin_chunk, builtin_count)
        return DatasetView(source, None, ArraySource(np.concatenate(images)), np.concatenate(attrs), list(names),
                           source_label(source), proposed=list(names))
    refs = scan(source)
    view = DatasetView(source, labels_path, RefSource(refs), None, [], source_label(source))
    if labels_path:
        table = read_labels(Path(labels_path))
        try:
            idx, values, report = match_labels(refs, table)
        except DatasetError as exc:  # nothing matches: show the images, say why there are no labels
            view.notes.append(str(exc))
        else:
            view.labels = np.full((len(refs), len(table.names)), np.nan, np.float32)
            view.labels[idx] = values
            view.attributes = list(table.names)
            view.proposed = [a for a in usual_attributes if a in view.attributes]
            view.notes.extend(report.notes())
    return view


def positive_rates(labels: np.ndarray) -> np.ndarray:
    """Share of labelled images with a value above 0, per attribute (NaN rows ignored; NaN for a column with no
    labelled image)."""
    known = (~np.isnan(labels)).sum(0)
    with np.errstate(invalid="ignore"):
        positive = (labels > 0).sum(0)
    return np.where(known > 0, positive / np.maximum(known, 1), np.nan)


def filter_rows(labels: np.ndarray | None, n: int, wanted: dict[int, str]) -> np.ndarray:
    """Dataset indices whose labels satisfy every ``column -> '+'/'-'`` requirement (unlabelled rows fail)."""
    if labels is None or not wanted:
        return np.arange(n, dtype=np.int64)
    mask = np.ones(n, bool)
    with np.errstate(invalid="ignore"):
        for col, sign in wanted.items():
            mask &= labels[:, col] > 0 if sign == "+" else labels[:, col] < 0
    return np.flatnonzero(mask)


def describe_filters(attributes: Sequence[str], wanted: dict[int, str]) -> str:
    """'Smiling+, Eyeglasses−' (a typographic minus: it reads as a sign, not a hyphen)."""
    return ", ".join(f"{attributes[col]}{'+' if sign == '+' else '−'}" for col, sign in wanted.items())


def value_histogram(values: np.ndarray, bins: int = 21) -> tuple[np.ndarray, np.ndarray, float]:
    """(bar centres, counts, bar width) of one attribute's values over -1..1; NaN (no label) is in no bar. An odd
    number of bins puts 0 in the middle of a bar, so binary labels land in the two end bars."""
    counts, edges = np.histogram(values, bins=bins, range=(-1.05, 1.05))
    return (edges[:-1] + edges[1:]) / 2, counts, float(edges[1] - edges[0])


def label_lines(attributes: Sequence[str], row: np.ndarray) -> str:
    """One image's labels, one attribute a line, '?' where the image has no label row."""
    return "\n".join(f"{name:<22s} {'   ?' if np.isnan(value) else f'{value:+.2f}'}"
                     for name, value in zip(attributes, row))
