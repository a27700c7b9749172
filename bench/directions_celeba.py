"""Do fitted directions change what they name, and little else? Issue #17's CelebA measurement for one run.

For a CelebA run (any model): FaceForge's attribute classifier is trained on one half of the rows (the run's
``RUN/classifier/``, ``holdout`` 0.5), directions are fitted with it (``directions/NAME.json``), and a second
classifier, the judge, is trained on the other half only: rows neither the classifier behind the fit nor the fit ever
saw. Fresh faces (another seed than the fit's) are moved +2 and -2 spreads along each direction, and the judge says:

- on-rate minus off-rate: the share of +2 faces it calls positive less the share of -2 faces it calls positive;
- the edited attribute's mean probability change from the unedited face to +2;
- leak: the mean |change| of the judge's other 39 attributes from -2 to +2 (identity in the classifier's terms);
- MS-SSIM of the +2 face to the unedited face (1: unchanged), and for Smiling the pixel RMS change outside the
  mouth (the lower-middle box of an aligned face), the identity measure the issue names.

Each edit is measured plain, with the other measured directions held still (``keep``: the QR projection), and for a
model with W on the layers the relevance ranking kept. Figures: for each attribute, faces at -2, 0 and +2.

    python bench/directions_celeba.py --run RUN [--attributes Smiling,Male,Eyeglasses] [--samples 4000]
                                      [--faces 256] [--out bench/results/directions]

Needs the shared CelebA sample the run was trained on; the run folder gets the classifier and the directions file
(as the app would write them); the judge is cached beside the project (--cache), never in it: it is learned
from CelebA, which FaceForge must not ship.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from faceforge.device import cpu_name  # noqa: E402

FIT_NAME = "celeba-bench"
MOUTH = (0.62, 0.90, 0.25, 0.75)  # rows and columns (fractions) of the mouth box on an aligned, centre-cropped face
AMOUNT = 2.0


def fit_classifier(run, *, epochs: float):
    """The run's own classifier on half the rows (kept when it already is one)."""
    from faceforge.models.classifier import classifier_dir, load_classifier
    from faceforge.training.classifier import train_for_run

    folder = classifier_dir(run.path)
    if folder.exists():
        clf = load_classifier(folder)
        if (clf.info.get("training") or {}).get("holdout") == 0.5:
            return clf
    print("training the run's classifier on half the rows…", flush=True)
    clf, _ = train_for_run(run.path, holdout=0.5, epochs=epochs)
    return clf


def judge_classifier(run, *, seed: int, epochs: float, cache: Path):
    """A classifier trained only on the rows the run's classifier held out."""
    from faceforge.data import load_dataset
    from faceforge.models.classifier import load_classifier
    from faceforge.training.classifier import split_rows, train_classifier

    if cache.exists():
        return load_classifier(cache)
    config = run.config()
    data = load_dataset(config.data.replace(attributes=["*"]))
    _, held = split_rows(len(data), 0.5, seed)
    print(f"training the judge on the {len(held)} rows the fit's classifier never saw…", flush=True)
    judge, metrics = train_classifier(np.asarray(data.images[held]), data.labels[held], names=data.attributes,
                                      resolution=config.data.resolution, seed=seed + 1, epochs=epochs, holdout=0.1)
    judge.save(cache, metadata={**judge.info, "rows": "held-out half of the run classifier's split"})
    return load_classifier(cache)


def rms_outside_mouth(a: np.ndarray, b: np.ndarray) -> float:
    h, w = a.shape[1:3]
    mask = np.ones((h, w), bool)
    r0, r1, c0, c1 = MOUTH
    mask[int(r0 * h):int(r1 * h), int(c0 * w):int(c1 * w)] = False
    d = (a.astype(np.float64) - b.astype(np.float64)) / 255.0
    return float(np.sqrt((d[:, mask] ** 2).mean()))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def measure(gen, dirs, judge, *, attributes: list[str], faces: int, seed: int) -> tuple[dict, dict]:
    from faceforge.directions import apply_edits
    from faceforge.directions.sampling import fit_resolution, sample_latents
    from faceforge.editing.ms_ssim import ms_ssim
    from faceforge.models.styles import broadcast

    latents, y = sample_latents(gen, n=faces, seed=seed)
    base = broadcast(latents, gen.num_ws) if gen.w_space else latents

    def render(lat: torch.Tensor) -> np.ndarray:
        return gen.synthesize(lat) if gen.w_space else gen.images(lat, y)

    def judged(images: np.ndarray) -> np.ndarray:
        return judge.score(fit_resolution(images, judge.resolution))

    original = render(base)
    p0 = judged(original)
    variants = {"plain": {}, "keep others": {"keep": True}}
    if gen.w_space and all((dirs.fits[a].get("layers") or {}).get("kept") for a in attributes):
        variants["relevant layers"] = {"layers": "relevant"}
        variants["relevant layers, keep others"] = {"layers": "relevant", "keep": True}
    results, strips = {}, {}
    for name in attributes:
        j = judge.names.index(name)
        others = [k for k in range(len(judge.names)) if k != j]
        results[name] = {}
        for label, how in variants.items():
            keep = [a for a in attributes if a != name] if how.get("keep") else []
            layers = how.get("layers", "all")
            plus = render(apply_edits(base, dirs, {name: AMOUNT}, keep=keep, layers=layers))
            minus = render(apply_edits(base, dirs, {name: -AMOUNT}, keep=keep, layers=layers))
            pp, pm = judged(plus), judged(minus)
            row = {"on_rate": float((pp[:, j] > 0.5).mean()), "off_rate": float((pm[:, j] > 0.5).mean()),
                   "change_to_plus": float((pp[:, j] - p0[:, j]).mean()),
                   "leak_other_39": float(np.abs(pp[:, others] - pm[:, others]).mean()),
                   "ms_ssim_plus_vs_original": float(ms_ssim(to_tensor(plus), to_tensor(original)).mean()),
                   "rms_outside_mouth": rms_outside_mouth(plus, original)}
            row["on_minus_off"] = row["on_rate"] - row["off_rate"]
            row["others_measured"] = {a: float((pp[:, judge.names.index(a)] - pm[:, judge.names.index(a)]).mean())
                                      for a in attributes if a != name}
            results[name][label] = row
            if label == "plain" or (label == "relevant layers" and gen.w_space):
                strips[(name, label)] = (minus[:8], original[:8], plus[:8])
    return results, strips


def save_figure(strips: dict, path: Path) -> None:
    """One block per (attribute, variant): rows -2, 0, +2 of the same eight faces, labelled on the left."""
    from PIL import Image, ImageDraw

    from faceforge.imaging import make_grid

    scale, label_w = 3, 190
    rows = []
    for (name, variant), (minus, orig, plus) in strips.items():
        for amount, faces in ((-AMOUNT, minus), (0.0, orig), (AMOUNT, plus)):
            rows.append((f"{name} {amount:+.0f}" + ("" if variant == "plain" else f" ({variant})"), faces))
    tiles = [Image.fromarray(make_grid(faces, ncols=len(faces))).resize(
        (make_grid(faces, ncols=len(faces)).shape[1] * scale, make_grid(faces, ncols=len(faces)).shape[0] * scale),
        Image.NEAREST) for _, faces in rows]
    sheet = Image.new("RGB", (label_w + tiles[0].width, sum(t.height for t in tiles)), "white")
    draw = ImageDraw.Draw(sheet)
    y = 0
    for (label, _), tile in zip(rows, tiles):
        sheet.paste(tile, (label_w, y))
        draw.text((6, y + tile.height // 2 - 6), label, fill="black")
        y += tile.height
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--attributes", default="Smiling,Male,Eyeglasses")
    ap.add_argument("--samples", type=int, default=4000, help="faces sampled and scored for the fit")
    ap.add_argument("--faces", type=int, default=256, help="fresh faces edited and judged")
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "directions"))
    ap.add_argument("--cache", default=str(ROOT.parent / "bench-runs" / "directions-judges"),
                    help="where the judges are kept (outside the project)")
    args = ap.parse_args()

    from faceforge.directions import FitOptions, fit_for_run
    from faceforge.directions.store import directions_dir, load_directions
    from faceforge.editing import LoadedGenerator
    from faceforge.runs import Run

    run = Run(Path(args.run))
    seed = run.config().seed
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    attributes = [a.strip() for a in args.attributes.split(",") if a.strip()]
    t0 = time.perf_counter()
    clf = fit_classifier(run, epochs=args.epochs)
    judge = judge_classifier(run, seed=seed, epochs=args.epochs, cache=Path(args.cache) / run.name)
    gen = LoadedGenerator.from_run(run)
    path = directions_dir(run.path) / f"{FIT_NAME}.json"
    if path.exists():
        dirs = load_directions(path)
    else:
        print(f"fitting {', '.join(attributes)} from {args.samples} samples…", flush=True)
        dirs, path = fit_for_run(run.path, attributes=attributes, name=FIT_NAME,
                                 options=FitOptions(samples=args.samples, seed=seed, relevance=gen.w_space))
    results, strips = measure(gen, dirs, judge, attributes=attributes, faces=args.faces, seed=seed + 7919)
    fits = {a: {k: dirs.fits[a].get(k) for k in ("val_accuracy", "remainder_accuracy", "spread")} for a in attributes}
    for a in attributes:
        fits[a]["kept_layers"] = (dirs.fits[a].get("layers") or {}).get("kept")
        fits[a]["classifier_held_out_accuracy"] = (clf.info.get("metrics") or {}).get("attributes", {}).get(
            a, {}).get("accuracy")
    judge_acc = {a: (judge.info.get("metrics") or {}).get("attributes", {}).get(a, {}).get("accuracy")
                 for a in attributes}
    report = {"run": run.name, "model": gen.config.model.name, "resolution": gen.resolution, "step": gen.step,
              "cpu": cpu_name(), "faces": args.faces, "fit_samples": args.samples, "amount": AMOUNT, "fits": fits,
              "judge_held_out_accuracy": judge_acc, "edits": results,
              "seconds": round(time.perf_counter() - t0, 1)}
    (out / f"{run.name}.json").write_text(json.dumps(report, indent=2))
    save_figure(strips, out / f"{run.name}.png")
    print(f"{run.name} ({gen.config.model.name}, step {gen.step}); CPU {cpu_name()}")
    for a in attributes:
        f = fits[a]
        print(f"  {a}: val acc {f['val_accuracy']:.2f}, judge acc {judge_acc[a]}, kept layers {f['kept_layers']}")
        for label, r in results[a].items():
            print(f"    {label:30s} on-off {r['on_minus_off']:+.2f} (on {r['on_rate']:.2f} off {r['off_rate']:.2f})"
                  f"  leak {r['leak_other_39']:.3f}  MS-SSIM {r['ms_ssim_plus_vs_original']:.3f}"
                  f"  RMS outside mouth {r['rms_outside_mouth']:.3f}")
    print(f"wrote {out / (run.name + '.json')} and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
