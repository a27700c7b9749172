"""``faceforge --self-test``: "is my install fine?" for a person, and the bundle's smoke test in CI.

It opens the window (offscreen, so it runs anywhere: a desktop, a server, CI) and waits for the built-in faces,
then, without Qt, trains a tiny model on the built-in faces for a few steps, samples faces, edits one, copies a
checkpoint and checks the copy draws the same pixels, exports PNG, GIF and MP4, loads the photo tools' face detector,
and resumes the run from its checkpoint. Each check prints
one line, ``ok`` or ``FAIL`` with what went wrong; the exit status is 0 only when every check passed.

Everything it writes goes into a temporary folder (or ``--self-test-out DIR``), and the cache, settings, logs and
runs folders point there while it runs, so the user's own settings and runs are never touched. The window part
lives in ``faceforge/gui/selftest.py`` (the only place Qt may be imported); the checks here are Qt-free, and are in
the command line because they reach both training and editing, which only the top layer may import together.
"""
from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

#: the tiny run the self-test trains: the built-in faces, the default model, a few steps (seconds on a laptop CPU)
STEPS = 6
RESUMED_STEPS = 8


class SelfTestFailure(Exception):
    """A check found something wrong; the message says what."""


ISOLATED = {f"FACEFORGE_{name}_DIR": name.lower() for name in ("CACHE", "CONFIG", "LOG", "RUNS")}


def _isolate(work: Path) -> dict[str, str | None]:
    """Point every FaceForge folder into ``work`` and force the offscreen Qt platform (before Qt loads); returns
    what the variables were, for ``_restore``."""
    saved = {key: os.environ.get(key) for key in (*ISOLATED, "QT_QPA_PLATFORM")}
    for key, folder in ISOLATED.items():
        os.environ[key] = str(work / folder)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return saved


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def tiny_config():
    """The quick-look plan shrunk to seconds: fewer faces, narrow networks, no timing probes or quality scores."""
    from faceforge.training.plans import quick_look_config

    cfg = quick_look_config()
    cfg.data.builtin_count = 256
    cfg.model.g_channels = cfg.model.d_channels = 16
    cfg.model.z_dim = 32
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.grid_size = STEPS, 16, 2, 3, 3, 16
    s.metrics_every = 0
    cfg.perf.precision, cfg.perf.channels_last = "fp32", False
    cfg.perf.gemm_layers = []
    cfg.perf.adapt_threads = False
    return cfg


def check_train(state: dict) -> str:
    import math

    from faceforge.runs import Run
    from faceforge.training import start_run

    result = start_run(tiny_config(), run_dir=state["work"] / "run")
    if result.state != "finished" or result.step != STEPS:
        raise SelfTestFailure(f"training ended {result.state} at step {result.step}: {result.message}")
    run = Run(result.run_dir)
    losses = [row["loss_g"] for row in run.stats() if "loss_g" in row]
    if not losses or not all(math.isfinite(v) for v in losses):
        raise SelfTestFailure(f"generator losses are missing or not finite: {losses}")
    if run.latest_checkpoint() is None:
        raise SelfTestFailure("no checkpoint was written")
    state["run"] = run
    return f"{STEPS} steps of {result.config.model.name} at {result.config.model.resolution} px on the built-in faces"


def _varied(images, what: str) -> None:

    # a few steps move G_ema (what sampling draws) only a little off its start, a near-grey face: so the check
    # is that the pixels vary at all, which a broken network or an all-NaN output (drawn as 0) does not
    if images.size == 0 or int(images.max()) == int(images.min()):
        raise SelfTestFailure(f"{what} are blank: every pixel is {int(images.max()) if images.size else '-'}")


def check_sample(state: dict) -> str:
    from faceforge.editing.generator import LoadedGenerator

    gen = LoadedGenerator.from_run(state["run"])
    images, z, y = gen.sample(n=4, seed=7)
    if images.shape[0] != 4 or images.shape[-1] != 3:
        raise SelfTestFailure(f"expected 4 RGB faces, got an array of shape {images.shape}")
    _varied(images, "sampled faces")
    state.update(gen=gen, images=images, z=z, y=y)
    return f"4 faces of {images.shape[1]}x{images.shape[2]} px"


def check_edit(state: dict) -> str:
    import numpy as np

    gen = state["gen"]
    if not gen.attributes:
        raise SelfTestFailure("the built-in run has no attributes to edit")
    name = gen.attributes[0]
    low, high = gen.scale(name).slider_range()
    z = state["z"][:1]
    faces = [gen.images(z, gen.make_y(1, {name: value})) for value in (low, high)]
    change = float(np.abs(faces[0].astype(np.float32) - faces[1].astype(np.float32)).mean())
    if change == 0.0:
        raise SelfTestFailure(f"setting {name} from {low:g} to {high:g} left the face unchanged")
    return f"{name} {low:g} -> {high:g} changed the face by {change:.1f} grey levels on average"


def check_checkpoint(state: dict) -> str:
    import numpy as np

    from faceforge.checkpoints import load_checkpoint, save_checkpoint
    from faceforge.editing.generator import LoadedGenerator

    copy = state["work"] / "copy.pt"
    save_checkpoint(copy, load_checkpoint(state["run"].latest_checkpoint()))
    again = LoadedGenerator.from_checkpoint(copy).images(state["z"], state["y"])
    if not np.array_equal(again, state["images"]):
        raise SelfTestFailure("a checkpoint written and read back draws different faces")
    return f"{copy.stat().st_size / 1e6:.1f} MB written, read back, same pixels"


def check_export(state: dict) -> str:
    """PNG, GIF and MP4 of the sampled faces: Pillow's codecs and PyAV's FFmpeg with libx264 are in the install."""
    from faceforge.imaging import write_gif, write_mp4, write_png

    work, frames = state["work"], list(state["images"])
    files = [write_png(work / "faces.png", frames[0]), write_gif(frames, work / "faces.gif"),
             write_mp4(frames, work / "faces.mp4")]
    empty = [f.name for f in files if f.stat().st_size == 0]
    if empty:
        raise SelfTestFailure(f"empty export files: {', '.join(empty)}")
    return ", ".join(f"{f.suffix[1:].upper()} {f.stat().st_size / 1e3:.0f} kB" for f in files)


def check_photo_tools(state: dict) -> str:
    """Photo editing finds faces with OpenCV's Haar cascades, data files a bundle must carry along with cv2."""
    import numpy as np

    from faceforge.editing.align import detect_faces

    found = detect_faces(np.full((96, 96, 3), 128, np.uint8))
    return f"OpenCV's face detector loaded (found {len(found)} faces in a grey square)"


def check_resume(state: dict) -> str:
    from faceforge.training import resume_run

    result = resume_run(state["run"].path, steps=RESUMED_STEPS)
    if result.state != "finished" or result.step != RESUMED_STEPS:
        raise SelfTestFailure(f"resuming ended {result.state} at step {result.step}: {result.message}")
    return f"resumed from the checkpoint to step {RESUMED_STEPS}"


def check_window(state: dict) -> str:
    from faceforge.gui.app import self_test_window

    shot = state["work"] / "window.png" if state.get("keep") else None
    timings = self_test_window(screenshot=shot)
    state["timings"] = timings
    return (f"window shown {timings['window_shown_s']:.2f} s after the process started, built-in faces shown at "
            f"{timings['dataset_shown_s']:.2f} s" + (f"; screenshot {shot}" if shot else ""))


CHECKS: list[tuple[str, Callable[[dict], str]]] = [
    ("window", check_window), ("train", check_train), ("sample", check_sample), ("edit", check_edit),
    ("checkpoint", check_checkpoint), ("export", check_export), ("photo tools", check_photo_tools),
    ("resume", check_resume),
]
#: which checks need which: a failed check skips those that depend on it
NEEDS = {"sample": "train", "edit": "sample", "checkpoint": "sample", "export": "sample", "resume": "train"}


def run_self_test(*, out: Path | None = None, print_fn: Callable[[str], None] = print) -> int:
    """Run every check, print one line each; 0 when all passed, 1 otherwise."""
    from faceforge.frozen import process_age_s

    started = process_age_s()
    with tempfile.TemporaryDirectory(prefix="faceforge-selftest-") as tmp:
        work = Path(out) if out is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        saved = _isolate(work)
        try:
            failed = _run_checks({"work": work, "keep": out is not None}, print_fn)
        finally:
            _restore(saved)
    total = process_age_s() - started
    if failed:
        print_fn(f"self-test FAILED: {', '.join(failed)} ({len(CHECKS) - len(failed)} of {len(CHECKS)} passed)")
        return 1
    print_fn(f"self-test passed: {len(CHECKS)} checks in {total:.1f} s")
    return 0


def _run_checks(state: dict, print_fn: Callable[[str], None]) -> list[str]:
    """Every check in order, one line each; the names of those that failed (or were skipped for it)."""
    failed: list[str] = []
    for name, check in CHECKS:
        if NEEDS.get(name) in failed:
            failed.append(name)
            print_fn(f"SKIP {name}: needs {NEEDS[name]}, which failed")
            continue
        t0 = time.perf_counter()
        try:
            detail = check(state)
        except Exception as exc:  # every failure is reported, none stops the other checks
            failed.append(name)
            reason = str(exc) if isinstance(exc, SelfTestFailure) else \
                "".join(traceback.format_exception_only(type(exc), exc)).strip()
            print_fn(f"FAIL {name}: {reason}")
            continue
        print_fn(f"ok   {name} ({time.perf_counter() - t0:.1f} s): {detail}")
    return failed
