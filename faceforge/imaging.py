"""Pictures as arrays and files: tensor -> uint8, grids of faces, PNG and GIF writing.

Training snapshots, the CLI, editing exports and the GUI's exports all write images through here, atomically
(temp file + rename, permissions as a plain write would give), so a killed process never leaves half a PNG.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PIL import Image

from faceforge.fileio import atomic_open

if TYPE_CHECKING:
    import torch


def to_uint8(images: "torch.Tensor") -> np.ndarray:
    """(N,3,H,W) in [-1,1] -> (N,H,W,3) uint8."""
    import torch  # here, not at the top: the window imports this module before torch is needed

    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def make_grid(images: np.ndarray, *, ncols: int | None = None, pad: int = 2, fill: int = 24) -> np.ndarray:
    """(N,H,W,3) uint8 -> one (rows*H, cols*W, 3) image with a thin dark gutter."""
    n, h, w, _ = images.shape
    ncols = ncols or max(1, int(math.ceil(math.sqrt(n))))
    nrows = int(math.ceil(n / ncols))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), fill, np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = images[i]
    return grid


def write_png(path: Path | str, image: np.ndarray, *, compress_level: int = 6) -> Path:
    """One (H,W,3) uint8 image as a PNG, atomically. Level 1 encodes 4x faster for 4% more bytes (snapshots)."""
    path = Path(path)
    with atomic_open(path, "wb") as fh:
        Image.fromarray(np.ascontiguousarray(np.asarray(image, np.uint8))).save(
            fh, format="PNG", compress_level=compress_level)
    return path


def write_gif(frames: Sequence[np.ndarray | Image.Image], path: Path | str, *, frame_ms: int = 80,
              boomerang: bool = False, scale: int = 1) -> Path:
    """An animated GIF that loops forever. ``boomerang`` plays the frames forward then back (a smooth loop for an
    interpolation); ``scale`` enlarges small faces with nearest-neighbour (crisp pixels)."""
    pil = [f if isinstance(f, Image.Image) else Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    if not pil:
        raise ValueError("no frames")
    if boomerang and len(pil) > 2:
        pil = pil + pil[-2:0:-1]
    if scale > 1:
        pil = [im.resize((im.width * scale, im.height * scale), Image.NEAREST) for im in pil]
    path = Path(path)
    with atomic_open(path, "wb") as fh:
        pil[0].save(fh, format="GIF", save_all=True, append_images=pil[1:], duration=int(frame_ms), loop=0,
                    disposal=2, optimize=False)
    return path


def write_mp4(frames: Sequence[np.ndarray | Image.Image], path: Path | str, *, fps: float = 12.0,
              boomerang: bool = False, scale: int = 1, crf: int = 18) -> Path:
    """An H.264 MP4 (yuv420p, the format every phone and browser plays) through PyAV, whose wheel carries FFmpeg
    and libx264: nothing is downloaded and no system ffmpeg is needed. H.264 wants even sides, so frames are
    enlarged (nearest-neighbour, crisp pixels) to at least 256 px and padded to an even size. Written to a temp
    file and renamed, like every other export."""
    import av

    pil = [f if isinstance(f, Image.Image) else Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    if not pil:
        raise ValueError("no frames")
    if boomerang and len(pil) > 2:
        pil = pil + pil[-2:0:-1]
    w, h = pil[0].size
    scale = max(int(scale), -(-256 // max(1, min(w, h))))  # small faces: video players blur tiny frames
    width, height = w * scale + (w * scale) % 2, h * scale + (h * scale) % 2
    path = Path(path)
    with atomic_open(path, "wb") as fh:
        with av.open(fh, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=int(round(fps)))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"crf": str(int(crf)), "preset": "medium"}
            for im in pil:
                big = im.convert("RGB").resize((w * scale, h * scale), Image.NEAREST)
                canvas = Image.new("RGB", (width, height))
                canvas.paste(big, (0, 0))
                for packet in stream.encode(av.VideoFrame.from_image(canvas)):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return path
