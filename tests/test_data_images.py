"""A corpus of the awkward files real folders contain: each must decode to RGB or fail with a short reason."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceforge.data.images import BadImageError, crop_and_resize, decode_image, thumbnail
from faceforge.data.sources import ImageRef


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient(w: int = 64, h: int = 48) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], -1).astype(np.uint8))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(w: int, h: int) -> bytes:
    """A few hundred bytes claiming a w x h picture: what a decompression bomb looks like to the header reader."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + png_chunk(b"IEND", b""))


def reason(data, **kw) -> str:
    with pytest.raises(BadImageError) as info:
        decode_image(data, **kw)
    assert isinstance(info.value, ValueError)
    return info.value.reason


def test_plain_rgb_jpeg_and_png(tmp_path):
    img = gradient()
    for fmt in ("JPEG", "PNG", "BMP"):
        out = decode_image(encode(img, fmt))
        assert out.mode == "RGB" and out.size == (64, 48)
        assert out.info["faceforge_format"] == fmt
    path = tmp_path / "a.png"
    img.save(path)
    assert decode_image(path).size == (64, 48)
    assert decode_image(str(path)).size == (64, 48)


def test_truncated_jpeg():
    data = encode(gradient(200, 200), "JPEG", quality=95)
    assert reason(data[: len(data) // 2]) == "truncated"


def test_truncated_png():
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)), "PNG")
    why = reason(data[: len(data) // 2])
    assert why == "truncated" or why.startswith("corrupt")


def test_empty_and_not_an_image(tmp_path):
    assert reason(b"") == "empty file"
    (tmp_path / "zero.jpg").write_bytes(b"")
    assert reason(tmp_path / "zero.jpg") == "empty file"
    (tmp_path / "notes.jpg").write_text("this is not a picture\n" * 20)
    assert reason(tmp_path / "notes.jpg") == "not an image"
    assert reason(b"\xff\xd8\xff" + b"garbage" * 10)  # looks like a JPEG, is not: some short reason
    assert reason(tmp_path / "missing.jpg") == "file not found"


def test_cmyk_jpeg():
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # pure red in print colours
    out = decode_image(encode(cmyk, "JPEG", quality=95))
    r, g, b = np.asarray(out).reshape(-1, 3).mean(0)
    assert out.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_16_bit_png_scaled_not_clipped():
    arr = np.full((16, 16), 32768, np.uint16)
    arr[:8] = 65535
    out = np.asarray(decode_image(encode(Image.fromarray(arr), "PNG")))
    assert out.shape == (16, 16, 3)
    assert abs(int(out[0, 0, 0]) - 255) <= 1 and abs(int(out[-1, 0, 0]) - 128) <= 1


def test_32_bit_integer_image():
    arr = (np.arange(256, dtype=np.int32).reshape(16, 16) * 257)
    out = np.asarray(decode_image(encode(Image.fromarray(arr, "I"), "TIFF")))  # PNG cannot hold mode I
    assert out.shape == (16, 16, 3) and out.max() >= 250 and out.min() <= 5


def test_palette_with_transparency_goes_on_white():
    p = Image.new("P", (16, 16), 0)
    p.putpalette([0, 0, 0] + [255, 0, 0] * 255)
    p.paste(1, (0, 0, 8, 16))  # left half red, right half index 0 = transparent black
    data = encode(p, "PNG", transparency=0)
    out = np.asarray(decode_image(data))
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[0, 15]) == (255, 255, 255)
    grey = np.asarray(decode_image(data, background=(128, 128, 128)))
    assert tuple(grey[0, 15]) == (128, 128, 128)


def test_greyscale_and_rgba():
    out = decode_image(encode(Image.new("L", (16, 16), 100), "PNG"))
    assert out.mode == "RGB" and tuple(np.asarray(out)[0, 0]) == (100, 100, 100)
    rgba = Image.new("RGBA", (16, 16), (0, 0, 255, 128))
    px = np.asarray(decode_image(encode(rgba, "PNG")))[0, 0]
    assert px[2] == 255 and 120 < px[0] < 135  # half blue over white
    la = Image.new("LA", (16, 16), (0, 0))
    assert tuple(np.asarray(decode_image(encode(la, "PNG")))[0, 0]) == (255, 255, 255)


def test_animated_gif_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    px = np.asarray(decode_image(data))[8, 8]
    assert px[0] > 200 and px[1] < 50 and px[2] < 50


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 10, 20))  # red strip on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = decode_image(encode(img, "JPEG", quality=95, exif=exif.tobytes()))
    assert out.size == (20, 40)  # portrait now
    arr = np.asarray(out)
    assert arr[2, 10, 0] > 200 and arr[2, 10, 2] < 60  # the left strip is now on top
    assert arr[-3, 10, 2] > 200
    assert out.info["faceforge_original_size"] == (20, 40)


def test_tiny_image_rejected():
    assert reason(encode(Image.new("RGB", (4, 4)), "PNG")) == "too small (4x4)"
    assert reason(encode(Image.new("RGB", (100, 7)), "PNG")) == "too small (100x7)"


def test_decompression_bombs():
    assert reason(bomb_png(100_000, 100_000)).startswith("too large")
    assert reason(bomb_png(9000, 9000)) == "too large (81 megapixels)"
    assert reason(encode(gradient(100, 100), "PNG"), max_pixels=5000).startswith("too large (0.01 megapixels")


def test_draft_mode_decodes_jpeg_small():
    data = encode(gradient(800, 600), "JPEG", quality=90)
    out = decode_image(data, target=64)
    assert min(out.size) >= 64 and out.size[0] <= 200  # 1/8 scale: 100x75
    assert out.info["faceforge_original_size"] == (800, 600)
    assert decode_image(data, target=64, draft=False).size == (800, 600)


def test_crop_and_resize_centre_square():
    img = Image.new("RGB", (90, 30), (0, 0, 255))
    img.paste((255, 0, 0), (30, 0, 60, 30))  # the centre square is red
    out = crop_and_resize(img, 16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert (out[..., 0] > 200).all() and (out[..., 2] < 60).all()


def test_crop_box_respects_draft_scaling():
    img = Image.new("RGB", (800, 800), (255, 0, 0))
    img.paste((0, 0, 255), (400, 0, 800, 400))  # top-right quadrant blue
    data = encode(img, "JPEG", quality=95)
    crop = (400, 0, 800, 400)
    decoded = decode_image(data, target=32, crop=crop)
    assert decoded.size[0] < 800  # the draft was used ...
    out = crop_and_resize(decoded, 32, crop=crop)  # ... and the crop still lands on the blue quadrant
    assert out[2:-2, 2:-2, 2].min() > 200 and out[2:-2, 2:-2, 0].max() < 60
    with pytest.raises(BadImageError, match="crop box outside"):
        crop_and_resize(decode_image(data), 32, crop=(900, 900, 1000, 1000))


def test_thumbnail_from_ref(tmp_path):
    gradient(120, 90).save(tmp_path / "face.jpg")
    ref = ImageRef(None, "face.jpg", (tmp_path / "face.jpg").stat().st_size, root=str(tmp_path))
    t = thumbnail(ref, 24)
    assert t.shape == (24, 24, 3) and t.dtype == np.uint8
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    with pytest.raises(BadImageError):
        thumbnail(ImageRef(None, "bad.jpg", 4, root=str(tmp_path)), 24)


@pytest.mark.skipif(not __import__("PIL.features").features.check("webp"), reason="Pillow without WebP")
def test_webp():
    assert decode_image(encode(gradient(), "WEBP")).size == (64, 48)


def test_decoding_never_raises_anything_else():
    rng = np.random.default_rng(0)
    good = encode(gradient(), "JPEG")
    for i in range(60):  # corrupt bytes at random places: always RGB or BadImageError
        data = bytearray(good)
        for pos in rng.integers(0, len(data), size=5):
            data[pos] = int(rng.integers(0, 256))
        try:
            assert decode_image(bytes(data)).mode == "RGB"
        except BadImageError:
            pass


def test_path_objects_accepted(tmp_path: Path):
    gradient().save(tmp_path / "x.bmp")
    assert decode_image(tmp_path / "x.bmp").info["faceforge_format"] == "BMP"
