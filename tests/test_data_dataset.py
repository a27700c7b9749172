"""load_dataset / check_dataset end to end on tiny folders and zips built in tmp_path, plus the cache's promises:
reuse without decoding, and nothing trusted after a cancelled or crashed build."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import faceforge.data.dataset as dataset_mod
from faceforge.config import DataConfig
from faceforge.data import (
    BUILTIN_ATTRIBUTES,
    Cancelled,
    DatasetError,
    check_dataset,
    load_dataset,
    make_builtin,
    read_labels,
    scan,
)
from faceforge.config import source_slug as dataset_name

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CELEBA = SHARED / "celeba-10k"


def make_folder(root: Path, n: int = 12, *, bad: bool = True) -> tuple[Path, np.ndarray]:
    """n small non-square JPEG faces in images/ (two in a sub-folder), a few broken files, and a CelebA-style
    label file; returns (folder, attribute values per good file in sorted-name order)."""
    folder = root / "myfaces" / "images"
    (folder / "sub").mkdir(parents=True)
    imgs, attrs, _ = make_builtin(n, 48, seed=3)
    names = []
    for i in range(n):
        name = f"sub/{i:03d}.jpg" if i >= n - 2 else f"{i:03d}.jpg"
        Image.fromarray(imgs[i][:, 4:44]).save(folder / name, quality=95)  # 40x48
        names.append(name)
    (folder / ".hidden.jpg").write_bytes(b"ignored")
    (folder / "readme.txt").write_text("not an image")
    if bad:
        (folder / "broken.jpg").write_bytes((folder / "000.jpg").read_bytes()[:300])
        (folder / "empty.png").write_bytes(b"")
    lines = [str(n + 2), "Smiling Eyeglasses"]
    for i, name in enumerate(names):
        lines.append(f"{os.path.basename(name)} {1 if attrs[i, 0] > 0 else -1} {1 if attrs[i, 6] > 0 else -1}")
    lines.append("broken.jpg 1 1")
    lines.append("empty.png -1 -1")
    (root / "myfaces" / "list_attr.txt").write_text("\n".join(lines) + "\n")
    return folder, attrs


def cfg_for(folder: Path, **kw) -> DataConfig:
    return DataConfig(source=str(folder), resolution=kw.pop("resolution", 32), **kw)


def entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_folder_load_with_labels(tmp_path):
    folder, attrs = make_folder(tmp_path)
    labels = str(folder.parent / "list_attr.txt")
    cache = tmp_path / "cache"
    calls = []
    ds = load_dataset(cfg_for(folder, labels=labels, attributes=["eyeglasses", "Smiling"]), cache_root=cache,
                      progress=lambda d, t: calls.append((d, t)))
    assert len(ds) == 12 and ds.images.shape == (12, 32, 32, 3) and ds.images.dtype == np.uint8
    assert isinstance(ds.images, np.memmap)
    assert ds.name == "myfaces"  # the folder is literally called images
    assert ds.attributes == ["Eyeglasses", "Smiling"]
    assert ds.files[0] == "000.jpg" and ds.files[-1] == "sub/011.jpg"
    order = [int(Path(f).stem) for f in ds.files]
    np.testing.assert_array_equal(ds.labels[:, 0], np.where(attrs[order, 6] > 0, 1, -1))
    np.testing.assert_array_equal(ds.labels[:, 1], np.where(attrs[order, 0] > 0, 1, -1))
    rep = ds.report
    assert rep.n_found == 14 and rep.n_ok == 12
    assert dict(rep.bad) == {"broken.jpg": "truncated", "empty.png": "empty file"}
    assert rep.sizes == {"width": [40, 40, 40], "height": [48, 48, 48]} and rep.formats == {"JPEG": 12}
    assert any("2 labelled images could not be decoded" in n for n in rep.label_notes)
    assert rep.positive_rates["Eyeglasses"] == pytest.approx((attrs[:, 6] > 0).mean())
    text = rep.summary()
    assert "14 images found, 12 usable" in text and "broken.jpg: truncated" in text and "Eyeglasses" in text
    assert rep.to_dict()["bad"][0] == ["broken.jpg", "truncated"]
    assert calls[0] == (0, 14) and calls[-1] == (14, 14)
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:]))
    # The pixels are the centre square of each file, resized.
    ref = np.asarray(Image.open(folder / "000.jpg").convert("RGB").crop((0, 4, 40, 44)).resize((32, 32)))
    assert np.abs(ds.images[0].astype(int) - ref.astype(int)).mean() < 6


def test_second_load_uses_cache_without_decoding(tmp_path, monkeypatch):
    folder, _ = make_folder(tmp_path)
    cfg = cfg_for(folder)
    first = load_dataset(cfg, cache_root=tmp_path / "c")
    assert not first.report.from_cache

    def boom(*a, **k):
        raise AssertionError("decoded again")

    monkeypatch.setattr(dataset_mod, "decode_image", boom)
    second = load_dataset(cfg, cache_root=tmp_path / "c")
    assert second.report.from_cache
    np.testing.assert_array_equal(first.images, second.images)
    assert second.files == first.files and dict(second.report.bad) == dict(first.report.bad)
    # A changed file changes the key: this load must decode (and therefore hits the patched decoder).
    (folder / "000.jpg").write_bytes((folder / "001.jpg").read_bytes())
    decoded = []
    monkeypatch.setattr(dataset_mod, "decode_image", lambda *a, **k: decoded.append(1) or _real_decode(*a, **k))
    third = load_dataset(cfg, cache_root=tmp_path / "c")
    assert not third.report.from_cache and len(decoded) == 14


_real_decode = dataset_mod.decode_image


def test_resolution_and_crop_are_part_of_the_key(tmp_path):
    folder, _ = make_folder(tmp_path, bad=False)
    a = load_dataset(cfg_for(folder, resolution=32), cache_root=tmp_path / "c")
    b = load_dataset(cfg_for(folder, resolution=16), cache_root=tmp_path / "c")
    c = load_dataset(cfg_for(folder, resolution=32, crop=(0, 0, 20, 20)), cache_root=tmp_path / "c")
    assert a.images.shape[1] == 32 and b.images.shape[1] == 16
    assert not c.report.from_cache and not np.array_equal(a.images, c.images)
    assert len(entries(tmp_path / "c")) == 3


def test_cancel_leaves_nothing_trusted(tmp_path, monkeypatch):
    folder, _ = make_folder(tmp_path, n=40, bad=False)
    monkeypatch.setattr(dataset_mod, "_CHUNK", 4)
    cache = tmp_path / "c"
    polls = []

    def stop_after_two():
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(Cancelled):
        load_dataset(cfg_for(folder), cache_root=cache, should_stop=stop_after_two)
    assert entries(cache) == []  # neither an entry nor a temporary folder
    ds = load_dataset(cfg_for(folder), cache_root=cache)
    assert not ds.report.from_cache and len(ds) == 40


def test_crash_mid_build_leaves_nothing_trusted(tmp_path, monkeypatch):
    folder, _ = make_folder(tmp_path, n=20, bad=False)
    monkeypatch.setattr(dataset_mod, "_CHUNK", 4)
    seen = []

    def dies(data, **kw):
        seen.append(1)
        if len(seen) > 9:
            raise KeyboardInterrupt  # not a BadImageError: aborts the whole build, like a crash
        return _real_decode(data, **kw)

    monkeypatch.setattr(dataset_mod, "decode_image", dies)
    with pytest.raises(KeyboardInterrupt):
        load_dataset(cfg_for(folder), cache_root=tmp_path / "c")
    assert entries(tmp_path / "c") == []
    monkeypatch.setattr(dataset_mod, "decode_image", _real_decode)
    assert not load_dataset(cfg_for(folder), cache_root=tmp_path / "c").report.from_cache


def test_damaged_or_leftover_cache_is_not_trusted(tmp_path):
    folder, _ = make_folder(tmp_path, bad=False)
    cache = tmp_path / "c"
    ds = load_dataset(cfg_for(folder), cache_root=cache)
    entry = ds.cache_folder
    del ds
    with open(entry / "images.npy", "r+b") as fh:  # a truncated array (e.g. copied by hand, disk error)
        fh.truncate(1000)
    again = load_dataset(cfg_for(folder), cache_root=cache)
    assert not again.report.from_cache and again.images.shape == (12, 32, 32, 3)
    # A temporary folder from a dead process is cleaned up by the next build.
    stale = cache / ".building-deadbeef-999999999-abcd1234"
    stale.mkdir()
    (stale / "images.npy").write_bytes(b"partial")
    load_dataset(cfg_for(folder, resolution=16), cache_root=cache)
    assert not stale.exists()


def test_the_cache_drops_the_least_recently_used_dataset_over_its_budget(tmp_path, monkeypatch):
    import os
    import time

    from faceforge.data.cache import evict

    def size(entry):
        return sum(f.stat().st_size for f in entry.iterdir())

    folder, _ = make_folder(tmp_path, bad=False)
    cache = tmp_path / "c"
    a, b, c = (load_dataset(cfg_for(folder, resolution=r), cache_root=cache).cache_folder for r in (16, 24, 32))
    for entry, age in ((a, 100), (b, 200), (c, 300)):
        os.utime(entry / "manifest.json", (time.time() - age,) * 2)
    assert load_dataset(cfg_for(folder, resolution=32), cache_root=cache).report.from_cache  # c: used just now
    assert evict(cache, size(a) + size(c)) == [b]  # b was used longest ago
    assert a.exists() and c.exists()
    # building over budget drops the others, never the entry just built; a dropped one is rebuilt when opened
    monkeypatch.setenv("FACEFORGE_CACHE_BUDGET_GB", "0")
    d = load_dataset(cfg_for(folder, resolution=8), cache_root=cache)
    assert d.cache_folder.exists() and not a.exists() and not c.exists()
    assert not load_dataset(cfg_for(folder, resolution=16), cache_root=cache).report.from_cache


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    folder, _ = make_folder(tmp_path, n=3, bad=False)
    monkeypatch.setenv("FACEFORGE_CACHE_DIR", str(tmp_path / "envcache"))
    ds = load_dataset(cfg_for(folder))
    assert Path(ds.cache_folder).parent == tmp_path / "envcache"


def test_zip_matches_folder(tmp_path):
    folder, _ = make_folder(tmp_path)
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, "images/" + path.relative_to(folder).as_posix())
    labels = str(folder.parent / "list_attr.txt")
    from_dir = load_dataset(cfg_for(folder, labels=labels, attributes=["Smiling"]), cache_root=tmp_path / "c")
    from_zip = load_dataset(cfg_for(archive, labels=labels, attributes=["Smiling"]), cache_root=tmp_path / "c")
    assert from_zip.name == "faces"
    assert from_zip.files == ["images/" + f for f in from_dir.files]
    np.testing.assert_array_equal(from_zip.images, from_dir.images)
    np.testing.assert_array_equal(from_zip.labels, from_dir.labels)
    assert load_dataset(cfg_for(archive, labels=labels, attributes=["Smiling"]),
                        cache_root=tmp_path / "c").report.from_cache


def test_hostile_zip_writes_nothing_outside(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    jpeg = (make_folder(tmp_path / "src", n=3, bad=False)[0] / "000.jpg").read_bytes()
    archive = work / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape.jpg", jpeg)
        zf.writestr("/etc/absolute.jpg", jpeg)
        zf.writestr("a/../../../up.jpg", jpeg)
        zf.writestr("C:\\windows\\drive.jpg", jpeg)
        zf.writestr("fine/ok.jpg", jpeg)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    cwd_before = sorted(os.listdir(os.getcwd()))
    refs = scan(archive)
    assert [r.name for r in refs] == ["escape.jpg", "etc/absolute.jpg", "fine/ok.jpg", "up.jpg", "windows/drive.jpg"]
    ds = load_dataset(cfg_for(archive), cache_root=work / "cache")
    assert len(ds) == 5 and ds.report.bad == []
    after = sorted(str(p) for p in tmp_path.rglob("*") if "cache" not in p.parts)
    assert after == before and sorted(os.listdir(os.getcwd())) == cwd_before
    assert not Path("/etc/absolute.jpg").exists()


def test_scan_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        scan(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images found .* empty"):
        scan(tmp_path / "empty")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.tif").write_bytes(b"x")
    with pytest.raises(DatasetError, match=r"1 \.tif files"):
        scan(tmp_path / "docs")
    (tmp_path / "fake.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DatasetError, match="not a valid zip"):
        scan(tmp_path / "fake.zip")
    Image.new("RGB", (10, 10)).save(tmp_path / "one.png")
    with pytest.raises(DatasetError, match="single image"):
        scan(tmp_path / "one.png")


def test_scan_sorted_case_insensitive_extensions(tmp_path):
    for name in ("b.JPG", "a.png", "c.Jpeg", "z/y.webp", "z/.x.gif", ".git/q.png", "d.bmp", "e.GIF", "f.txt"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    assert [r.name for r in scan(tmp_path)] == ["a.png", "b.JPG", "c.Jpeg", "d.bmp", "e.GIF", "z/y.webp"]
    ref = scan(tmp_path)[0]
    assert ref.size == 1 and ref.read_bytes() == b"x" and ref.container is None


def test_labels_mismatch_message_and_no_match(tmp_path):
    folder, _ = make_folder(tmp_path, bad=False)
    (folder.parent / "few.csv").write_text("filename,Smiling\n000.jpg,1\n001.jpg,0\nghost.jpg,1\n")
    ds = load_dataset(cfg_for(folder, labels=str(folder.parent / "few.csv"), attributes=["smiling"]),
                      cache_root=tmp_path / "c")
    assert ds.files == ["000.jpg", "001.jpg"] and ds.labels[:, 0].tolist() == [1, -1]
    notes = " | ".join(ds.report.label_notes)
    assert "10 of 12 images have no label row" in notes and "1 of 3 label rows have no image: ghost.jpg" in notes
    (folder.parent / "none.csv").write_text("filename,Smiling\ncat.jpg,1\n")
    with pytest.raises(DatasetError, match="none of the 1 label rows"):
        load_dataset(cfg_for(folder, labels=str(folder.parent / "none.csv"), attributes=["Smiling"]),
                     cache_root=tmp_path / "c")
    with pytest.raises(DatasetError, match="did you mean 'Smiling'"):
        load_dataset(cfg_for(folder, labels=str(folder.parent / "few.csv"), attributes=["Smilling"]),
                     cache_root=tmp_path / "c")
    with pytest.raises(DatasetError, match="no labels file"):
        load_dataset(cfg_for(folder, attributes=["Smiling"]), cache_root=tmp_path / "c")


def test_all_images_bad(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.jpg").write_text("nope")
    with pytest.raises(DatasetError, match="none of the 3 images"):
        load_dataset(cfg_for(folder), cache_root=tmp_path / "c")
    assert entries(tmp_path / "c") == []


def test_builtin_dataset(tmp_path, monkeypatch):
    cfg = DataConfig(builtin_count=40, resolution=32, builtin_seed=5, attributes=["glasses", "SMILE"])
    ds = load_dataset(cfg, cache_root=tmp_path)
    imgs, attrs, names = make_builtin(40, 32, 5)
    np.testing.assert_array_equal(ds.images, imgs)
    assert ds.attributes == ["glasses", "smile"] and ds.name == "builtin-faces" and ds.files is None
    np.testing.assert_array_equal(ds.labels, attrs[:, [6, 0]])
    assert ds.report.positive_rates["glasses"] == pytest.approx((attrs[:, 6] > 0).mean())
    monkeypatch.setattr(dataset_mod, "iter_render", None)  # must not render again
    again = load_dataset(cfg.replace(attributes=["*"]), cache_root=tmp_path)
    assert again.report.from_cache and again.attributes == BUILTIN_ATTRIBUTES and again.labels.shape == (40, 8)
    assert load_dataset(cfg.replace(attributes=[]), cache_root=tmp_path).labels is None
    with pytest.raises(DatasetError, match="unknown attribute 'smiling'"):
        load_dataset(cfg.replace(attributes=["smiling"]), cache_root=tmp_path)


def test_builtin_cancel(tmp_path, monkeypatch):
    with pytest.raises(Cancelled):
        load_dataset(DataConfig(builtin_count=600, resolution=32), cache_root=tmp_path, should_stop=lambda: True)
    assert entries(tmp_path) == []


def test_dataset_names():
    assert dataset_name("builtin:faces") == "builtin-faces"
    assert dataset_name("/data/celeba-10k/images") == "celeba-10k"
    assert dataset_name("/data/CelebA/img_align_celeba") == "celeba"
    assert dataset_name("/data/My Faces!") == "my-faces"
    assert dataset_name("/dl/ffhq thumbs.zip") == "ffhq-thumbs"


def test_check_dataset(tmp_path):
    folder, attrs = make_folder(tmp_path)
    seen = []
    rep = check_dataset(str(folder), str(folder.parent / "list_attr.txt"), progress=lambda d, t: seen.append(d))
    assert rep.n_found == 14 and rep.n_ok == 12 and len(rep.bad) == 2
    assert rep.formats == {"JPEG": 12} and rep.sizes["width"] == [40, 40, 40]
    assert rep.positive_rates["Smiling"] == pytest.approx((attrs[:, 0] > 0).mean())
    assert any("12 usable images have labels" in n for n in rep.label_notes)
    assert seen[-1] == 14
    with pytest.raises(Cancelled):
        check_dataset(str(folder), should_stop=lambda: True)
    builtin = check_dataset("builtin:faces")
    assert builtin.n_ok == DataConfig().builtin_count and 0.25 < builtin.positive_rates["glasses"] < 0.35


@pytest.mark.skipif(not CELEBA.is_dir(), reason="../shared/data/celeba-10k not present")
def test_celeba_subset_rates(tmp_path):
    table = read_labels(CELEBA / "list_attr_celeba.txt")
    assert len(table) == 10000
    for name, rate in (("Smiling", 0.48), ("Male", 0.42), ("Eyeglasses", 0.067)):
        assert (table.values[:, table.names.index(name)] > 0).mean() == pytest.approx(rate, abs=0.01)
    # A 200-image slice (every 50th) with a trimmed label file, to keep the test fast.
    folder = tmp_path / "celeba-200" / "img_align_celeba"
    folder.mkdir(parents=True)
    picked = table.filenames[::50]
    for name in picked:
        shutil.copyfile(CELEBA / "images" / name, folder / name)
    text = (CELEBA / "list_attr_celeba.txt").read_text().splitlines()
    keep = set(picked)
    rows = [ln for ln in text[2:] if ln.split()[0] in keep]
    (tmp_path / "attrs.txt").write_text("\n".join([str(len(rows)), text[1], *rows]) + "\n")
    cfg = DataConfig(source=str(folder), labels=str(tmp_path / "attrs.txt"),
                     attributes=["Smiling", "Male", "Eyeglasses"], resolution=64)
    ds = load_dataset(cfg, cache_root=tmp_path / "c")
    assert len(ds) == 200 and ds.name == "celeba-200" and ds.images.shape == (200, 64, 64, 3)
    rates = ds.report.positive_rates
    assert rates["Smiling"] == pytest.approx(0.48, abs=0.12)
    assert rates["Male"] == pytest.approx(0.42, abs=0.12)
    assert 0.0 < rates["Eyeglasses"] < 0.16
    assert ds.report.label_notes == [] and ds.report.bad == []
    assert 60 < ds.images.mean() < 200  # real pictures, not blank


def test_data_layer_imports_neither_torch_nor_qt():
    import subprocess
    import sys

    code = ("import sys, faceforge.data; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'PySide6', 'pyqtgraph')]; print(bad); sys.exit(1 if bad else 0)")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
