"""Benchmark of the data layer at CelebA scale: scanning, first thumbnails, cold preprocessing, cached reopen.

Usage::

    python bench/dataset_index.py [--n 200000] [--dir /tmp/faceforge-bench-200000] [--resolution 64]

The image folder (89x109 JPEGs, like the halved aligned CelebA) is generated once from built-in faces plus noise
and reused on later runs. "Cold" means FaceForge's cache is empty (a fresh cache folder per run); the operating
system's file cache is not dropped, which would need root and disturb everything else on the machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceforge.device import cpu_name  # noqa: E402  (the "Model name" lscpu prints)

from faceforge.config import DataConfig  # noqa: E402
from faceforge.data import load_dataset, scan, thumbnail  # noqa: E402
from faceforge.data.synthetic import make_builtin  # noqa: E402

_W, _H = 89, 109
_PER_FOLDER = 10_000  # a flat folder of 200k files is realistic (CelebA) but sub-folders exercise recursion too
_DONE = ".complete"




def _write_block(folder: Path, start: int, count: int, faces: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for i in range(start, start + count):
        face = faces[i % len(faces)]
        noisy = np.clip(face.astype(np.int16) + rng.integers(-12, 13, size=face.shape, dtype=np.int16), 0, 255)
        img = Image.fromarray(noisy.astype(np.uint8)).resize((_W, _H), Image.BILINEAR)
        sub = folder / f"part{i // _PER_FOLDER:03d}"
        img.save(sub / f"{i:06d}.jpg", quality=90)


def ensure_images(folder: Path, n: int) -> float:
    """Create the folder of n JPEGs unless a complete one is already there; returns seconds spent."""
    marker = folder / _DONE
    if marker.exists() and marker.read_text().strip() == str(n):
        return 0.0
    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for k in range((n + _PER_FOLDER - 1) // _PER_FOLDER):
        (folder / f"part{k:03d}").mkdir(exist_ok=True)
    faces, _, _ = make_builtin(min(n, 2000), 128, seed=1)
    block = 2000
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [pool.submit(_write_block, folder, s, min(block, n - s), faces, s) for s in range(0, n, block)]
        for k, fut in enumerate(futures):
            fut.result()
            print(f"\r  generating images: {min((k + 1) * block, n):,}/{n:,}", end="", flush=True)
    print()
    marker.write_text(str(n))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="number of images (default 200,000)")
    ap.add_argument("--dir", type=Path, default=None, help="image folder (created once, then reused)")
    ap.add_argument("--resolution", type=int, default=64)
    args = ap.parse_args(argv)
    folder = args.dir or Path(tempfile.gettempdir()) / f"faceforge-bench-{args.n}"

    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical cores)")
    print(f"Python {platform.python_version()}, numpy {np.__version__}, Pillow {Image.__version__}")
    gen = ensure_images(folder, args.n)
    print(f"images: {folder} ({args.n:,} files, " + (f"generated in {gen:.0f} s)" if gen else "reused)"))

    t = time.perf_counter()
    refs = scan(folder)
    scan_s = time.perf_counter() - t
    print(f"scan: {len(refs):,} files in {scan_s:.2f} s")

    t = time.perf_counter()
    for ref in refs[:100]:
        thumbnail(ref, 96)
    thumbs_s = time.perf_counter() - t
    print(f"first 100 thumbnails (96 px): {thumbs_s:.3f} s")

    with tempfile.TemporaryDirectory(prefix="faceforge-bench-cache-") as cache:
        cfg = DataConfig(source=str(folder), resolution=args.resolution)
        t = time.perf_counter()
        ds = load_dataset(cfg, cache_root=Path(cache))
        cold = time.perf_counter() - t
        rate = len(ds) / cold
        print(f"preprocess (cold, {os.cpu_count()} threads, {args.resolution} px, scan included): "
              f"{len(ds):,} images in {cold:.1f} s = {rate:,.0f} img/s")
        del ds
        t = time.perf_counter()
        ds = load_dataset(cfg, cache_root=Path(cache))
        warm = time.perf_counter() - t
        assert ds.report.from_cache
        print(f"cached open (rescan + key + memmap): {warm:.2f} s; first image mean {ds.images[0].mean():.1f}")
        del ds
    print(f"scan_s={scan_s:.2f} first_thumbs_s={thumbs_s:.3f} preprocess_img_s={rate:.0f} cached_open_s={warm:.2f}")


if __name__ == "__main__":
    main()
