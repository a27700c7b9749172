"""Headless commands over the same core the GUI uses: ``faceforge train | generate | dataset check | gui``.

Running ``faceforge`` with no command opens the desktop app.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from faceforge.tasks import format_duration

EPILOG = """examples:
  faceforge                                    open the desktop app
  faceforge train --data builtin:faces --model cdcgan --resolution 32 --steps 2000 --out runs/
  faceforge train --data ~/celeba/img_align_celeba --labels ~/celeba/list_attr_celeba.txt \\
                  --attributes Smiling,Male,Eyeglasses --resolution 64 --steps 20000 --out runs/
  faceforge train --resume runs/00003-celeba-10k-cdcgan64
  faceforge generate --run runs/00003-celeba-10k-cdcgan64 --n 16 --seed 7 --set Smiling=1 --out smiling.png
  faceforge generate --recipe smiling.recipe.json --out again.png
  faceforge dataset check ~/faces --labels ~/faces/labels.csv
  faceforge encoder train --run runs/00003-celeba-10k-cdcgan64          # IcGAN encoders for photo editing
  faceforge edit photo.jpg --run runs/00003-celeba-10k-cdcgan64 --set Smiling=1 --out edited.png
"""


def _crop(text: str) -> tuple[int, int, int, int]:
    try:
        box = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("crop must be LEFT,TOP,RIGHT,BOTTOM in pixels, e.g. 25,50,153,178") from None
    if len(box) != 4 or box[2] <= box[0] or box[3] <= box[1]:
        raise argparse.ArgumentTypeError("crop must be LEFT,TOP,RIGHT,BOTTOM with RIGHT>LEFT and BOTTOM>TOP")
    return box  # type: ignore[return-value]


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" only where the parser holds a real default. An option left None is decided later (by
    the config or the run) and states its default in its own help, in [brackets]; a flag or a list has none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    from faceforge import __version__

    p = argparse.ArgumentParser(prog="faceforge", description="Train face GANs and edit faces, locally.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"faceforge {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("gui", help="open the desktop app (the default when no command is given)")
    g.add_argument("path", nargs="?", help="a dataset folder/zip or a run folder to open")

    t = sub.add_parser("train", help="train a GAN (new run, or --resume an existing one)",
                       formatter_class=_HelpFormatter)
    t.add_argument("--resume", metavar="RUN", help="continue this run folder exactly where it stopped")
    t.add_argument("--config", metavar="JSON", help="start from this config.json (options below override it)")
    t.add_argument("--data", default=None, help="builtin:faces, a folder of images (recursive) or a .zip "
                   "[default: builtin:faces]")
    t.add_argument("--labels", help="attribute labels: CelebA list_attr_celeba.txt or a CSV filename,attr1,...")
    t.add_argument("--attributes", help="comma-separated attributes to condition on, or * for all "
                   "[default: all for builtin:faces, none otherwise]")
    t.add_argument("--crop", type=_crop, help="crop box LEFT,TOP,RIGHT,BOTTOM applied before resizing")
    t.add_argument("--builtin-count", type=int, help="number of built-in faces to render [10000]")
    t.add_argument("--model", help="dcgan or cdcgan [cdcgan when attributes are given, else dcgan]")
    t.add_argument("--resolution", type=int, choices=(32, 64, 128), help="image size in pixels [32]")
    t.add_argument("--channels", type=int, help="network width (DCGAN's ngf/ndf) [32 at 32 px, else 64]")
    t.add_argument("--z-dim", type=int, help="latent size [100]")
    t.add_argument("--loss", choices=("bce", "wgan-gp", "hinge"), help="GAN objective [bce]")
    t.add_argument("--n-critic", type=int, help="D steps per G step [1; 5 is usual for wgan-gp]")
    t.add_argument("--steps", type=int, help="total generator steps [2000]; with --resume, the new total")
    t.add_argument("--batch-size", type=int, help="images per step [64]")
    t.add_argument("--lr-g", type=float, help="generator learning rate [2e-4]")
    t.add_argument("--lr-d", type=float, help="discriminator learning rate [2e-4]")
    t.add_argument("--seed", type=int, help="random seed [0]")
    t.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train [auto: cuda > mps > cpu]")
    t.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                   help="auto measures this machine and picks the fastest safe one [auto]")
    t.add_argument("--log-every", type=int, help="steps between stats.jsonl rows [20]")
    t.add_argument("--sample-every", type=int, help="steps between fixed-noise sample grids [200]")
    t.add_argument("--checkpoint-every", type=int, help="steps between checkpoints [500]")
    t.add_argument("--metrics-every", type=int, help="steps between quality scores (0 = off) [500]")
    t.add_argument("--name", help="a short name added to the run folder's name")
    t.add_argument("--out", default=None, help="folder that holds the numbered run folders [user documents]")
    t.add_argument("--quiet", action="store_true", help="print only the result")
    t.add_argument("--json", action="store_true", help="print progress events as JSON lines")

    gen = sub.add_parser("generate", help="generate a grid of faces from a run or a checkpoint file",
                         formatter_class=_HelpFormatter)
    src = gen.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="a run folder (its latest checkpoint is used)")
    src.add_argument("--checkpoint", help="a FaceForge checkpoint file on its own")
    src.add_argument("--recipe", help="regenerate an image exactly from its NAME.recipe.json")
    gen.add_argument("--n", type=int, default=16, help="number of faces")
    gen.add_argument("--seed", type=int, default=0, help="noise seed")
    gen.add_argument("--set", action="append", default=[], metavar="ATTR=VALUE",
                     help="set an attribute for all faces, e.g. --set Smiling=1 (repeatable; -2..2 works)")
    gen.add_argument("--truncation", type=float, default=1.0, help="scale z towards the mean (0..1: more typical)")
    gen.add_argument("--ncols", type=int, help="grid columns [square]")
    gen.add_argument("--out", required=True, help="output PNG, or GIF to animate the faces (a NAME.recipe.json is "
                     "written beside it)")
    gen.add_argument("--device", default="cpu", help="cpu, cuda or mps")

    ds = sub.add_parser("dataset", help="dataset tools")
    dsub = ds.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    chk = dsub.add_parser("check", help="count images, sizes, bad files and label coverage")
    chk.add_argument("path", help="folder, .zip or builtin:faces")
    chk.add_argument("--labels", help="CelebA list_attr_celeba.txt or a CSV")
    chk.add_argument("--json", action="store_true", help="print the report as JSON")

    runs = sub.add_parser("runs", help="list the runs in a folder")
    runs.add_argument("folder", nargs="?", help="folder of runs [user documents]")

    enc = sub.add_parser("encoder", help="IcGAN encoders (photo -> z, y) for editing photos with a run's model")
    esub = enc.add_subparsers(dest="encoder_command", metavar="ACTION", required=True)
    etr = esub.add_parser("train", help="train E_z (on generated faces) and E_y (on the run's labelled data)",
                          formatter_class=_HelpFormatter)
    etr.add_argument("--run", required=True, help="the run folder whose latest generator the encoders invert")
    etr.add_argument("--steps", type=int, default=2000, help="training steps (one batch for each encoder per step)")
    etr.add_argument("--batch-size", type=int, default=64, help="images per step")
    etr.add_argument("--quiet", action="store_true", help="print only the result")
    etr.add_argument("--json", action="store_true", help="print progress events as JSON lines")

    ed = sub.add_parser("edit", help="edit the face in a photo: align, encode, set attributes, decode",
                        formatter_class=_HelpFormatter)
    ed.add_argument("photo", help="a photo with one face (jpg/png/...)")
    ed.add_argument("--run", required=True, help="a run folder with trained encoders (faceforge encoder train)")
    ed.add_argument("--set", action="append", default=[], metavar="ATTR=VALUE",
                    help="set an attribute, e.g. --set Smiling=1 (repeatable; -1 off, +1 on, -2..2 works)")
    ed.add_argument("--refine", type=int, default=200, metavar="STEPS",
                    help="latent optimisation steps after the encoder (keeps identity; 0 = encoder only)")
    ed.add_argument("--crop", type=_crop, help="crop box LEFT,TOP,RIGHT,BOTTOM around the face instead of automatic "
                    "alignment")
    ed.add_argument("--face", type=int, help="which face to use when the photo has several (0 = leftmost)")
    ed.add_argument("--out", required=True, help="output PNG; NAME-aligned.png, NAME-reconstruction.png and "
                    "recipes are written beside it")
    ed.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    return p


# ----------------------------------------------------------------------------------------------------------- train
def _config_from_args(args: argparse.Namespace):
    from faceforge.config import TrainConfig

    cfg = TrainConfig.load(Path(args.config)) if args.config else TrainConfig()
    d, m, s, o = cfg.data, cfg.model, cfg.schedule, cfg.optim
    if args.data is not None:
        d.source = args.data
    if args.labels is not None:
        d.labels = args.labels
    if args.attributes is not None:
        d.attributes = [a.strip() for a in args.attributes.split(",") if a.strip()]
    elif not args.config and d.source.startswith("builtin:"):
        d.attributes = ["*"]
    if args.crop is not None:
        d.crop = args.crop
    if args.builtin_count is not None:
        d.builtin_count = args.builtin_count
    if args.resolution is not None:
        m.resolution = d.resolution = args.resolution
    if args.model is not None:
        m.name = args.model
    elif not args.config:
        m.name = "cdcgan" if d.attributes else "dcgan"
    if args.channels is not None:
        m.g_channels = m.d_channels = args.channels
    elif not args.config:
        m.g_channels = m.d_channels = 32 if m.resolution == 32 else 64
    overrides = (("z_dim", m, "z_dim"), ("loss", cfg.loss, "kind"), ("n_critic", cfg.loss, "n_critic"),
                 ("steps", s, "steps"), ("batch_size", s, "batch_size"), ("lr_g", o, "lr_g"), ("lr_d", o, "lr_d"),
                 ("log_every", s, "log_every"), ("sample_every", s, "sample_every"),
                 ("checkpoint_every", s, "checkpoint_every"), ("metrics_every", s, "metrics_every"),
                 ("seed", cfg, "seed"), ("device", cfg.perf, "device"), ("precision", cfg.perf, "precision"),
                 ("name", cfg, "name"))
    for option, target, attr in overrides:  # an option given on the command line wins over --config
        if getattr(args, option) is not None:
            setattr(target, attr, getattr(args, option))
    return cfg.validate()


class _Printer:
    """Turns progress events into terminal lines (or JSON lines)."""

    def __init__(self, *, quiet: bool, as_json: bool):
        self.quiet, self.as_json = quiet, as_json
        self.total = 0
        self._last_data = 0.0

    def __call__(self, event: dict) -> None:
        from faceforge.training.loop import dump_event

        if self.as_json:
            print(dump_event(event), flush=True)
            return
        if self.quiet:
            return
        kind = event["kind"]
        if kind == "started":
            self.total = event["total_steps"]
            print(f"run: {event['run_dir']}\n  {event['perf']}", flush=True)
            if event.get("attributes"):
                print(f"  conditioned on: {', '.join(event['attributes'])}", flush=True)
        elif kind == "data":
            now = time.monotonic()
            if now - self._last_data > 1.0 or event["done"] == event["total"]:
                self._last_data = now
                print(f"  preparing data: {event['done']}/{event['total']}", flush=True)
        elif kind == "stats" and "loss_g" not in event:
            print(f"  quality at step {event['step']}: SWD {event['swd']:.1f} (lower is better), "
                  f"diversity {event['diversity']:.2f} (MS-SSIM, lower is more varied)", flush=True)
        elif kind == "stats":
            eta = (self.total - event["step"]) * event["wall"] / max(event["step"], 1)
            print(f"step {event['step']:>6}/{self.total}  loss_g {event['loss_g']:.3f}  loss_d {event['loss_d']:.3f}  "
                  f"D(x) {event['d_real']:.2f}  D(G(z)) {event['d_fake']:.2f}  {event['img_s']:.0f} img/s  "
                  f"ETA {format_duration(eta)}" + (f"  SWD {event['swd']:.1f}" if "swd" in event else ""), flush=True)
        elif kind == "health":
            print(f"  [health] {event['text']}", flush=True)
        elif kind == "message":
            print(f"  [{event['level']}] {event['text']}", flush=True)
        elif kind == "checkpoint":
            print(f"  checkpoint {Path(event['path']).name}", flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    from faceforge.runs import Run
    from faceforge.training import train

    stop = {"requested": False}

    def on_signal(signum, frame):  # first Ctrl-C: stop cleanly at a step boundary; second: abort
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        print("\nstopping at the next step (a checkpoint will be written; Ctrl-C again to abort)…", file=sys.stderr)

    signal.signal(signal.SIGINT, on_signal)
    try:
        signal.signal(signal.SIGTERM, on_signal)
    except (ValueError, OSError):
        pass
    printer = _Printer(quiet=args.quiet, as_json=args.json)
    if args.resume:
        run = Run(Path(args.resume))
        if not run.exists():
            raise UserError(f"{args.resume} is not a FaceForge run folder (no config.json)")
        result = train(None, run.path, progress=printer, should_stop=lambda: stop["requested"], steps=args.steps)
    else:
        cfg = _config_from_args(args)
        from faceforge.paths import default_runs_dir

        root = Path(args.out) if args.out else default_runs_dir()
        result = train(cfg, runs_root=root, progress=printer, should_stop=lambda: stop["requested"])
    print(f"{result.state} at step {result.step}: {result.run_dir}")
    if result.message:
        print(result.message, file=sys.stderr)
    if result.state in ("stopped", "finished"):
        print(f"resume with: faceforge train --resume {result.run_dir}" if result.state == "stopped" else
              f"generate with: faceforge generate --run {result.run_dir} --n 16 --out grid.png")
        return 0
    return 1


# -------------------------------------------------------------------------------------------------------- generate
def cmd_generate(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image

    from faceforge.editing import LoadedGenerator, parse_settings
    from faceforge.fileio import atomic_open
    from faceforge.recipes import Recipe, as_lists, recipe_path
    from faceforge.imaging import make_grid

    out = Path(args.out)
    if args.recipe:
        recipe = Recipe.load(Path(args.recipe))
        gen = LoadedGenerator.from_checkpoint(Path(recipe.checkpoint), device=args.device)
        z = torch.tensor(recipe.z, dtype=torch.float32)
        y = torch.tensor(recipe.y, dtype=torch.float32) if recipe.y is not None else None
        images = gen.images(z, y, truncation=recipe.truncation)
        ncols = recipe.ncols
    else:
        if args.run:
            from faceforge.runs import find_run

            run = find_run(args.run)
            gen = LoadedGenerator.from_run(run, device=args.device)
        else:
            gen = LoadedGenerator.from_checkpoint(Path(args.checkpoint), device=args.device)
        settings = parse_settings(args.set, gen.attributes)
        images, z, y = gen.sample(n=args.n, seed=args.seed, settings=settings, truncation=args.truncation)
        ncols = args.ncols
        recipe = Recipe(checkpoint=str(Path(gen.source).resolve()), run=str(Path(args.run).resolve()) if args.run else None,
                        seed=args.seed, n=args.n, z=as_lists(z), y=as_lists(y), truncation=args.truncation,
                        edits=settings, ncols=ncols)
    if out.suffix.lower() == ".gif":  # an animation: frames play as the recipe says (or plainly, if it is a grid's)
        from faceforge.editing.edits import save_gif

        save_gif(images, out, **(recipe.animation or {"boomerang": False}), recipe=recipe)
    else:
        grid = make_grid(images, ncols=ncols) if len(images) > 1 else images[0]
        with atomic_open(out, "wb") as fh:
            Image.fromarray(grid).save(fh, format="PNG")
        recipe.save(recipe_path(out))
    print(f"wrote {out} ({len(images)} faces at {gen.resolution} px, step {gen.step}) and {recipe_path(out).name}")
    return 0


# --------------------------------------------------------------------------------------------------------- dataset
def cmd_dataset_check(args: argparse.Namespace) -> int:
    from faceforge.data import check_dataset

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if not args.json and (now - last[0] > 1.0 or done == total):
            last[0] = now
            print(f"  checked {done}/{total}", file=sys.stderr, flush=True)

    report = check_dataset(args.path, args.labels, progress=progress)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.summary())
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from faceforge.paths import default_runs_dir
    from faceforge.runs import list_runs

    folder = Path(args.folder) if args.folder else default_runs_dir()
    runs = list_runs(folder)
    if not runs:
        print(f"no runs in {folder}")
    for run in runs:
        st = run.status()
        print(f"{run.name:40s} {st.get('state', '?'):12s} step {st.get('step', 0)}/{st.get('total_steps', '?')}")
    return 0


# --------------------------------------------------------------------------------------------------- encoder, edit
def cmd_encoder_train(args: argparse.Namespace) -> int:
    from faceforge.editing.encoders import train_encoders
    from faceforge.runs import find_run
    from faceforge.training.loop import dump_event

    run = find_run(args.run)
    stop = {"requested": False}

    def on_signal(signum, frame):  # first Ctrl-C: stop at the next step (nothing saved); second: abort
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        print("\nstopping at the next step (Ctrl-C again to abort)…", file=sys.stderr)

    signal.signal(signal.SIGINT, on_signal)

    def progress(event: dict) -> None:
        if args.json:
            print(dump_event(event), flush=True)
        elif args.quiet:
            return
        elif event["kind"] == "started":
            print(f"run: {event['run_dir']} (generator step {event['generator_step']}); E_y learns from "
                  f"{event['y_source']}", flush=True)
        elif event["kind"] == "stats":
            ly = f"  loss_y {event['loss_y']:.4f}" if event.get("loss_y") is not None else ""
            print(f"step {event['step']:>6}/{event['total_steps']}  loss_z {event['loss_z']:.4f}{ly}  "
                  f"{event['img_s']:.0f} img/s", flush=True)
        elif event["kind"] == "message":
            print(f"  [{event['level']}] {event['text']}", flush=True)

    result = train_encoders(run, steps=args.steps, batch_size=args.batch_size, progress=progress,
                            should_stop=lambda: stop["requested"])
    if result.path is None:
        print(f"{result.state} at step {result.step}: {result.message}")
        return 1
    print(f"{result.state} at step {result.step}: {result.path}")
    print(f"edit a photo with: faceforge edit PHOTO --run {run.path} --set ATTR=1 --out edited.png")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    from faceforge.editing import LoadedGenerator, parse_settings
    from faceforge.editing.align import align_face, crop_box, load_photo, template_for_data
    from faceforge.editing.edits import edit_photo, save_png
    from faceforge.editing.encoders import load_encoders
    from faceforge.runs import find_run

    run = find_run(args.run)
    gen = LoadedGenerator.from_run(run, device=args.device)
    settings = parse_settings(args.set, gen.attributes)
    encoders = load_encoders(run, generator_step=gen.step, device=args.device)
    if not encoders.matches(gen):
        print(f"  note: these encoders were trained for generator step {encoders.generator_step}, the model is at "
              f"step {gen.step}; retrain them (faceforge encoder train --run {run.path}) for the best match",
              file=sys.stderr)
    photo = load_photo(Path(args.photo))
    if args.crop is not None:
        aligned = crop_box(photo, args.crop, gen.resolution)
        print(f"cropped {args.crop} and resized to {gen.resolution} px")
    else:
        result = align_face(photo, resolution=gen.resolution, template=template_for_data(gen.config.data),
                            face=args.face)
        aligned = result.aligned
        print(result.message)
    last = [0.0]

    def progress(event: dict) -> None:
        now = time.monotonic()
        if event["kind"] == "refine" and (now - last[0] > 1.0 or event["step"] == event["total_steps"]):
            last[0] = now
            print(f"  refining: step {event['step']}/{event['total_steps']}  pixel MSE {event['loss']:.4f}",
                  file=sys.stderr, flush=True)

    edit = edit_photo(gen, encoders, aligned, settings, refine_steps=max(0, args.refine), progress=progress)
    if edit.y is not None:
        print("read from the photo: " + ", ".join(f"{a} {v:+.2f}" for a, v in zip(gen.attributes, edit.y[0].tolist())))
    out = Path(args.out)
    stem = out.with_suffix("")
    edit_recipe, recon_recipe = edit.recipes(gen, run=run.path)
    save_png(out, edit.edited, edit_recipe)
    aligned_path = save_png(stem.with_name(stem.name + "-aligned.png"), aligned)
    recon_path = save_png(stem.with_name(stem.name + "-reconstruction.png"), edit.reconstruction, recon_recipe)
    print(f"wrote {out}, {aligned_path.name}, {recon_path.name} and their recipes")
    return 0


class UserError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        from faceforge.gui.app import main as gui_main

        return gui_main(["faceforge"] + ([args.path] if getattr(args, "path", None) else []))
    handlers = {"train": cmd_train, "generate": cmd_generate, "runs": cmd_runs,
                "dataset": lambda a: cmd_dataset_check(a), "encoder": cmd_encoder_train, "edit": cmd_edit}
    from faceforge.checkpoints import CheckpointError
    from faceforge.config import ConfigError

    expected: tuple[type[BaseException], ...] = (UserError, CheckpointError, ConfigError, FileNotFoundError, ValueError)
    try:
        from faceforge.data import DatasetError
        from faceforge.tasks import Cancelled

        expected += (DatasetError,)
    except ImportError:
        Cancelled = KeyboardInterrupt  # type: ignore[misc,assignment]
    try:
        return handlers[args.command](args)
    except expected as exc:
        print(f"faceforge: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled):
        print("faceforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
