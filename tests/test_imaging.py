"""Exports people share: PNG, GIF and MP4 (H.264) written atomically, and readable by ordinary players."""
import numpy as np

from faceforge.imaging import make_grid, write_gif, write_mp4, write_png


def test_mp4_export_is_h264_that_decodes_to_the_frames(tmp_path):
    import av

    frames = [np.full((32, 32, 3), (i * 25, 255 - i * 25, 60), np.uint8) for i in range(8)]
    path = write_mp4(frames, tmp_path / "lapse.mp4", fps=8, boomerang=True)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (256, 256)
    assert len(decoded) == 8 + 6  # forward, then back without repeating the ends
    for i, frame in enumerate(decoded[:8]):
        assert np.abs(frame[128, 128].astype(int) - frames[i][0, 0]).max() < 12  # lossy, but the same colours
    assert not list(tmp_path.glob(".*tmp"))


def test_odd_sizes_are_padded_for_h264(tmp_path):
    import av

    path = write_mp4([np.zeros((45, 67, 3), np.uint8)] * 2, tmp_path / "odd.mp4")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.width % 2 == 0 and stream.height % 2 == 0 and stream.height >= 256


def test_png_and_gif_round_trip(tmp_path):
    from PIL import Image

    grid = make_grid(np.stack([np.full((8, 8, 3), v, np.uint8) for v in (10, 200, 90)]), ncols=3)
    with Image.open(write_png(tmp_path / "g.png", grid)) as im:
        assert np.array_equal(np.asarray(im), grid)
    with Image.open(write_gif([grid, grid[:, ::-1]], tmp_path / "g.gif", frame_ms=50)) as im:
        assert im.n_frames == 2
