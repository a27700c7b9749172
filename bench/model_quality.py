"""Which model gives the best faces for the compute: our own score (SWD x1e3, lower is better) every 100 steps for
each model and loss, on the CelebA sample beside the project, unconditional and with attributes.

    python bench/model_quality.py [--configs dcgan:bce,dcgan:hinge,msggan:rahinge,msggan:wgan-gp,progan:wgan-gp]
                                  [--attributes none,Smiling+Male] [--seeds 0,1] [--steps 1000] [--resolution 64]
    python bench/model_quality.py --report-only      # tables and figures from the runs already made

Each run is an ordinary FaceForge run folder under --runs (beside the project, never in it), named after its
settings: a finished run is reused, an interrupted one resumed. What the report needs of each run (its config,
SWD curve, img/s and final grid crop) is kept in bench/results/model_quality/ and committed, so the bench can be
run a few configurations at a time, even in different sessions on different machines, and the report always
covers every run made so far (each summary names its CPU). "dcgan" with attributes is its conditional twin (cdcgan);
msggan and progan take the attributes themselves. Losses and learning rates are each model's registry defaults
unless the loss is named. The report (--out): a markdown table (SWD at equal images seen, mean over seeds; the
worst rise of one evaluation over the one before after the first 20,000 images; img/s), an SVG plot of SWD against
images seen (one line per model, loss and conditioning), and the final sample grids side by side. Run it alone:
img/s is measured.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "celeba-10k"
RUNS = ROOT.parent / "bench-runs" / "model_quality"
OUT = ROOT / "bench" / "results"
DEFAULT_CONFIGS = "dcgan:bce,dcgan:hinge,msggan:rahinge,msggan:wgan-gp,progan:wgan-gp"
EARLY_IMAGES = 20_000  # after this many images, an evaluation should not be much worse than the one before
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22"]


def run_name(model: str, loss: str, attributes: list[str], seed: int, resolution: int, steps: int) -> str:
    cond = "+".join(attributes) if attributes else "none"
    return f"{model}-{loss}-{cond}-s{seed}-{resolution}px-{steps}"


def make_config(model: str, loss: str | None, attributes: list[str], *, seed: int, resolution: int, steps: int,
                data: Path):
    from faceforge.config import TrainConfig
    from faceforge.training.plans import apply_loss, apply_model_defaults, default_channels, fit_model

    cfg = TrainConfig(seed=seed)
    cfg.data.source = str(data / "images")
    cfg.data.labels = str(data / "list_attr_celeba.txt")
    cfg.data.attributes = list(attributes)
    cfg.model.resolution = cfg.data.resolution = resolution
    cfg.model.g_channels = cfg.model.d_channels = default_channels(resolution)
    fit_model(cfg, requested=model)
    apply_model_defaults(cfg)
    if loss:
        apply_loss(cfg, loss)  # with the settings measured for it (ProGAN's WGAN-GP: the paper's)
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every = steps, 64, 20
    s.sample_every = s.metrics_every = 100  # 6,400 images
    s.checkpoint_every = 250
    s.metrics_samples = 1024
    cfg.name = run_name(cfg.model.name, cfg.loss.kind, attributes, seed, resolution, steps)
    return cfg.validate()


def train_one(cfg, folder: Path) -> None:
    from faceforge.runs import Run
    from faceforge.training import resume_run, start_run

    def progress(event: dict) -> None:
        if event.get("kind") == "stats" and "swd" in event:
            print(f"  {cfg.name}: step {event['step']} images {event['images']} SWD {event['swd']:.1f}", flush=True)
        elif event.get("kind") == "message":
            print(f"  {cfg.name}: {event.get('text')}", flush=True)

    if folder.exists() and Run(folder).checkpoints():
        if Run(folder).status().get("state") == "finished":
            print(f"{cfg.name}: done before, reused", flush=True)
            return
        print(f"{cfg.name}: resuming", flush=True)
        resume_run(folder, progress=progress)
    else:
        print(f"{cfg.name}: training", flush=True)
        start_run(cfg, run_dir=folder, progress=progress)


SUMMARIES = OUT / "model_quality"


def summarise(folder: Path, cpu: str) -> None:
    """Keep what the report needs of a run (a few KB) where it can be committed; the run folder may not last."""
    from PIL import Image

    r = collect(folder)
    if r is None or not r["swd"]:
        return
    SUMMARIES.mkdir(parents=True, exist_ok=True)
    name = folder.name
    if r["grid"] is not None:
        res = r["config"]["model"]["resolution"]
        side = 4 * (res + 2) + 2
        Image.open(r["grid"]).convert("RGB").crop((0, 0, side, side)).save(SUMMARIES / f"{name}.png")
    summary = {"cpu": cpu, "config": r["config"], "swd": r["swd"], "img_s": r["img_s"], "wall": r["wall"],
               "step": r["step"]}
    (SUMMARIES / f"{name}.json").write_text(json.dumps(summary, indent=1) + "\n")


def load_summaries(resolution: int, steps: int) -> list[dict]:
    out = []
    for path in sorted(SUMMARIES.glob(f"*-{resolution}px-{steps}.json")):
        r = json.loads(path.read_text())
        r["swd"] = [tuple(p) for p in r["swd"]]
        png = path.with_suffix(".png")
        r["grid"] = png if png.exists() else None
        out.append(r)
    return out


def collect(folder: Path) -> dict | None:
    """SWD per images seen, the img/s and the config of one finished (or partly trained) run."""
    from faceforge.runs import Run, iter_stats

    run = Run(folder)
    if not (folder / "config.json").exists():
        return None
    config = json.loads((folder / "config.json").read_text())
    rows = list(iter_stats(run.stats_path)) if run.stats_path.exists() else []
    swd = [(int(r["images"]), float(r["swd"])) for r in rows if "swd" in r]
    speed = [float(r["img_s"]) for r in rows if "img_s" in r and r.get("step", 0) > 40]
    wall = max((float(r.get("wall", 0)) for r in rows), default=0.0)
    samples = run.samples()
    return {"config": config, "swd": swd, "img_s": statistics.median(speed) if speed else float("nan"),
            "wall": wall, "grid": samples[-1][1] if samples else None, "step": samples[-1][0] if samples else 0}


def label_of(config: dict) -> str:
    attrs = config["data"]["attributes"]
    return f"{config['model']['name']} {config['loss']['kind']}" + (f" ({', '.join(attrs)})" if attrs else "")


def worst_rise(points: list[tuple[int, float]]) -> float:
    """The largest ratio of an evaluation to the one before it after EARLY_IMAGES images (1.0 = never worse)."""
    pairs = [(b / a) for (ia, a), (ib, b) in zip(points, points[1:]) if ib > EARLY_IMAGES and a > 0]
    return max(pairs, default=float("nan"))


def group(results: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in results:
        out.setdefault(label_of(r["config"]), []).append(r)
    return out


def mean_curve(runs: list[dict]) -> list[tuple[int, float]]:
    by_images: dict[int, list[float]] = {}
    for r in runs:
        for images, value in r["swd"]:
            by_images.setdefault(images, []).append(value)
    n = len(runs)
    return [(i, statistics.fmean(v)) for i, v in sorted(by_images.items()) if len(v) == n]


def table(groups: dict[str, list[dict]], marks: list[int]) -> str:
    head = ["model, loss (attributes)", "seeds"] + [f"{m // 1000}k" for m in marks] + [
        "worst rise after 20k", "img/s", "minutes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, runs in groups.items():
        curve = dict(mean_curve(runs))
        rises = [worst_rise(r["swd"]) for r in runs]
        cells = [label, ",".join(str(r["config"]["seed"]) for r in runs)]
        cells += [f"{curve[m]:.1f}" if m in curve else "-" for m in marks]
        cells += [f"x{max(rises):.2f}" if rises and not np.isnan(max(rises)) else "-",
                  f"{statistics.fmean(r['img_s'] for r in runs):.0f}",
                  f"{statistics.fmean(r['wall'] for r in runs) / 60:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def svg_plot(groups: dict[str, list[dict]], path: Path, *, title: str) -> None:
    """SWD against images seen, one polyline per group: plain SVG, so the README shows it without a plotting
    library in the project's dependencies."""
    curves = {label: mean_curve(runs) for label, runs in groups.items()}
    curves = {k: v for k, v in curves.items() if len(v) > 1}
    if not curves:
        return
    w, h, left, right, top, bottom = 760, 420, 60, 230, 30, 45
    xs = [i for c in curves.values() for i, _ in c]
    ys = [v for c in curves.values() for _, v in c[1:]]  # the untrained step-0 score would squash the scale
    x0, x1 = 0, max(xs)
    y0, y1 = 0, max(ys) * 1.05

    def px(i: float, v: float) -> tuple[float, float]:
        return (left + (w - left - right) * (i - x0) / max(x1 - x0, 1),
                top + (h - top - bottom) * (1 - (min(v, y1) - y0) / max(y1 - y0, 1e-9)))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="18" font-size="14">{title}</text>']
    for k in range(6):
        v = y0 + (y1 - y0) * k / 5
        _, y = px(0, v)
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    for k in range(6):
        i = x0 + (x1 - x0) * k / 5
        x, _ = px(i, y0)
        parts.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">{i / 1000:.0f}k</text>')
    parts.append(f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle">images seen</text>'
                 f'<text x="14" y="{(top + h - bottom) / 2}" transform="rotate(-90 14 {(top + h - bottom) / 2})" '
                 f'text-anchor="middle">SWD x1e3 (lower is better)</text>')
    for n, (label, curve) in enumerate(curves.items()):
        colour = COLOURS[n % len(COLOURS)]
        dash = ' stroke-dasharray="6 3"' if "(" in label else ""
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (px(i, v) for i, v in curve))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}"/>')
        ly = top + 16 * n
        parts.append(f'<line x1="{w - right + 10}" x2="{w - right + 34}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                     f'stroke-width="2"{dash}/><text x="{w - right + 40}" y="{ly + 4}">{label}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def grids_figure(groups: dict[str, list[dict]], path: Path, *, faces: int = 4) -> None:
    """The top-left faces x faces of each group's first run's final grid, side by side with its name: the faces
    compared at equal images seen, as the numbers are."""
    from PIL import Image, ImageDraw

    tiles = []
    for label, runs in groups.items():
        r = runs[0]
        if r["grid"] is None:
            continue
        grid = Image.open(r["grid"]).convert("RGB")
        res = r["config"]["model"]["resolution"]
        side = faces * (res + 2) + 2  # make_grid pads 2 px between faces (a summary keeps just this corner)
        tile = grid.crop((0, 0, min(side, grid.width), min(side, grid.height)))
        zoom = max(1, round(264 / tile.width))  # 32 px faces twice as large: the faces are what is compared
        images = f"{r['config']['schedule']['batch_size'] * r['step'] // 1000}k images"
        tiles.append((label, images, tile.resize((tile.width * zoom, tile.height * zoom), Image.NEAREST)))
    if not tiles:
        return
    tw = max(t.width for _, _, t in tiles)
    th = max(t.height for _, _, t in tiles)
    per_row = min(4, len(tiles))
    rows = (len(tiles) + per_row - 1) // per_row
    sheet = Image.new("RGB", (per_row * (tw + 14) + 10, rows * (th + 44) + 10), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (label, images, tile) in enumerate(tiles):
        x, y = 10 + (n % per_row) * (tw + 14), 10 + (n // per_row) * (th + 44)
        draw.text((x, y), label, fill="black")  # two short lines: long labels ran into the next column
        draw.text((x, y + 13), images, fill="black")
        sheet.paste(tile, (x, y + 30))
    sheet.save(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help="model:loss pairs (loss empty = the model's own)")
    ap.add_argument("--attributes", default="none,Smiling+Male",
                    help="comma-separated conditionings: none, or attributes joined by +")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--runs", type=Path, default=RUNS, help="where the run folders go (never inside the project)")
    ap.add_argument("--out", type=Path, default=OUT, help="where the table, plot and grids go")
    ap.add_argument("--summarise", action="store_true", help="(re)write the summaries of the runs under --runs")
    ap.add_argument("--report-only", action="store_true", help="train nothing; report the runs already made")
    args = ap.parse_args()

    from faceforge.device import cpu_name

    plan = []
    for item in args.configs.split(","):
        model, _, loss = item.partition(":")
        for cond in args.attributes.split(","):
            attributes = [] if cond in ("", "none") else cond.split("+")
            for seed in (int(s) for s in args.seeds.split(",")):
                plan.append((model, loss or None, attributes, seed))
    if args.summarise:
        for folder in sorted(args.runs.glob(f"*-{args.resolution}px-{args.steps}")):
            summarise(folder, cpu_name())
    if not args.report_only:
        if not (args.data / "images").is_dir():
            print(f"skipped: {args.data} has no images/ folder")
            return 0
        for model, loss, attributes, seed in plan:
            cfg = make_config(model, loss, attributes, seed=seed, resolution=args.resolution, steps=args.steps,
                              data=args.data)
            train_one(cfg, args.runs / cfg.name)
            summarise(args.runs / cfg.name, cpu_name())
    results = load_summaries(args.resolution, args.steps)
    if not results:
        print("no runs yet")
        return 0
    groups = group(results)
    images = args.steps * 64
    marks = sorted({images // 10, images // 5, images * 2 // 5, images * 3 // 5, images * 4 // 5, images})
    cpus = sorted({r["cpu"] for r in results})
    text = (f"CPU: {'; '.join(cpus)}; {args.resolution} px, batch 64, {args.steps} steps; SWD x1e3 of G_ema's samples "
            f"(1,024) against 1,024 real faces, mean over seeds, at images seen:\n\n" + table(groups, marks) + "\n")
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    # the 1,000-step bench is the README's; a longer one (--steps 3000) writes its own files beside it
    stem = f"model_quality_{args.resolution}px" + ("" if args.steps == 1000 else f"_{args.steps}steps")
    (args.out / f"{stem}.md").write_text(text)
    svg_plot(groups, args.out / f"{stem}.svg", title=f"SWD against images seen, {args.resolution} px, {cpu_name()}")
    grids_figure(groups, args.out / f"{stem}_grids.png")
    print(f"wrote {args.out / stem}.md, .svg and _grids.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
