"""Build FaceForge's double-clickable bundle for this OS, from a fresh clone, in one command:

    python installers/build.py

1. makes a clean venv (build/installers/venv) and installs FaceForge into it with the repository's constraints
   (the CPU build of torch where the machine offers it) and PyInstaller; refuses a CUDA torch: the bundle is CPU-only
2. runs PyInstaller on installers/faceforge.spec: one folder (onedir), pruned (the spec says what goes and why)
3. refuses the result if it holds model weights or anything from ../shared
4. packs it: Linux a .tar.gz with a .desktop file, the icon and an installer for the menu entry; Windows an Inno
   Setup installer (per user, Start-menu entry); macOS FaceForge.app in a .dmg
5. prints the sizes (unpacked, packed, the largest parts, what was dropped) and writes them to dist/bundle-report.txt

Options: --venv DIR / --reuse-venv (keep an existing venv), --python EXE (the interpreter the venv is made
from), --no-pack (stop after PyInstaller), --out DIR (default dist/), --clean-after (delete the venv and the work
folders when done, as CI does). Only the standard library is used here, so
any Python 3.10+ runs it; the build itself happens in the venv.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "installers" / "faceforge.spec"
PYINSTALLER = "pyinstaller>=6.10,<7"
WEIGHT_SUFFIXES = (".pt", ".pth", ".ptl", ".ckpt", ".safetensors", ".onnx", ".npz", ".h5")
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(cmd: list, **kwargs) -> None:
    log(" ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_venv(venv: Path, python: str, reuse: bool) -> Path:
    py = venv_python(venv)
    if reuse and py.exists():
        log(f"reusing {venv}")
    else:
        if venv.exists():
            shutil.rmtree(venv)
        run([python, "-m", "venv", venv])
        # not editable: the bundle must take FaceForge from site-packages, exactly as a user's install would
        # --no-compile: PyInstaller compiles what it bundles itself; the venv's own .pyc would be 225 MB more disk
        run([py, "-m", "pip", "install", "-q", "--no-compile", "-c", ROOT / "constraints.txt", ROOT, PYINSTALLER])
    check_cpu_torch(py)
    return py


def check_cpu_torch(py: Path) -> None:
    """The bundle is CPU-only: a CUDA torch would add gigabytes and work on fewer machines than it claims."""
    out = subprocess.run([str(py), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
                         check=True, capture_output=True, text=True).stdout.split()
    version, cuda = out[0], out[1]
    if cuda != "None":
        sys.exit(f"[build] the venv has torch {version} built for CUDA {cuda}; the bundle is CPU-only. Install the "
                 "CPU build first, e.g. pip install torch --index-url https://download.pytorch.org/whl/cpu, "
                 "and run again with --reuse-venv.")
    log(f"torch {version} (CPU build)")


def faceforge_version(py: Path) -> str:
    return subprocess.run([str(py), "-c", "import faceforge; print(faceforge.__version__)"], check=True,
                          capture_output=True, text=True).stdout.strip()


def make_icon(py: Path, work: Path) -> Path | None:
    """Windows wants .ico, macOS .icns: made from the packaged PNG sizes with Pillow (in the venv)."""
    suffix = {"win32": ".ico", "darwin": ".icns"}.get(sys.platform)
    if suffix is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    icon = work / f"faceforge{suffix}"
    pngs = [str(ROOT / "faceforge" / "resources" / f"faceforge-{s}.png") for s in ICON_SIZES]
    code = ("import sys; from PIL import Image; imgs=[Image.open(p).convert('RGBA') for p in sys.argv[2:]]; "
            "imgs[-1].save(sys.argv[1], append_images=imgs[:-1], sizes=[i.size for i in imgs])")
    run([py, "-c", code, icon, *pngs])
    return icon


def pyinstaller(py: Path, build: Path, version: str, icon: Path | None) -> Path:
    env = dict(os.environ, FACEFORGE_VERSION=version, FACEFORGE_BUNDLE_DROPPED=str(build / "dropped.txt"))
    if icon is not None:
        env["FACEFORGE_BUNDLE_ICON"] = str(icon)
    dist = build / "dist"
    run([py, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN", "--distpath", dist,
         "--workpath", build / "work", SPEC], env=env, cwd=ROOT)
    return dist / ("FaceForge.app" if sys.platform == "darwin" else
                   "FaceForge" if sys.platform == "win32" else "faceforge")


def check_contents(bundle: Path) -> None:
    """Never ship weights or data from ../shared (CelebA is for non-commercial research only)."""
    shared = (ROOT.parent / "shared").resolve()
    bad = []
    for path in bundle.rglob("*"):
        if path.suffix.lower() in WEIGHT_SUFFIXES:
            bad.append(f"{path.relative_to(bundle)} (looks like weights or arrays)")
        elif path.is_symlink() and shared in path.resolve().parents:
            bad.append(f"{path.relative_to(bundle)} (points into {shared})")
    if bad:
        sys.exit("[build] refusing the bundle, it holds:\n  " + "\n  ".join(bad))


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine, machine)


def pack_linux(bundle: Path, out: Path, version: str) -> Path:
    """faceforge-VERSION-linux-ARCH.tar.gz: the onedir plus a .desktop file, the icon and a script that puts both
    in the user's menu (a .desktop file needs the absolute path, known only where the folder was unpacked)."""
    desktop = (ROOT / "resources" / "faceforge.desktop").read_text(encoding="utf-8")
    (bundle / "faceforge.desktop").write_text(desktop, encoding="utf-8")
    shutil.copy2(ROOT / "faceforge" / "resources" / "faceforge-256.png", bundle / "faceforge.png")
    shutil.copy2(ROOT / "faceforge" / "resources" / "faceforge.svg", bundle / "faceforge.svg")
    script = bundle / "install-desktop-entry.sh"
    shutil.copy2(ROOT / "installers" / "linux" / "install-desktop-entry.sh", script)
    script.chmod(0o755)
    top = f"faceforge-{version}"
    archive = out / f"{top}-linux-{arch()}.tar.gz"
    log(f"packing {archive.name}")
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top)
    return archive


def pack_windows(bundle: Path, out: Path, version: str, icon: Path | None, iscc: str | None) -> Path:
    iscc = iscc or shutil.which("iscc") or next(
        (str(p) for p in (Path(os.environ.get(v, "")) / "Inno Setup 6" / "ISCC.exe"
                          for v in ("ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA")) if p.is_file()), None)
    if iscc is None:
        sys.exit("[build] Inno Setup 6 not found: install it (winget install JRSoftware.InnoSetup) or pass --iscc "
                 f"PATH\\ISCC.exe. The bundle itself is ready in {bundle}.")
    run([iscc, f"/DAppVersion={version}", f"/DSourceDir={bundle}", f"/DOutputDir={out}",
         f"/DIconFile={icon}", ROOT / "installers" / "windows" / "faceforge.iss"])
    return out / f"FaceForge-{version}-windows-setup.exe"


def pack_macos(app: Path, out: Path, version: str) -> Path:
    dmg = out / f"FaceForge-{version}-macos-{arch()}.dmg"
    stage = app.parent / "dmg"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    shutil.copytree(app, stage / app.name, symlinks=True)
    (stage / "Applications").symlink_to("/Applications")  # drag the app onto it to install
    if dmg.exists():
        dmg.unlink()
    run(["hdiutil", "create", "-volname", f"FaceForge {version}", "-srcfolder", stage, "-ov", "-format", "UDZO",
         dmg])
    return dmg


def dropped_stats(build: Path) -> tuple[int, int]:
    """How many files the spec dropped and their bytes (read from the venv, so before --clean-after)."""
    dropped = build / "dropped.txt"
    count, size = 0, 0
    if dropped.exists():
        for line in dropped.read_text(encoding="utf-8").splitlines():
            src = Path(line.split("\t")[1])
            if src.is_file():
                size += src.stat().st_size
                count += 1
    return count, size


def report(bundle: Path, archive: Path | None, build: Path, seconds: float, out: Path,
           dropped: tuple[int, int], peak_disk: int) -> None:
    size = tree_size(bundle)
    parts: dict[str, int] = {}
    inner = next((p for p in (bundle / "_internal", bundle / "Contents" / "Frameworks") if p.is_dir()), bundle)
    for child in inner.iterdir():
        if child.is_symlink():  # PyInstaller links some libraries to the top: counted where they are
            continue
        parts[child.name] = tree_size(child) if child.is_dir() else child.stat().st_size
    lines = [f"bundle: {bundle}", f"unpacked: {size / 1e6:,.0f} MB ({size:,} bytes)"]
    if archive is not None:
        lines.append(f"packed: {archive.stat().st_size / 1e6:,.0f} MB ({archive.name})")
    lines.append(f"dropped by the spec: {dropped[0]} files, {dropped[1] / 1e6:,.0f} MB (list: {build / 'dropped.txt'})")
    lines.append(f"build time: {seconds:.0f} s; disk at its peak (venv, work folder and bundle): "
                 f"{peak_disk / 1e6:,.0f} MB, plus the archive")
    lines.append("largest parts:")
    for name, n in sorted(parts.items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"  {n / 1e6:8,.1f} MB  {name}")
    text = "\n".join(lines)
    print(text, flush=True)
    (out / "bundle-report.txt").write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Build FaceForge's bundle and installer for this OS.")
    p.add_argument("--venv", type=Path, default=ROOT / "build" / "installers" / "venv")
    p.add_argument("--reuse-venv", action="store_true", help="keep the venv if it exists (faster rebuilds)")
    p.add_argument("--python", default=sys.executable, help="the interpreter the venv is made from")
    p.add_argument("--out", type=Path, default=ROOT / "dist", help="where the archive or installer goes")
    p.add_argument("--no-pack", action="store_true", help="stop after PyInstaller (the onedir folder)")
    p.add_argument("--iscc", help="Windows: the Inno Setup compiler, ISCC.exe")
    p.add_argument("--clean-after", action="store_true",
                   help="delete the venv and PyInstaller's work folder once the bundle is made, and the bundle "
                        "folder once it is packed (CI: keeps the disk used near the archive's size)")
    args = p.parse_args(argv)
    started = time.monotonic()
    build = ROOT / "build" / "installers"
    build.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    py = make_venv(args.venv.resolve(), args.python, args.reuse_venv)
    version = faceforge_version(py)
    if not re.fullmatch(r"[0-9A-Za-z.+-]+", version):
        sys.exit(f"[build] unexpected version {version!r}")
    icon = make_icon(py, build / "icons")
    bundle = pyinstaller(py, build, version, icon)
    check_contents(bundle)
    dropped = dropped_stats(build)
    peak_disk = sum(tree_size(d) for d in (args.venv.resolve(), build / "work", bundle.parent) if d.exists())
    if args.clean_after:
        shutil.rmtree(args.venv.resolve(), ignore_errors=True)
        shutil.rmtree(build / "work", ignore_errors=True)
    archive = None
    if not args.no_pack:
        if sys.platform.startswith("linux"):
            archive = pack_linux(bundle, args.out, version)
        elif sys.platform == "win32":
            archive = pack_windows(bundle, args.out, version, icon, args.iscc)
        elif sys.platform == "darwin":
            archive = pack_macos(bundle, args.out, version)
        else:
            log(f"no installer format for {sys.platform}; the bundle is {bundle}")
    report(bundle, archive, build, time.monotonic() - started, args.out, dropped, peak_disk)
    if args.clean_after and archive is not None:
        shutil.rmtree(bundle.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
