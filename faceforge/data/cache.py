"""The preprocessing cache: decoded, cropped, resized images as one uint8 ``.npy`` per (source, settings).

Decoding 200,000 JPEGs takes minutes; opening a memory-mapped array takes milliseconds, so every dataset is
decoded once. Trust is all-or-nothing: an entry is built in a hidden temporary folder and renamed into place only
after the array and its manifest are complete and fsynced, so a cancelled, crashed or disk-full run leaves at most
a temporary folder that no later run will read (and that later runs delete).

The array is written sequentially through :func:`faceforge.fileio.atomic_open` rather than through a writable
memmap: a memmap write on a full disk kills the process with SIGBUS, a file write raises a catchable
:class:`~faceforge.fileio.DiskFullError`.
"""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from faceforge.processes import pid_alive
from faceforge.fileio import DiskFullError, atomic_open, atomic_write_text

CACHE_FORMAT = 1
_HEADER_BYTES = 128  # fixed-size .npy header, so the row count can be rewritten in place at the end
_MANIFEST = "manifest.json"
_IMAGES = "images.npy"
_TMP_PREFIX = ".building-"
_STALE_SECONDS = 24 * 3600

log = logging.getLogger(__name__)


def cache_key(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:24]


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A version-1.0 .npy header padded to exactly _HEADER_BYTES (a multiple of 64, like numpy's own)."""
    text = repr({"descr": "|u1", "fortran_order": False, "shape": tuple(int(s) for s in shape)})
    body_len = _HEADER_BYTES - 10
    if len(text) + 1 > body_len:
        raise ValueError(f"shape {shape} does not fit the fixed header")
    body = (text + " " * (body_len - len(text) - 1) + "\n").encode("latin-1")
    return b"\x93NUMPY\x01\x00" + body_len.to_bytes(2, "little") + body


class ArrayWriter:
    """Appends uint8 rows to an open binary file as a .npy whose row count is only known at the end."""

    def __init__(self, fh, item_shape: tuple[int, ...]):
        self.fh = fh
        self.item_shape = tuple(item_shape)
        self.count = 0
        fh.write(_npy_header((0,) + self.item_shape))

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=np.uint8)
        if rows.shape[1:] != self.item_shape:
            raise ValueError(f"rows of shape {rows.shape[1:]} do not fit {self.item_shape}")
        self.fh.write(memoryview(rows).cast("B"))
        self.count += len(rows)

    def finish(self) -> None:
        self.fh.seek(0)
        self.fh.write(_npy_header((self.count,) + self.item_shape))
        self.fh.seek(0, os.SEEK_END)


@dataclass
class CacheEntry:
    folder: Path
    manifest: dict[str, Any]

    def images(self) -> np.ndarray:
        return np.load(self.folder / _IMAGES, mmap_mode="r")

    def array(self, name: str) -> np.ndarray:
        return np.load(self.folder / name, allow_pickle=False)


def entry_folder(root: Path, slug: str, key: str) -> Path:
    return Path(root) / f"{slug}-{key}"


def open_entry(root: Path, slug: str, key: str) -> CacheEntry | None:
    """The complete entry for ``key``, or None. Anything incomplete or inconsistent is deleted, not trusted."""
    folder = entry_folder(root, slug, key)
    if not folder.is_dir():
        return None
    entry = _validate(folder, key)
    if entry is None:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    _touch(folder)
    return entry


def _touch(folder: Path) -> None:
    """Mark an entry as just used (its manifest's mtime): eviction drops the least recently used first."""
    try:
        os.utime(folder / _MANIFEST)
    except OSError:
        pass


def _folder_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def evict(root: Path, budget_bytes: int, *, keep: Path | None = None) -> list[Path]:
    """Delete the least recently used complete entries until the cache holds at most ``budget_bytes``; never
    ``keep`` (the entry just opened or built). Returns what was deleted. A run training from a deleted entry keeps
    reading it (the open memory map holds the file until it closes); the next open rebuilds it from the source."""
    entries = []
    try:
        for item in os.scandir(root):
            if item.is_dir() and not item.name.startswith(_TMP_PREFIX):
                folder = Path(item.path)
                try:
                    used = (folder / _MANIFEST).stat().st_mtime
                except OSError:
                    used = 0.0
                entries.append((used, folder, _folder_bytes(folder)))
    except OSError:
        return []
    total = sum(size for _, _, size in entries)
    deleted = []
    for _, folder, size in sorted(entries, key=lambda e: e[0]):
        if total <= budget_bytes:
            break
        if keep is not None and folder.resolve() == Path(keep).resolve():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            total -= size
            deleted.append(folder)
    return deleted


def _validate(folder: Path, key: str) -> CacheEntry | None:
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != CACHE_FORMAT or manifest.get("key") != key or not manifest.get("complete"):
            return None
        shape = tuple(manifest["shape"])
        path = folder / _IMAGES
        with open(path, "rb") as fh:
            head = fh.read(_HEADER_BYTES)
        header = ast.literal_eval(head[10:].decode("latin-1"))
        if tuple(header["shape"]) != shape:
            return None
        if path.stat().st_size != _HEADER_BYTES + int(np.prod(shape)):
            return None
        files = manifest.get("files")
        if files is not None and len(files) != shape[0]:
            return None
        for name in manifest.get("arrays", []):
            if not (folder / name).is_file():
                return None
    except (OSError, ValueError, KeyError, TypeError, SyntaxError, json.JSONDecodeError):
        return None
    return CacheEntry(folder, manifest)




def clean_stale(root: Path) -> None:
    """Delete temporary folders left by crashed or killed builds (their owner is gone, or they are a day old)."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(_TMP_PREFIX) or not entry.is_dir():
            continue
        try:
            pid = int(entry.name.split("-")[-2])
        except (ValueError, IndexError):
            pid = -1
        try:
            old = now - entry.stat().st_mtime > _STALE_SECONDS
        except OSError:
            continue
        if old or (pid > 0 and pid != os.getpid() and not pid_alive(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)


def ensure_space(root: Path, needed_bytes: int) -> None:
    """Fail before decoding for minutes, not at 95 %: the array size is known up front."""
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        return
    if free < needed_bytes * 1.02 + 16e6:
        raise DiskFullError(
            28, f"the dataset cache needs {needed_bytes / 1e9:.2f} GB but only {free / 1e9:.2f} GB is free in {root}"
        )


class Build:
    """A cache entry under construction in a private temporary folder."""

    def __init__(self, root: Path, slug: str, key: str):
        self.root = Path(root)
        self.slug = slug
        self.key = key
        self.tmp = self.root / f"{_TMP_PREFIX}{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.tmp.mkdir(parents=True)
        self.arrays: list[str] = []

    @contextmanager
    def image_writer(self, item_shape: tuple[int, ...]) -> Iterator[ArrayWriter]:
        with atomic_open(self.tmp / _IMAGES, "wb") as fh:
            writer = ArrayWriter(fh, item_shape)
            yield writer
            writer.finish()

    def save_array(self, name: str, array: np.ndarray) -> None:
        with atomic_open(self.tmp / name, "wb") as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        self.arrays.append(name)

    def commit(self, manifest: dict[str, Any], shape: tuple[int, ...]) -> CacheEntry:
        manifest = dict(manifest, format=CACHE_FORMAT, key=self.key, complete=True, shape=list(shape),
                        arrays=self.arrays, created=time.time())
        atomic_write_text(self.tmp / _MANIFEST, json.dumps(manifest))  # the manifest is written last
        final = entry_folder(self.root, self.slug, self.key)
        existing = open_entry(self.root, self.slug, self.key)
        if existing is not None:  # another process finished the same entry first: use theirs
            self.abort()
            return existing
        try:
            os.replace(self.tmp, final)
        except OSError:
            existing = open_entry(self.root, self.slug, self.key)  # lost a race with another process
            if existing is None:
                raise
            self.abort()
            return existing
        from faceforge.paths import cache_budget_bytes

        for folder in evict(self.root, cache_budget_bytes(), keep=final):
            log.info("dataset cache over its budget: dropped the least recently used entry %s", folder.name)
        return CacheEntry(final, manifest)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def building(root: Path, slug: str, key: str) -> Iterator[Build]:
    """Yield a :class:`Build`; any exception (including cancellation) removes everything it wrote."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    clean_stale(root)
    build = Build(root, slug, key)
    try:
        yield build
    except BaseException:
        build.abort()
        raise
