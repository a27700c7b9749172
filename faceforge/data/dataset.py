"""The data layer's entry point: a :class:`~faceforge.config.DataConfig` in, a :class:`FaceDataset` out.

Everything slow (rendering the built-in faces, decoding a folder or zip) happens once and lands in the
preprocessing cache; later loads only rescan the file list, re-read the labels and memory-map the array. Labels are
deliberately not baked into the cache: they are cheap to re-read, so fixing a label file never costs a re-decode.
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import time
import zipfile
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from faceforge.tasks import Cancelled
from faceforge.data.label_scales import describe, summarise_columns
from faceforge.config import BUILTIN_SOURCE, DataConfig, is_builtin, source_slug
from faceforge.data import cache as _cache
from faceforge.data.images import BadImageError, crop_and_resize, decode_image
from faceforge.data.labels import LabelTable, match_labels, read_labels, resolve_attributes
from faceforge.data.sources import DatasetError, ImageRef, scan
from faceforge.data.synthetic import BUILTIN_ATTRIBUTES, iter_render, sample_attributes

CODE_VERSION = 1  # bump whenever decoding, cropping, resizing or rendering would produce different pixels
_CHUNK = 64  # images per worker task: big enough to amortise scheduling, small enough to stop quickly

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]



@dataclass
class DatasetReport:
    """What a load or a check found; shown to the user before training and stored with the run."""

    source: str = ""
    n_found: int = 0
    n_ok: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    label_notes: list[str] = field(default_factory=list)
    sizes: dict[str, list[int]] = field(default_factory=dict)  # {"width": [min, median, max], "height": [...]}
    formats: dict[str, int] = field(default_factory=dict)
    positive_rates: dict[str, float] = field(default_factory=dict)  # binary columns: share of +1
    columns: dict[str, dict] = field(default_factory=dict)  # every column: kind and % positive or range/mean/histogram
    notes: list[str] = field(default_factory=list)  # anything else the user should know (ignored settings...)
    from_cache: bool = False

    def summary(self) -> str:
        skipped = self.n_found - self.n_ok
        lines = [f"{self.source}: {self.n_found:,} images found, {self.n_ok:,} usable"
                 + (f", {skipped:,} left out" if skipped else "")]
        if self.sizes:
            w, h = self.sizes["width"], self.sizes["height"]
            lines.append(f"  sizes: width {w[0]}-{w[2]} (median {w[1]}), height {h[0]}-{h[2]} (median {h[1]}) px")
        if self.formats:
            lines.append("  formats: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.formats.items())))
        if self.bad:
            reasons = Counter(reason for _, reason in self.bad)
            lines.append(f"  {len(self.bad):,} unusable files: "
                         + ", ".join(f"{n:,} {reason}" for reason, n in reasons.most_common(5)))
            lines.extend(f"    {name}: {reason}" for name, reason in self.bad[:5])
            if len(self.bad) > 5:
                lines.append(f"    ... and {len(self.bad) - 5:,} more")
        lines.extend(f"  labels: {note}" for note in self.label_notes)
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.columns:
            lines.append("  attributes: " + ", ".join(describe(k, v) for k, v in self.columns.items()))
        elif self.positive_rates:
            lines.append("  attributes (share positive): "
                         + ", ".join(f"{k} {v:.1%}" for k, v in self.positive_rates.items()))
        return "\n".join(lines)

    def skipped_text(self) -> str:
        """One line on the images left out and why ("" when none): what the run's start and the Dataset pane say,
        so a run on 6 of 9 images never looks like a run on all of them."""
        if not self.bad:
            return ""
        reasons = Counter(reason for _, reason in self.bad)
        names = ", ".join(name for name, _ in self.bad[:3]) + (", …" if len(self.bad) > 3 else "")
        return (f"{len(self.bad):,} of {self.n_found:,} images cannot be read and are left out: "
                + ", ".join(f"{n:,} {reason}" for reason, n in reasons.most_common(3)) + f" ({names})")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["bad"] = [list(b) for b in self.bad]
        return d


@dataclass
class FaceDataset:
    images: np.ndarray  # uint8 (N, H, W, 3); a read-only memmap when it comes from the cache
    labels: np.ndarray | None  # float32 (N, A), or None when no attributes are selected
    attributes: list[str]
    name: str
    report: DatasetReport
    files: list[str] | None  # image names (relative to the source), None for the built-in faces
    cache_folder: Path | None = None

    def __len__(self) -> int:
        return len(self.images)


class _Ticker:
    """Calls ``progress`` at most ~20 times a second (a GUI signal per image would flood the event loop)."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.total = total
        self.last = 0.0

    def __call__(self, done: int, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self.last >= 0.05:
            self.last = now
            self.progress(done, self.total)


def _check_stop(should_stop: ShouldStop | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled("stopped by request")




# --------------------------------------------------------------------------------------------------------------
# Decoding many images


@dataclass
class _Decoded:
    pixels: np.ndarray | None  # (k, res, res, 3) for the ok images of the chunk, in order
    ok: list[bool]
    reasons: list[str | None]
    sizes: list[tuple[int, int, str]]  # (width, height, format) of the ok images


def _read(ref: ImageRef) -> bytes:
    try:
        return ref.read_bytes()
    except FileNotFoundError:
        raise BadImageError("file disappeared") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise BadImageError(f"corrupt zip member ({exc})") from None
    except RuntimeError as exc:  # zipfile: encrypted member
        raise BadImageError("encrypted zip member" if "encrypt" in str(exc).lower() else str(exc)) from None
    except NotImplementedError:
        raise BadImageError("unsupported zip compression") from None
    except OSError as exc:
        raise BadImageError(f"unreadable ({exc.strerror or exc})") from None


def _decode_chunk(refs: Sequence[ImageRef], resolution: int, crop, keep_pixels: bool) -> _Decoded:
    pixels = np.empty((len(refs), resolution, resolution, 3), np.uint8) if keep_pixels else None
    ok, reasons, sizes = [], [], []
    k = 0
    for ref in refs:
        try:
            img = decode_image(_read(ref), target=resolution, crop=crop)
            w, h = img.info["faceforge_original_size"]
            if keep_pixels:
                pixels[k] = crop_and_resize(img, resolution, crop)  # type: ignore[index]
                k += 1
        except BadImageError as exc:
            ok.append(False)
            reasons.append(exc.reason)
            continue
        except Exception as exc:  # a decoder bug on one odd file must not end a 200k-image run
            ok.append(False)
            reasons.append(f"could not decode ({type(exc).__name__})")
            continue
        ok.append(True)
        reasons.append(None)
        sizes.append((int(w), int(h), str(img.info.get("faceforge_format", "unknown"))))
    return _Decoded(None if pixels is None else pixels[:k], ok, reasons, sizes)


def _decode_all(refs: Sequence[ImageRef], resolution: int, crop, *, keep_pixels: bool, on_chunk,
                progress: Progress | None, should_stop: ShouldStop | None) -> None:
    """Decode ``refs`` on all cores, handing each chunk's result to ``on_chunk`` in order.

    Threads are enough: Pillow releases the GIL while decoding and resizing. Only a few chunks are in flight at
    a time, so memory stays flat however fast the workers outpace the writer.
    """
    workers = max(1, os.cpu_count() or 1)
    chunks = [refs[i:i + _CHUNK] for i in range(0, len(refs), _CHUNK)]
    tick = _Ticker(progress, len(refs))
    tick(0, force=True)
    done = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="faceforge-decode") as pool:
        pending: deque = deque()
        it = iter(chunks)
        try:
            for chunk in it:
                pending.append(pool.submit(_decode_chunk, chunk, resolution, crop, keep_pixels))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                _check_stop(should_stop)
                result = pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(_decode_chunk, nxt, resolution, crop, keep_pixels))
                on_chunk(result)
                done += len(result.ok)
                tick(done)
        finally:
            for fut in pending:
                fut.cancel()
    tick(done, force=True)


class _Collector:
    """Gathers per-image outcomes in order for the manifest and the report."""

    def __init__(self, refs: Sequence[ImageRef], writer=None):
        self.refs = refs
        self.writer = writer
        self.pos = 0
        self.files: list[str] = []
        self.bad: list[tuple[str, str]] = []
        self.sizes: list[tuple[int, int, str]] = []

    def __call__(self, result: _Decoded) -> None:
        if self.writer is not None and result.pixels is not None and len(result.pixels):
            self.writer.append(result.pixels)
        for ok, reason in zip(result.ok, result.reasons):
            name = self.refs[self.pos].name
            self.pos += 1
            if ok:
                self.files.append(name)
            else:
                self.bad.append((name, reason or "unknown"))
        self.sizes.extend(result.sizes)

    def size_summary(self) -> tuple[dict[str, list[int]], dict[str, int]]:
        if not self.sizes:
            return {}, {}
        ws = [s[0] for s in self.sizes]
        hs = [s[1] for s in self.sizes]
        spread = lambda v: [min(v), int(statistics.median(v)), max(v)]  # noqa: E731
        return {"width": spread(ws), "height": spread(hs)}, dict(Counter(s[2] for s in self.sizes))


# --------------------------------------------------------------------------------------------------------------
# Loading


def _rates(labels: np.ndarray | None, names: Sequence[str]) -> dict[str, float]:
    """Share of +1 in each binary column (continuous ones are described by ``columns``)."""
    return {k: v["positive"] for k, v in summarise_columns(names, labels).items() if v["kind"] == "binary"}


def _load_builtin(cfg: DataConfig, root: Path, progress, should_stop) -> FaceDataset:
    names = resolve_attributes(cfg.attributes, BUILTIN_ATTRIBUTES) if cfg.attributes else []
    n, res, seed = int(cfg.builtin_count), int(cfg.resolution), int(cfg.builtin_seed)
    if n < 1:
        raise DatasetError("builtin_count must be at least 1")
    slug = "builtin-faces"
    key = _cache.cache_key({"source": BUILTIN_SOURCE, "n": n, "resolution": res, "seed": seed,
                            "code": CODE_VERSION})
    entry = _cache.open_entry(root, slug, key)
    from_cache = entry is not None
    if entry is None:
        attrs = sample_attributes(n, seed)
        _cache.ensure_space(root, n * res * res * 3)
        tick = _Ticker(progress, n)
        tick(0, force=True)
        with _cache.building(root, slug, key) as build:
            with build.image_writer((res, res, 3)) as writer:
                for start, images in iter_render(attrs, res, seed):
                    _check_stop(should_stop)
                    writer.append(images)
                    tick(start + len(images))
            build.save_array("attributes.npy", attrs)
            entry = build.commit({"source": BUILTIN_SOURCE, "files": None, "bad": [],
                                  "attribute_names": list(BUILTIN_ATTRIBUTES), "resolution": res}, (n, res, res, 3))
        tick(n, force=True)
    all_attrs = entry.array("attributes.npy")
    labels = all_attrs[:, [BUILTIN_ATTRIBUTES.index(a) for a in names]].astype(np.float32) if names else None
    report = DatasetReport(source=BUILTIN_SOURCE, n_found=n, n_ok=n, sizes={"width": [res] * 3, "height": [res] * 3},
                           formats={"rendered": n}, positive_rates=_rates(labels, names),
                           columns=summarise_columns(names, labels),
                           from_cache=from_cache)
    if cfg.labels:
        report.label_notes.append("a labels file is ignored for builtin:faces (the renderer's values are used)")
    if cfg.crop:
        report.notes.append("crop is ignored for builtin:faces (the faces are already framed)")
    return FaceDataset(entry.images(), labels, names, slug, report, None, entry.folder)


def _labels_for(cfg: DataConfig, refs: list[ImageRef], notes: list[str]):
    """Read and match labels when attributes are selected: (refs to decode, {name: label row}, attribute names)."""
    if not cfg.attributes:
        if cfg.labels:
            notes.append("no attributes selected, so the labels file is not used")
        return refs, None, []
    if not cfg.labels:
        raise DatasetError(f"attributes {', '.join(cfg.attributes)} were selected but no labels file was given")
    table: LabelTable = read_labels(cfg.labels)
    names = resolve_attributes(cfg.attributes, table.names)
    idx, rows, report = match_labels(refs, table)
    notes.extend(table.notes)
    notes.extend(report.notes())
    cols = [table.names.index(a) for a in names]
    kept = [refs[i] for i in idx]
    by_name = {ref.name: rows[k, cols] for k, ref in enumerate(kept)}
    return kept, by_name, names


def load_dataset(
    cfg: DataConfig,
    *,
    cache_root: Path | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> FaceDataset:
    """Build (or reopen from the cache) the training images described by ``cfg``.

    Raises :class:`DatasetError` for problems the user must fix, :class:`Cancelled` when ``should_stop()`` turns
    true (polled between batches), and :class:`~faceforge.fileio.DiskFullError` when the cache does not fit.
    """
    if cache_root is None:
        from faceforge.paths import cache_dir

        cache_root = cache_dir()
    root = Path(cache_root)
    res = int(cfg.resolution)
    if res < 8:
        raise DatasetError(f"resolution must be at least 8 pixels, not {res}")
    _check_stop(should_stop)
    if is_builtin(cfg.source):
        return _load_builtin(cfg, root, progress, should_stop)
    all_refs = scan(cfg.source)
    notes: list[str] = []
    refs, label_rows, names = _labels_for(cfg, all_refs, notes)
    crop = tuple(int(v) for v in cfg.crop) if cfg.crop else None
    if crop is not None and (crop[2] <= crop[0] or crop[3] <= crop[1]):
        raise DatasetError(f"crop {crop} is empty: it must be (left, top, right, bottom) with right > left")
    slug = source_slug(cfg.source)
    source_abs = os.path.abspath(os.path.expanduser(cfg.source))
    key = _cache.cache_key({
        "source": source_abs,
        "files": [(r.name, r.size, r.mtime_ns) for r in refs],
        "resolution": res,
        "crop": crop,
        "code": CODE_VERSION,
    })
    entry = _cache.open_entry(root, slug, key)
    from_cache = entry is not None
    if entry is None:
        _cache.ensure_space(root, len(refs) * res * res * 3)
        with _cache.building(root, slug, key) as build:
            with build.image_writer((res, res, 3)) as writer:
                collect = _Collector(refs, writer)
                _decode_all(refs, res, crop, keep_pixels=True, on_chunk=collect, progress=progress,
                            should_stop=should_stop)
            sizes, formats = collect.size_summary()
            if not collect.files:
                raise DatasetError(f"none of the {len(refs)} images in {cfg.source} could be decoded; for example "
                                   + "; ".join(f"{n}: {r}" for n, r in collect.bad[:3]))
            entry = build.commit({"source": source_abs, "files": collect.files, "bad": collect.bad, "sizes": sizes,
                                  "formats": formats, "resolution": res, "crop": crop},
                                 (len(collect.files), res, res, 3))
    manifest = entry.manifest
    files: list[str] = list(manifest["files"])
    bad = [(str(n), str(r)) for n, r in manifest["bad"]]
    labels = None
    if label_rows is not None:
        labels = np.stack([label_rows[f] for f in files]).astype(np.float32)
        if bad:
            notes.append(f"{len(bad)} labelled images could not be decoded and are left out with their labels")
    report = DatasetReport(source=cfg.source, n_found=len(all_refs), n_ok=len(files), bad=bad, label_notes=notes,
                           sizes=manifest.get("sizes") or {}, formats=manifest.get("formats") or {},
                           positive_rates=_rates(labels, names), columns=summarise_columns(names, labels),
                           from_cache=from_cache)
    return FaceDataset(entry.images(), labels, names, slug, report, files, entry.folder)


def check_dataset(
    source: str,
    labels: str | None = None,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> DatasetReport:
    """Look at every image (decoding it, since truncation only shows then) and the labels without caching
    anything: counts, sizes, formats, unusable files, label coverage and positive rates of every attribute."""
    if is_builtin(source):
        cfg = DataConfig()
        attrs = sample_attributes(cfg.builtin_count, cfg.builtin_seed)
        return DatasetReport(source=source, n_found=len(attrs), n_ok=len(attrs), formats={"rendered": len(attrs)},
                             positive_rates=_rates(attrs, BUILTIN_ATTRIBUTES),
                             columns=summarise_columns(BUILTIN_ATTRIBUTES, attrs))
    refs = scan(source)
    collect = _Collector(refs)
    _decode_all(refs, 64, None, keep_pixels=False, on_chunk=collect, progress=progress, should_stop=should_stop)
    sizes, formats = collect.size_summary()
    report = DatasetReport(source=source, n_found=len(refs), n_ok=len(collect.files), bad=collect.bad,
                           sizes=sizes, formats=formats)
    if labels:
        table = read_labels(labels)
        report.label_notes.extend(table.notes)
        idx, rows, match = match_labels(refs, table)
        report.label_notes.extend(match.notes())
        good = set(collect.files)
        keep = [k for k, i in enumerate(idx) if refs[i].name in good]
        report.label_notes.append(f"{len(keep):,} usable images have labels")
        report.positive_rates = _rates(rows[keep], table.names)
        report.columns = summarise_columns(table.names, rows[keep])
    return report
