"""Photos into a generator, measured: cdcgan + E_z + refinement (the IcGAN path) against stylegan + W+ encoder +
projection in W+ (issue #16), on held-out CelebA faces, at equal compute.

For each model: a run trained on CelebA less the held-out faces (or one given with --cdcgan / --stylegan), its
photo encoders (trained here when the run has none for its checkpoint), then for every held-out face: the
encoder's guess, and the guess refined for the same wall time per face (``--seconds``, default) or the same number
of steps (``--equal steps``). Scores per face: pixel MSE and L1 on [-1, 1], PSNR, MS-SSIM
(faceforge/editing/ms_ssim.py). Edits: for a conditional pair of runs, each attribute of each refined face is set
to the opposite of what E_y read, and FaceForge's attribute classifier (trained on the same training faces, kept
under --cache) scores the face before and after: "target" is the mean change of the edited attribute's
probability in the asked direction, "others" the mean absolute change of the other attributes. The target is
target > others for every attribute.

    python bench/w_projection.py                                   # trains both runs (hours on a CPU)
    python bench/w_projection.py --cdcgan RUN --stylegan RUN       # runs trained elsewhere (must not have seen
                                                                   # the last --faces images of the data)
    python bench/w_projection.py --smoke                           # toy sizes, a minute: checks the plumbing only

Writes JSON (per-face scores, means, settings, CPU) to bench/results/w_projection/<stem>.json and prints a table.
Skips, saying why, when ../shared/data/celeba-10k is absent (from a git worktree, pass --data). Everything runs on
--threads torch threads (1 by default): on a loaded 2-core machine a second thread made a tiny generator's step
100x slower, which would decide an equal-time comparison by itself. The cdcgan path refines z with pixel MSE (today's
refine), the W+ path with pixel MSE + MS-SSIM, so its MS-SSIM is partly optimised for: compare the MSE and PSNR
columns and the classifier's reading of the edits too. --smoke numbers mean nothing (10 training steps).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-10k"  # beside the project, never in it
RESULTS = Path(__file__).resolve().parent / "results" / "w_projection"
CACHE = Path(__file__).resolve().parents[2] / "bench-runs" / "w_projection"


class _Subset(SimpleNamespace):
    def __len__(self):
        return len(self.images)


class StubClassifier:
    """Smoke test only: "probability" = how bright channel (j mod 3) is; its numbers mean nothing."""

    def __init__(self, n: int):
        self.n = n

    def score(self, images: np.ndarray) -> np.ndarray:
        means = images.reshape(len(images), -1, 3).mean(1) / 255.0
        return np.stack([means[:, j % 3] for j in range(self.n)], 1)


def _train_run(model: str, run_dir: Path, data, dcfg, args) -> Path:
    from faceforge.config import TrainConfig
    from faceforge.runs import Run
    from faceforge.training import resume_run, start_run
    from faceforge.training.plans import apply_model_defaults

    if Run(run_dir).latest_checkpoint() is not None:
        print(f"{model}: using {run_dir}", flush=True)
        return run_dir
    cfg = TrainConfig(seed=args.seed, name=f"bench-{model}")
    cfg.model.name = model
    apply_model_defaults(cfg)
    cfg.data.source, cfg.data.labels, cfg.data.attributes = dcfg.source, dcfg.labels, list(data.attributes)
    cfg.data.resolution = cfg.model.resolution = args.resolution
    cfg.model.g_channels = cfg.model.d_channels = args.channels
    s = cfg.schedule
    s.steps, s.batch_size = args.train_steps, args.batch
    s.sample_every = s.checkpoint_every = max(1, args.train_steps // 4)
    s.metrics_every = 0
    print(f"{model}: training {args.train_steps} steps into {run_dir}", flush=True)
    t0 = time.time()
    result = start_run(cfg, run_dir=run_dir, dataset=data)
    if result.state != "finished":
        result = resume_run(run_dir, steps=args.train_steps, dataset=data)
    print(f"{model}: {result.state} in {time.time() - t0:.0f} s", flush=True)
    return run_dir


def _encoders(run_dir: Path, gen, data, args):
    from faceforge.editing import photo_latents
    from faceforge.runs import Run

    run = Run(run_dir)
    if run.encoder_path(gen.step) not in run.encoder_files():
        t0 = time.time()
        photo_latents.train(run_dir, gen=gen, steps=args.encoder_steps, batch_size=args.encoder_batch, dataset=data)
        print(f"{gen.config.model.name}: encoders trained in {time.time() - t0:.0f} s", flush=True)
    return photo_latents.load(run_dir, gen=gen)


def reconstruct_all(gen, encoders, faces: np.ndarray, args) -> dict:
    """Encoder guess and refined latent of every face, with their scores and the time spent."""
    from faceforge.editing import photo_latents
    from faceforge.editing.ms_ssim import reconstruction_scores

    guesses, refined, latents, times, steps_done = [], [], [], [], []
    for face in faces:
        latent, y = photo_latents.encode(gen, encoders, face)
        guesses.append(gen.images(latent, y)[0])
        events = []
        t0 = time.perf_counter()
        seconds = args.seconds if args.equal == "time" else None
        steps = args.max_steps if args.equal == "time" else args.steps
        latent2, y2 = photo_latents.refine(gen, face, latent, y, steps, seconds=seconds, progress=events.append)
        times.append(time.perf_counter() - t0)
        steps_done.append(events[-1]["step"] if events else 0)
        refined.append(gen.images(latent2, y2)[0])
        latents.append((latent2, y2))
    enc_scores = reconstruction_scores(faces, np.stack(guesses))
    ref_scores = reconstruction_scores(faces, np.stack(refined))
    return {"encoder": enc_scores, "refined": ref_scores, "seconds": times, "steps": steps_done,
            "_latents": latents, "_images": np.stack(refined)}


def edit_effects(gen, latents, classifier, names) -> dict:
    """Per attribute: the mean change of its probability in the direction asked, and the mean absolute change of
    the others, over the faces (each attribute flipped from what E_y read)."""
    out = {}
    for j, name in enumerate(names):
        target, others = [], []
        for latent, y in latents:
            if y is None:
                continue
            before = classifier.score(gen.images(latent, y))[0]
            want = -1.0 if float(y[0, j]) > 0 else 1.0
            y2 = y.clone()
            y2[0, j] = want
            after = classifier.score(gen.images(latent, y2))[0]
            delta = after - before
            target.append(float(delta[j] * want))
            others.append(float(np.abs(np.delete(delta, j)).mean()) if len(names) > 1 else 0.0)
        out[name] = {"target": float(np.mean(target)) if target else None,
                     "others": float(np.mean(others)) if others else None}
    return out


def _classifier(data, args):
    if args.smoke:
        return StubClassifier(len(data.attributes))
    from faceforge.models.classifier import load_classifier
    from faceforge.training.classifier import train_classifier

    kept = args.cache / f"classifier-{args.resolution}px-{'+'.join(data.attributes)}-less{args.faces}"
    if (kept / "classifier.pt").exists():
        return load_classifier(kept)
    classifier, _ = train_classifier(np.asarray(data.images), np.asarray(data.labels), names=list(data.attributes),
                                     resolution=args.resolution, seed=0)
    classifier.save(kept)
    return classifier


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--attributes", default="Smiling,Male,Eyeglasses")
    ap.add_argument("--faces", type=int, default=100, help="held-out faces: the last N images of the data")
    ap.add_argument("--cdcgan", type=Path, help="a cdcgan run to use instead of training one")
    ap.add_argument("--stylegan", type=Path, help="a stylegan run to use instead of training one")
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--train-steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--encoder-steps", type=int, default=2000)
    ap.add_argument("--encoder-batch", type=int, default=32)
    ap.add_argument("--equal", choices=("time", "steps"), default="time",
                    help="equal compute as wall time per face (--seconds) or as steps (--steps)")
    ap.add_argument("--seconds", type=float, default=10.0, help="refinement wall time per face (--equal time)")
    ap.add_argument("--max-steps", type=int, default=100000, help="cap on steps with --equal time")
    ap.add_argument("--steps", type=int, default=200, help="refinement steps per face (--equal steps)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for everything (one: comparable times, and "
                    "tiny batches gain nothing from a second thread that waits on a busy core)")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where trained runs and the classifier are kept")
    ap.add_argument("--out", type=Path, help="the JSON file (default: bench/results/w_projection/<stem>.json)")
    ap.add_argument("--smoke", action="store_true", help="toy sizes, a stub classifier: checks the plumbing only")
    args = ap.parse_args()
    if args.smoke:
        args.resolution, args.channels, args.train_steps, args.batch = 32, 8, 10, 16
        args.encoder_steps, args.encoder_batch, args.faces, args.seconds, args.steps = 10, 8, 4, 0.3, 5
        args.cache = Path(__import__("tempfile").mkdtemp(prefix="w-projection-smoke-"))

    images_dir, labels_file = args.data / "images", args.data / "list_attr_celeba.txt"
    if not (images_dir.is_dir() and labels_file.is_file()):
        print(f"skipped: {args.data} has no images/ folder and list_attr_celeba.txt")
        return 0

    import torch

    torch.set_num_threads(args.threads)
    from faceforge.config import DataConfig
    from faceforge.data import load_dataset
    from faceforge.device import cpu_name
    from faceforge.editing.generator import LoadedGenerator

    names = args.attributes.split(",")
    dcfg = DataConfig(source=str(images_dir), labels=str(labels_file), attributes=names, resolution=args.resolution)
    ds = load_dataset(dcfg)
    n = len(ds) if not args.smoke else min(len(ds), 400)
    images, labels = np.asarray(ds.images[:n]), np.asarray(ds.labels[:n], np.float32)
    train = _Subset(images=images[:-args.faces], labels=labels[:-args.faces], attributes=list(ds.attributes),
                    name="celeba-10k")
    held_out = images[-args.faces:]
    print(f"cpu: {cpu_name()}; {len(train)} training faces, {len(held_out)} held out; threads "
          f"{torch.get_num_threads()}", flush=True)
    stem = (f"{args.resolution}px-{args.channels}ch-{args.train_steps}x{args.batch}-enc{args.encoder_steps}-"
            + (f"{args.seconds:g}s" if args.equal == "time" else f"{args.steps}steps") + ("-smoke" if args.smoke else ""))
    classifier = _classifier(train, args)
    results: dict = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                     "cpu": cpu_name(), "torch": torch.__version__, "models": {}}
    for model, given in (("cdcgan", args.cdcgan), ("stylegan", args.stylegan)):
        run_dir = given or _train_run(model, args.cache / f"{model}-{stem}", train, dcfg, args)
        gen = LoadedGenerator.from_run(run_dir)
        encoders = _encoders(run_dir, gen, train, args)
        t0 = time.time()
        rec = reconstruct_all(gen, encoders, held_out, args)
        edits = edit_effects(gen, rec.pop("_latents"), classifier, list(gen.attributes)) if gen.conditional else {}
        rec.pop("_images")
        summary = {"encoder_mse": _mean(rec["encoder"]["mse"]), "encoder_ms_ssim": _mean(rec["encoder"]["ms_ssim"]),
                   "mse": _mean(rec["refined"]["mse"]), "l1": _mean(rec["refined"]["l1"]),
                   "psnr": _mean(rec["refined"]["psnr"]), "ms_ssim": _mean(rec["refined"]["ms_ssim"]),
                   "seconds_per_face": _mean(rec["seconds"]), "steps_per_face": _mean(rec["steps"])}
        results["models"][model] = {"run": str(run_dir), "generator_step": gen.step, "w_space": gen.w_space,
                                    "summary": summary, "edits": edits, "per_face": rec}
        print(f"{model}: done in {time.time() - t0:.0f} s: " + ", ".join(f"{k} {v:.4g}" for k, v in summary.items()),
              flush=True)
    header = "| path | encoder MSE | encoder MS-SSIM | refined MSE | refined L1 | PSNR | MS-SSIM | s/face | steps/face |"
    print("\n" + header + "\n|" + "---|" * 9)
    for model, r in results["models"].items():
        s = r["summary"]
        print(f"| {model} | {s['encoder_mse']:.4f} | {s['encoder_ms_ssim']:.3f} | {s['mse']:.4f} | {s['l1']:.4f} | "
              f"{s['psnr']:.2f} | {s['ms_ssim']:.3f} | {s['seconds_per_face']:.2f} | {s['steps_per_face']:.0f} |")
        for name, e in r["edits"].items():
            if e["target"] is not None:
                print(f"|   edit {name} | target {e['target']:+.3f} | others {e['others']:.3f} | | | | | | |")
    out = args.out or RESULTS / f"{stem}.json"
    if not args.smoke or args.out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
        print(f"\nwrote {out}")
    else:
        smoke_out = args.cache / f"{stem}.json"
        smoke_out.write_text(json.dumps(results, indent=1))
        print(f"\nsmoke run: wrote {smoke_out} (not under bench/results)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
