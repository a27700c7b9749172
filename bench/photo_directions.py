"""Fitted directions on encoded photos, measured (issue #17): CelebA faces encoded into a run's latent space (W+
for a model with W, z otherwise), moved +A and -A spreads along the fitted Smiling, Male and Eyeglasses
directions, and read by the run's attribute classifier (RUN/classifier).

For every face: the photo encoder's guess refined for ``--seconds`` (bench/w_projection.py's ``reconstruct_all``,
the same refinement ``faceforge edit`` runs), then each direction at +A and at -A (``faceforge edit --set
dir:NAME=A``: the W+ code or z plus A x spread x normal). Per direction, like w_projection's table for the
conditional attribute: "target" is the mean change of the edited attribute's probability in the direction asked
(from the reconstruction, both signs), "others" the mean absolute change of the other named attributes,
"others(all)" of every other attribute the classifier has, and "on-off" the probability at +A less that at -A.
Variants: the plain direction on all layers; "keep" (the others named held still: the step projected orthogonal to
their normals); "relevant" (W models whose fit ranked the layers: only those layers move). A conditional run's
edits by its attributes are bench/w_projection.py's (README: the mean-w shift's figures).

The faces are the last ``--faces`` of the classifier's own held-out rows (split_rows with the run's seed, the
share the classifier recorded), so the classifier never trained on them; the generator may have seen them.

    python bench/photo_directions.py --run RUN --faces 20            # RUN has encoders and directions
    python bench/photo_directions.py --run RUN --prepare             # copies RUN under --cache and trains a
                                                                     # photo encoder there first (never writes RUN)

Writes JSON to bench/results/photo_directions/<run>-<faces>faces.json and prints a table. Skips when the data
(../shared/data/celeba-10k) is absent.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from w_projection import DATA, reconstruct_all  # noqa: E402  (the shared helpers)

RESULTS = Path(__file__).resolve().parent / "results" / "photo_directions"


def held_out_faces(run_dir: Path, classifier, n: int) -> np.ndarray:
    """The last ``n`` of the rows the classifier held out when it was trained (its recorded share and seed)."""
    from faceforge.data import load_dataset
    from faceforge.runs import Run
    from faceforge.training.classifier import split_rows

    config = Run(run_dir).config()
    data = load_dataset(config.data.replace(attributes=["*"]))
    info = classifier.info or {}
    holdout = float((info.get("training") or {}).get("holdout", 0.1))
    seed = int(info.get("seed", config.seed))
    _, rows = split_rows(len(data), holdout, seed)
    return np.asarray(data.images)[rows[-n:]]


def prepared(run_dir: Path, args) -> Path:
    """``run_dir`` itself when it has photo encoders, else (``--prepare``) a copy under --cache with an encoder
    trained there; the given run is never written."""
    from faceforge.editing import LoadedGenerator, photo_latents

    if photo_latents.has_encoders(run_dir):
        return run_dir
    if not args.prepare:
        raise SystemExit(f"{run_dir} has no photo encoders: train them (faceforge encoder train) or pass --prepare")
    copy = args.cache / run_dir.name
    if not copy.exists():
        shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("samples"))
    if not photo_latents.has_encoders(copy):
        gen = LoadedGenerator.from_run(copy)
        t0 = time.time()
        photo_latents.train(copy, gen=gen, steps=args.encoder_steps, batch_size=args.encoder_batch,
                            progress=lambda e: print(f"  encoder step {e['step']}", flush=True)
                            if e.get("kind") == "stats" and e["step"] % 200 == 0 else None)
        print(f"encoder: {args.encoder_steps} steps in {time.time() - t0:.0f} s -> {copy}", flush=True)
    return copy


def direction_effects(gen, latents, classifier, dirs, names: list[str], *, amount: float, keep: bool = False,
                      layers: str = "all") -> dict:
    """Per direction: target, others, others(all) and on-off over the faces (see the module doc)."""
    from faceforge.directions.apply import DirectionEdit
    from faceforge.directions.sampling import fit_resolution

    cols = {name: list(classifier.names).index(name) for name in names}

    def score(latent, y):
        return classifier.score(fit_resolution(gen.images(latent, y), classifier.resolution))[0]

    out = {}
    for name in names:
        j = cols[name]
        target, others, others_all, on_off = [], [], [], []
        held = tuple(n for n in names if n != name) if keep else ()
        for latent, y in latents:
            before = score(latent, y)
            after = {}
            for sign in (1.0, -1.0):
                edit = DirectionEdit(directions=dirs, moves={name: sign * amount}, keep=held, layers=layers)
                after[sign] = score(edit(latent), y)
                delta = after[sign] - before
                target.append(float(delta[j] * sign))
                others.append(float(np.mean([abs(delta[cols[o]]) for o in names if o != name])))
                others_all.append(float(np.abs(np.delete(delta, j)).mean()))
            on_off.append(float(after[1.0][j] - after[-1.0][j]))
        out[name] = {"target": float(np.mean(target)), "others": float(np.mean(others)),
                     "others_all": float(np.mean(others_all)), "on_off": float(np.mean(on_off))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with a classifier and fitted directions")
    ap.add_argument("--directions", help="the directions file in RUN/directions/ (the newest when not given)")
    ap.add_argument("--data", type=Path, default=DATA, help="only checked for presence (the run names its data)")
    ap.add_argument("--attributes", default="Smiling,Male,Eyeglasses")
    ap.add_argument("--faces", type=int, default=20)
    ap.add_argument("--amount", type=float, default=2.0, help="spreads along each direction, both signs")
    ap.add_argument("--seconds", type=float, default=3.0, help="refinement wall time per face")
    ap.add_argument("--prepare", action="store_true", help="train a photo encoder in a copy of the run if it has none")
    ap.add_argument("--encoder-steps", type=int, default=1500)
    ap.add_argument("--encoder-batch", type=int, default=32)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "faceforge-photo-directions")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not (args.data / "images").is_dir():
        print(f"skipped: {args.data} has no images/ folder")
        return 0

    import torch

    torch.set_num_threads(args.threads)
    from faceforge.device import cpu_name
    from faceforge.directions import directions_for_run
    from faceforge.editing import LoadedGenerator, photo_latents
    from faceforge.models.classifier import classifier_dir, load_classifier

    args.cache.mkdir(parents=True, exist_ok=True)
    classifier = load_classifier(classifier_dir(args.run))
    dirs = directions_for_run(args.run, args.directions)
    names = [n for n in args.attributes.split(",") if dirs.lookup(n) and n in classifier.names]
    run_dir = prepared(args.run, args)
    gen = LoadedGenerator.from_run(run_dir)
    encoders = photo_latents.load(run_dir, gen=gen)
    faces = held_out_faces(args.run, classifier, args.faces)
    print(f"cpu: {cpu_name()}; {len(faces)} faces; directions {dirs.name} ({dirs.space}); {names}", flush=True)
    t0 = time.time()
    rec = reconstruct_all(gen, encoders, faces, SimpleNamespace(equal="time", seconds=args.seconds,
                                                                max_steps=100000, steps=0))
    latents = rec.pop("_latents")
    rec.pop("_images")
    variants = {"all layers": {}, "keep others": {"keep": True}}
    if gen.w_space and all((dirs.fits[n].get("layers") or {}).get("kept") for n in names):
        variants["relevant layers"] = {"layers": "relevant"}
        variants["relevant + keep"] = {"layers": "relevant", "keep": True}
    results = {"run": str(args.run), "encoders_in": str(run_dir), "encoder_step": encoders.generator_step,
               "encoder_steps_if_trained_here": args.encoder_steps if run_dir != args.run else None,
               "directions": dirs.path, "generator_step": gen.step, "space": dirs.space,
               "faces": len(faces), "amount": args.amount, "cpu": cpu_name(), "torch": torch.__version__,
               "reconstruction": {"mse": float(np.mean(rec["refined"]["mse"])),
                                  "ms_ssim": float(np.mean(rec["refined"]["ms_ssim"])),
                                  "seconds_per_face": float(np.mean(rec["seconds"]))},
               "variants": {v: direction_effects(gen, latents, classifier, dirs, names, amount=args.amount, **kw)
                            for v, kw in variants.items()}}
    results["seconds"] = round(time.time() - t0, 1)
    r = results["reconstruction"]
    print(f"reconstruction: MSE {r['mse']:.4f}, MS-SSIM {r['ms_ssim']:.3f}, {r['seconds_per_face']:.1f} s/face")
    print(f"\n| variant | direction | target ({args.amount:+g}/{-args.amount:+g}) | others | others (all "
          f"{len(classifier.names) - 1}) | on-off |\n|---|---|---|---|---|---|")
    for variant, per in results["variants"].items():
        for name, e in per.items():
            print(f"| {variant} | {name} | {e['target']:+.3f} | {e['others']:.3f} | {e['others_all']:.3f} | "
                  f"{e['on_off']:+.3f} |")
    out = args.out or RESULTS / f"{args.run.name}-{len(faces)}faces.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {out} in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
