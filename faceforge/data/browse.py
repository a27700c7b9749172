"""A dataset as a person browses it before training: its images, one label row per image, each attribute's kind
(yes/no or a quantity such as Age in years, by ``label_scales``' documented rule) with its positive rate or its
range, mean and histogram, and attribute filters as an index array over the label matrix.

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
from faceforge.data.label_scales import detect_kind, summarise_columns
from faceforge.data.labels import find_label_file, match_labels, read_labels
from faceforge.data.sources import DatasetError, scan
from faceforge.data.synthetic import make_builtin
from faceforge.tasks import Cancelled

LARGE_SIDE = 256  # the large view decodes a file at this size (thumbnails at the grid's size)
SIGNS = ("+", "-")  # a yes/no filter keeps the rows whose value is above 0 (+) or below 0 (-)
#: an attribute filter: a sign for a yes/no column, or (low, high) in the column's own units for a continuous one
Filter = str | tuple[float, float]


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
    labels: np.ndarray | None  # (N, A) float32 in the file's units; NaN where an image has no label row
    attributes: list[str]
    name: str
    notes: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # the attributes proposed for conditioning
    kinds: list[str] = field(default_factory=list)  # per attribute: binary | continuous
    labels_file: str | None = None  # the labels file chosen or found, even when it gives no labels
    labels_found: bool = False  # the labels file was found beside the images, not chosen by the user
    labels_problem: str = ""  # why ``labels_file`` gives no labels (unreadable, or it names none of the images)
    total: int | None = None  # the images training uses, when this view previews fewer (the built-in faces)

    @property
    def builtin(self) -> bool:
        return is_builtin(self.source)

    def __len__(self) -> int:
        return len(self.images)

    def count_text(self) -> str:
        """"10,000 images", or "previewing 2,000 of 10,000 images" when training uses more than are shown."""
        if self.total and self.total != len(self):
            return f"previewing {len(self):,} of {self.total:,} images"
        return f"{len(self):,} images"


def open_dataset_view(source: str, labels_path: str | None, *, builtin_count: int, builtin_chunk: int,
                      builtin_resolution: int, builtin_total: int | None = None, find_labels: bool = True,
                      usual_attributes: Sequence[str] = (), progress=None, should_stop=None) -> DatasetView:
    """Folder or zip: scan (no decoding) and match the labels file - without one, and with ``find_labels``, the
    one ``find_label_file`` finds beside the images (CelebA's own layout); built-in: render ``builtin_count``
    faces in chunks (so a cancel is heard within one chunk) of the ``builtin_total`` training renders.
    ``usual_attributes`` are proposed for conditioning where the labels have them; the built-in faces propose all
    of theirs, whose values the renderer knows exactly.

    A labels file that cannot be read or matches no image leaves the images on show and says why
    (``labels_problem``): the images are still a dataset. Raises :class:`DatasetError` for a source that cannot be
    shown, :class:`Cancelled` when ``should_stop()``."""
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
        labels = np.concatenate(attrs)
        return DatasetView(source, None, ArraySource(np.concatenate(images)), labels, list(names),
                           source_label(source), proposed=list(names), kinds=column_kinds(labels),
                           total=builtin_total)
    refs = scan(source)
    view = DatasetView(source, None, RefSource(refs), None, [], source_label(source))
    if not labels_path and find_labels:
        found = find_label_file(source)
        labels_path, view.labels_found = (str(found), True) if found else (None, False)
    view.labels_file = labels_path
    if labels_path:
        try:
            table = read_labels(Path(labels_path))
            idx, values, report = match_labels(refs, table)
        except DatasetError as exc:  # unreadable, or nothing matches: show the images, say why there are no labels
            view.labels_problem = str(exc)
        else:
            view.labels_path = labels_path
            view.labels = np.full((len(refs), len(table.names)), np.nan, np.float32)
            view.labels[idx] = values
            view.attributes = list(table.names)
            view.kinds = column_kinds(view.labels)
            view.proposed = [a for a in usual_attributes if a in view.attributes]
            view.notes.extend(table.notes + report.notes())
    return view


def column_kinds(labels: np.ndarray) -> list[str]:
    """Each column's kind by the documented rule (``label_scales.detect_kind``), over the labelled rows."""
    return [detect_kind(labels[:, j]) for j in range(labels.shape[1])]


def labelled_rows(labels: np.ndarray) -> np.ndarray:
    """The label rows of images that have one (an image without a row is NaN across it)."""
    return labels[~np.isnan(labels).any(axis=1)]


def column_summaries(attributes: Sequence[str], labels: np.ndarray, kinds: Sequence[str]) -> dict[str, dict]:
    """``summarise_columns`` over the labelled rows: % positive for yes/no columns, range, mean and histogram for
    continuous ones (empty when no image is labelled)."""
    return summarise_columns(attributes, labelled_rows(labels), kinds=dict(zip(attributes, kinds)))


def summary_text(summary: dict | None) -> str:
    """The attribute table's "Values" cell: "48.0 %" for a yes/no column, "1–116, mean 38.2" for a quantity."""
    if not summary:
        return "—"
    if summary["kind"] == "binary":
        return f"{100 * summary['positive']:.1f} %"
    span = float(summary["high"]) - float(summary["low"])
    places = max(0, 1 - int(np.floor(np.log10(span)))) if span > 0 else 2  # Age: 16–89; -1..1: -1.0–1.0
    mean = round(float(summary["mean"]), places + 1) or 0.0  # never "-0.00"
    return f"{summary['low']:.{places}f}–{summary['high']:.{places}f}, mean {mean:.{places + 1}f}"


def positive_rates(labels: np.ndarray) -> np.ndarray:
    """Share of labelled images with a value above 0, per attribute (NaN rows ignored; NaN for a column with no
    labelled image)."""
    known = (~np.isnan(labels)).sum(0)
    with np.errstate(invalid="ignore"):
        positive = (labels > 0).sum(0)
    return np.where(known > 0, positive / np.maximum(known, 1), np.nan)


def filter_rows(labels: np.ndarray | None, n: int, wanted: dict[int, Filter]) -> np.ndarray:
    """Dataset indices whose labels satisfy every requirement: ``column -> '+'/'-'`` (above/below 0) or
    ``column -> (low, high)``, both ends included, in the column's units. Unlabelled rows fail."""
    if labels is None or not wanted:
        return np.arange(n, dtype=np.int64)
    mask = np.ones(n, bool)
    with np.errstate(invalid="ignore"):
        for col, want in wanted.items():
            values = labels[:, col]
            if isinstance(want, tuple):
                mask &= (values >= want[0]) & (values <= want[1])
            else:
                mask &= values > 0 if want == "+" else values < 0
    return np.flatnonzero(mask)


def describe_filter(name: str, want: Filter) -> str:
    """'Smiling+', 'Eyeglasses−' (a typographic minus: it reads as a sign, not a hyphen), 'Age 20–40'."""
    if isinstance(want, tuple):
        return f"{name} {want[0]:g}–{want[1]:g}"
    return f"{name}{'+' if want == '+' else '−'}"


def describe_filters(attributes: Sequence[str], wanted: dict[int, Filter]) -> str:
    return ", ".join(describe_filter(attributes[col], want) for col, want in wanted.items())


def value_histogram(values: np.ndarray, bins: int = 21, *, value_range: tuple[float, float] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, float]:
    """(bar centres, counts, bar width) of one attribute's values; NaN (no label) is in no bar. Without
    ``value_range`` the bars span -1..1 and an odd number of bins puts 0 in the middle of a bar, so binary labels
    land in the two end bars; a continuous column passes its whole range in units (the same bars however a filter
    narrows the images)."""
    values = values[~np.isnan(values)]
    low, high = value_range if value_range is not None else (-1.05, 1.05)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    return (edges[:-1] + edges[1:]) / 2, counts, float(edges[1] - edges[0])


def label_lines(attributes: Sequence[str], row: np.ndarray, kinds: Sequence[str] = ()) -> str:
    """One image's labels, one attribute a line, '?' where the image has no label row; yes/no values signed
    (+1.00), quantities as they are (38)."""
    kinds = list(kinds) or ["binary"] * len(attributes)

    def value_text(value: float, kind: str) -> str:
        if np.isnan(value):
            return "   ?"
        return f"{value:+.2f}" if kind == "binary" else f"{value:g}"

    return "\n".join(f"{name:<22s} {value_text(value, kind)}" for name, value, kind in zip(attributes, row, kinds))


def dialog_folder(source: str | None) -> str:
    """Where a file dialog about this dataset starts: the folder holding it (a CelebA folder's labels sit beside
    it, a zip's in its folder), else the home folder - never the process's working directory."""
    if source and not is_builtin(source):
        parent = Path(source).expanduser().absolute().parent
        if parent.is_dir():
            return str(parent)
    return str(Path.home())
